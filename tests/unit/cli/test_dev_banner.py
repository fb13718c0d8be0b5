"""The dev banner's hints come from the app being served and from where the user is."""

from __future__ import annotations

from pathlib import Path

import pytest

from clubhouse.cli.dev_cmd import try_it
from tests.unit.application.shop import app as shop


def test_the_hints_name_the_apps_own_commands_with_example_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .venv here
    text = try_it("shop:app", shop)
    assert "source .venv/bin/activate" not in text
    data = """'{"order_id": "order-1", "item": "x"}'"""
    assert f"send PlaceOrderCommand --app shop:app --data {data}" in text
    assert "send CancelOrderCommand --app shop:app" in text
    assert "<CommandModel>" not in text and "create-agent" not in text


def test_without_an_app_the_hints_are_the_agents_and_activate_where_a_venv_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "activate").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(tmp_path / ".venv" / "bin" / "clubhouse")])
    (tmp_path / ".venv" / "bin" / "clubhouse").write_text("")
    text = try_it(None, None)
    assert "  source .venv/bin/activate\n" in text
    assert "  clubhouse send create-agent --agent-id a1\n" in text
