"""``clubhouse dev --reload``'s watcher, on real files: Python files under the app's folder
trigger a reload; other files, and the dev stack's own data, do not."""

from __future__ import annotations

import threading
from pathlib import Path

import click
import pytest

from clubhouse.cli.dev_reload import Reloader, app_folder


def test_a_changed_python_file_is_reported_and_the_data_dir_is_not(tmp_path: Path) -> None:
    data = tmp_path / ".clubhouse"
    data.mkdir()
    (tmp_path / "app.py").write_text("x = 1\n")
    changed: list[list[str]] = []
    seen = threading.Event()
    stop = threading.Event()

    def on_change(paths: list[str]) -> None:
        changed.append(paths)
        seen.set()

    reloader = Reloader(tmp_path, on_change, stop, ignore=[data])
    reloader.start()
    try:
        (data / "scratch.py").write_text("ignored = True\n")
        (tmp_path / "notes.txt").write_text("not code\n")
        assert not seen.wait(1.5)  # neither is a change of the app's code
        (tmp_path / "app.py").write_text("x = 2\n")
        assert seen.wait(20)
    finally:
        stop.set()
        reloader.join(10)
    assert not reloader.is_alive()
    assert [Path(p).name for p in changed[0]] == ["app.py"]


def test_the_folder_is_the_app_modules_own() -> None:
    assert app_folder("clubhouse.cli.dev_reload:Reloader") == Path(
        __import__("clubhouse.cli.dev_reload").__file__  # type: ignore[arg-type]
    ).parent / "cli"
    with pytest.raises(click.UsageError, match="cannot tell which folder"):
        app_folder("not_imported_anywhere:app")
