"""``clubhouse docs build`` / ``serve`` without a registry, and the serving app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from clubhouse.cli.main import cli
from clubhouse.devstack.ports import pick_free_port
from clubhouse.docs import DocsError, DocsModel, build_site
from clubhouse.docs.serve import docs_app, listen
from tests.unit.docs.conftest import SAMPLE_MODULE


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env={"SCHEMA_REGISTRY_URL": ""})
    return result.exit_code, result.stdout, result.stderr


def test_build_writes_the_three_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    code, stdout, _ = _run("docs", "build", "--out", str(out), "--models", SAMPLE_MODULE,
                           "--topic-prefix", "shop", "--title", "Shop contracts")  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["asyncapi.yaml", "index.html", "messages.md"]
    # The 5 bases (ErrorResponse among them) and the 3 sample models: no agent model.
    assert "Documented 8 messages:" in stdout
    html = (out / "index.html").read_text()
    assert "CreateAgentCommand" not in html and "Keyed by agent" not in html
    assert "<title>Shop contracts</title>" in html and "OpenTicketCommand" in html
    assert "shop-OpenTicketCommand-value" in (out / "messages.md").read_text()
    assert "address: shop-commands" in (out / "asyncapi.yaml").read_text()


def test_build_json_summary(tmp_path: Path) -> None:
    code, stdout, _ = _run("docs", "build", "--out", str(tmp_path), "--json")
    assert code == 0
    summary = json.loads(stdout)
    assert summary["registry"] is None
    assert "CreateAgentCommand" in summary["messages"]
    assert [Path(f).name for f in summary["files"]] == ["index.html", "messages.md",
                                                        "asyncapi.yaml"]  # fmt: skip


def test_a_module_that_does_not_import_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = _run("docs", "build", "--out", str(tmp_path), "--models", "no.such.mod")
    assert code == 2 and "no.such.mod" in stderr


def test_an_unwritable_output_directory_fails_with_its_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, stderr = _run("docs", "build", "--out", str(blocker / "site"))
    assert code == 1
    assert f"cannot create the output directory {blocker / 'site'}" in stderr


def test_an_unreachable_registry_is_a_configuration_error(tmp_path: Path) -> None:
    port = pick_free_port()  # nothing listens on it
    url = f"http://127.0.0.1:{port}"
    code, _, stderr = _run("docs", "build", "--out", str(tmp_path / "site"), "--url", url)
    assert code == 2
    assert f"127.0.0.1:{port}" in stderr
    assert not (tmp_path / "site").exists()  # nothing half-written


def test_help_has_examples() -> None:
    for command in (["docs"], ["docs", "build"], ["docs", "serve"]):
        code, stdout, _ = _run(*command, "--help")
        assert code == 0 and "Examples:" in stdout


def test_the_app_serves_every_page_with_its_type(docs: DocsModel) -> None:
    client = TestClient(docs_app(build_site(docs)))
    root = client.get("/")
    assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    assert "OpenTicketCommand" in root.text
    assert client.get("/index.html").text == root.text
    assert client.get("/messages.md").headers["content-type"].startswith("text/markdown")
    assert client.get("/asyncapi.yaml").text.startswith("asyncapi: 3.0.0")
    missing = client.get("/secrets.txt")
    assert missing.status_code == 404 and "/index.html" in missing.text


def test_listen_names_the_address_it_could_not_take(taken_port: int) -> None:
    with pytest.raises(DocsError, match=f"cannot listen on 127.0.0.1:{taken_port}"):
        listen("127.0.0.1", taken_port)
