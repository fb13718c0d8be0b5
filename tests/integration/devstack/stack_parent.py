"""A parent process for the orphan tests: starts the dev stack and reports its children.

``python -m tests.integration.devstack.stack_parent hold DATA_DIR [BROKER]`` starts the stack,
prints ``{"pids": [...]}`` and sleeps until killed. ``... run DATA_DIR [BROKER]`` is
``clubhouse dev --no-service`` itself, the path users run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from clubhouse.cli.main import main as clubhouse
from clubhouse.devstack import DevStack, DevStackConfig


def main(mode: str, data_dir: str, broker: str = "tansu") -> None:
    if mode == "run":
        sys.argv = ["clubhouse", "dev", "--no-service", "--data-dir", data_dir,
                    "--broker", broker]  # fmt: skip
        clubhouse()
        return
    config = DevStackConfig(data_dir=Path(data_dir), broker=broker)
    stack = DevStack(config).start()
    print(json.dumps({"pids": stack.child_pids()}), flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(*sys.argv[1:4])
