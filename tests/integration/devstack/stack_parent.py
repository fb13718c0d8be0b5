"""A parent process for the orphan tests: starts the dev stack and reports its children.

``python -m tests.integration.devstack.stack_parent hold DATA_DIR [BROKER]`` starts the stack,
prints ``{"pids": [...]}`` and sleeps until killed. ``... run DATA_DIR`` runs ``run_dev_stack`` with
``print_env`` exactly as ``clubhouse dev --no-service --print-env`` would.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from clubhouse.devstack import DevStack, DevStackConfig, run_dev_stack


def main(mode: str, data_dir: str, broker: str = "tansu") -> None:
    config = DevStackConfig(data_dir=Path(data_dir), broker=broker)
    if mode == "run":
        run_dev_stack(config, sys.stdout, print_env=True)
        return
    stack = DevStack(config).start()
    print(json.dumps({"pids": stack.child_pids()}), flush=True)
    while True:
        time.sleep(60)


if __name__ == "__main__":
    main(*sys.argv[1:4])
