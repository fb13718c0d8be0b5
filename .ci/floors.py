"""Install the exact lower bounds pyproject.toml declares, then run the unit tests on them.

A floor like ``pydantic>=2.11`` is a promise that 2.11 works; this keeps it true. The venv
lives in .venv-floors; pass pytest arguments after the script's name.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-floors"
TEST_TOOLS = ["pytest", "pytest-timeout", "hypothesis", "psutil", "jsonschema", "websockets"]


def floors(project: dict[str, object]) -> list[str]:
    """``name[extras]==floor`` for every requirement of the package and its runtime extras."""
    requirements = list(project["dependencies"])  # type: ignore[call-overload]
    extras = project["optional-dependencies"]  # type: ignore[index]
    for name in ("registry", "dev-stack", "docs"):
        requirements += extras[name]  # type: ignore[index]
    pinned = []
    for requirement in requirements:
        found = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*>=\s*([^,;\s]+)", requirement)
        if found and not found.group(1).startswith("clubhouse"):
            pinned.append(f"{found.group(1)}=={found.group(2)}")
    return pinned


def main() -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = floors(project)
    print("floors:", " ".join(pins), flush=True)
    if not (VENV / "bin" / "python").exists():
        venv.create(VENV, with_pip=True)
    python = str(VENV / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *pins, *TEST_TOOLS], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    tests = ["tests/unit", "examples", "-q", "-p", "no:cacheprovider", *sys.argv[1:]]
    return subprocess.run([python, "-m", "pytest", *tests], cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
