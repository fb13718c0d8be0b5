"""Where the broker and registry are: flags, then environment, then a running dev stack.

``clubhouse dev`` writes ``.clubhouse/dev.env`` while it runs, so ``clubhouse send`` and the
other client commands find it from the same directory with no flags at all.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

DEV_ENV_FILE = Path(".clubhouse") / "dev.env"


def write_dev_env(path: Path, env: Mapping[str, str]) -> None:
    """Record a running stack's variables as ``export`` lines a shell can ``source``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()))


def read_dev_env(path: Path = DEV_ENV_FILE) -> dict[str, str]:
    """The variables a running ``clubhouse dev`` recorded, or an empty dict."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    found: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def resolve(flag: str | None, env_var: str, dev_env: Mapping[str, str]) -> str | None:
    """A flag, else its environment variable, else what the dev stack recorded."""
    return flag or os.environ.get(env_var) or dev_env.get(env_var)
