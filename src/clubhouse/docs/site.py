"""The three outputs together: render them in memory, or write them to a directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from clubhouse.docs.asyncapi import render_asyncapi
from clubhouse.docs.errors import DocsError
from clubhouse.docs.html import render_html
from clubhouse.docs.markdown import render_markdown
from clubhouse.docs.model import DocsModel

SITE_FILES = ("index.html", "messages.md", "asyncapi.yaml")

CONTENT_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "messages.md": "text/markdown; charset=utf-8",
    "asyncapi.yaml": "application/yaml; charset=utf-8",
}


def build_site(docs: DocsModel) -> dict[str, str]:
    """File name -> content for every output."""
    return {
        "index.html": render_html(docs),
        "messages.md": render_markdown(docs),
        "asyncapi.yaml": render_asyncapi(docs),
    }


def write_site(site: Mapping[str, str], out_dir: Path) -> list[Path]:
    """Write ``site`` into ``out_dir`` (created if missing); returns the paths written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DocsError(f"cannot create the output directory {out_dir}: {exc.strerror}") from exc
    written: list[Path] = []
    for name, content in site.items():
        path = out_dir / name
        try:
            path.write_text(content, encoding="utf-8")
        except OSError as exc:
            raise DocsError(f"cannot write {path}: {exc.strerror}") from exc
        written.append(path)
    return written
