"""A command whose optional extra is not installed says which extra to install (exit 2)."""

from __future__ import annotations

import subprocess
import sys

from clubhouse.extras import missing_extra_hint

# Runs the CLI with the registry's web stack hidden, as in an image without the extra.
HIDDEN = """
import sys
for name in ("starlette", "uvicorn", "httptools"):
    sys.modules[name] = None
sys.argv = ["clubhouse", "registry", "serve", "--port", "0", "--db", sys.argv[1]]
from clubhouse.cli.main import main
main()
"""


def test_a_missing_extra_is_named_with_its_install_command(tmp_path: object) -> None:
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN, f"{tmp_path}/r.db"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "pip install 'clubhouse[registry]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_other_missing_modules_are_not_ours_to_explain() -> None:
    assert missing_extra_hint(ModuleNotFoundError("x", name="numpy")) is None
    hint = missing_extra_hint(ModuleNotFoundError("x", name="jinja2.ext"))
    assert hint is not None and "clubhouse[docs]" in hint
