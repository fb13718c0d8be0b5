"""Options that name a module import it from the working directory, as ``python -m`` would."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import pytest

from clubhouse.cli.serving import ServiceOptions, service_config
from clubhouse.services.schema_registry import RegistrySettings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory, and not on sys.path (as from a console script)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    return tmp_path


def config_for(factory: str) -> object:
    return service_config(
        ServiceOptions(agent_factory=factory),
        model_modules=(),
        topic_prefix="clubhouse",
        bootstrap_servers="localhost:9092",
        registry=RegistrySettings(urls=["http://localhost:8081"]),
        registry_wait_s=0.0,
        dev_tuning=False,
        default_state_dir=Path("state"),
    )


def test_agent_factory_is_found_in_the_working_directory(project: Path) -> None:
    (project / "cwd_agents_mod.py").write_text("def make(spec):\n    return None\n")
    config = config_for("cwd_agents_mod:make")
    factory = config.agent_factory  # type: ignore[attr-defined]
    assert factory.__module__ == "cwd_agents_mod" and factory.__name__ == "make"


def test_agent_factory_with_a_syntax_error_names_file_and_line(project: Path) -> None:
    (project / "cwd_broken_agents.py").write_text("\n\ndef make(:\n")
    with pytest.raises(click.UsageError) as caught:
        config_for("cwd_broken_agents:make")
    assert "cwd_broken_agents.py:3" in caught.value.message
