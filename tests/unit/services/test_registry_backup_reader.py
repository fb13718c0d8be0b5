"""Reading a registry backup: checked whole before anything is written, streamed, and every
refusal names what is wrong and where."""

from __future__ import annotations

import copy
import io
import json
import tracemalloc
from typing import Any

import pytest

from clubhouse.services.registry_backup import BackupFormatError
from clubhouse.services.registry_backup_reader import (
    MAX_DEPTH,
    MAX_IMPORT_ID,
    backup_from_document,
    read_backup,
)


def _schema(name: str) -> str:
    return json.dumps({"type": "record", "name": name, "fields": [{"name": "a", "type": "int"}]})


def _document() -> dict[str, Any]:
    return {
        "format": "clubhouse-registry-backup",
        "format_version": 1,
        "global": {"compatibility": "FULL", "mode": "READWRITE"},
        "subjects": [
            {
                "name": "b",
                "compatibility": "NONE",
                "mode": "READONLY",
                "versions": [
                    {"version": 1, "id": 3, "schema": _schema("B"), "deleted": True},
                    {
                        "version": 2,
                        "id": 2,
                        "schemaType": "AVRO",
                        "schema": _schema("A"),
                        "references": [{"name": "x.A", "subject": "a", "version": 1}],
                        "deleted": False,
                    },
                ],
            },
            {"name": "a", "versions": [{"version": 1, "id": 1, "schema": _schema("A")}]},
        ],
    }


def _read(document: Any) -> Any:
    return read_backup(io.BytesIO(json.dumps(document).encode()))


def test_a_streamed_backup_reads_the_same_as_a_decoded_one_oldest_id_first() -> None:
    streamed, decoded = _read(_document()), backup_from_document(_document())
    assert streamed == decoded
    assert [(v.id, v.subject, v.version) for v in streamed.versions] == [
        (1, "a", 1),
        (2, "b", 2),
        (3, "b", 1),
    ]
    assert (streamed.compatibility, streamed.mode) == ("FULL", "READWRITE")
    assert [s.name for s in streamed.subjects] == ["b", "a"]
    body = streamed.versions[1].body()
    assert body["references"] == [{"name": "x.A", "subject": "a", "version": 1}]
    assert body["schema"] == _schema("A") and body["id"] == 2 and body["version"] == 2
    assert streamed.versions[2].deleted and not streamed.versions[0].deleted


def _set(path: str, value: Any) -> dict[str, Any]:
    document = _document()
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return document


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (
            _set("subjects.0.versions.0.id", MAX_IMPORT_ID + 1),
            "subjects[0].versions[0].id is 2147483647",
        ),
        (_set("subjects.0.versions.0.id", 0), "subjects[0].versions[0].id is 0"),
        (
            _set("subjects.0.versions.0.id", True),
            "subjects[0].versions[0].id is True, not an integer",
        ),
        (
            _set("subjects.0.versions.0.version", 2),
            "subjects[0].versions[1].version 2 appears twice",
        ),
        (
            _set("subjects.1.versions.0.id", 3),
            "subjects[1].versions[0].id 3 holds another schema than at subjects[0].versions[0].id",
        ),
        (_set("subjects.1.name", "b"), "subjects[1].name 'b' appears twice"),
        (_set("subjects.0.compatibility", "SOMETIMES"), "subjects[0].compatibility is 'SOMETIMES'"),
        (_set("global.mode", "READWRITEX"), "global.mode is 'READWRITEX'"),
        (_set("global.compatibility", 7), "global.compatibility is 7"),
        (
            _set("subjects.0.versions.1.schemaType", "XML"),
            "subjects[0].versions[1].schemaType is 'XML'",
        ),
        (_set("subjects.0.versions.1.references.0.version", "1"), "references[0].version is '1'"),
        (_set("subjects.0.versions.0.deleted", "yes"), "subjects[0].versions[0].deleted is 'yes'"),
        (_set("subjects.0.versions.0.schema", None), "subjects[0].versions[0].schema is missing"),
        (_set("format", "other"), "'format' is 'other'"),
        (_set("format_version", 2), "'format_version' is 2"),
        (_set("subjects", {}), "'subjects' is missing or not a list"),
        (_set("global", []), "'global' is not an object"),
        ([], "the document is not a JSON object"),
    ],
)
def test_a_bad_backup_is_refused_naming_what_and_where(document: Any, fragment: str) -> None:
    for read in (_read, backup_from_document):
        with pytest.raises(BackupFormatError) as info:
            read(copy.deepcopy(document))
        assert fragment in str(info.value), str(info.value)
        assert str(info.value).startswith("Not a usable registry backup: ")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"nope", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"format": "clubhouse-registry-backup"', "not valid JSON"),
        (b'{"format": "\xff"}', "not valid JSON"),
        (
            b'{"subjects": [{"versions": [{"id": 1,',
            r"not valid JSON at subjects\[0\]\.versions\[0\]\.id",
        ),
        (b"{} {}", "not valid JSON"),
    ],
)
def test_text_that_is_not_json_is_refused_cleanly(text: bytes, fragment: str) -> None:
    with pytest.raises(BackupFormatError, match=fragment):
        read_backup(io.BytesIO(text))


def test_deep_nesting_is_refused_at_the_limit_naming_where_without_recursing() -> None:
    depth = 200_000
    document = _document()
    document["subjects"][1]["extra"] = "NEST"
    text = json.dumps(document).replace('"NEST"', "[" * depth + "]" * depth).encode()
    with pytest.raises(BackupFormatError) as info:
        read_backup(io.BytesIO(text))
    message = str(info.value)
    assert f"nested deeper than {MAX_DEPTH} levels" in message
    assert message.startswith("Not a usable registry backup: subjects[1].extra[0][0]")
    # Deep nesting outside the subjects is caught too, and a legitimate backup's 7 levels pass.
    with pytest.raises(BackupFormatError, match=r"'global'|global\.x\[0\]"):
        read_backup(io.BytesIO(b'{"global": {"x": ' + b"[" * depth + b"]" * depth + b"}}"))


def test_a_large_backup_is_read_in_about_its_own_size_of_memory() -> None:
    # Non-ASCII docs, as export writes them: json.load would hold the text at 2 bytes a
    # character and every schema again, several times the file in all.
    doc = "documentation du champ \u00e9t\u00e9 \u2713"
    fields = [{"name": f"f{i}", "type": "string", "doc": f"{doc} {i}"} for i in range(300)]
    subjects = [
        {
            "name": f"s{n}",
            "versions": [
                {
                    "version": 1,
                    "id": n + 1,
                    "schema": json.dumps({"type": "record", "name": f"R{n}", "fields": fields}),
                }
            ],
        }
        for n in range(400)
    ]
    document = _document() | {"subjects": subjects}
    text = json.dumps(document, ensure_ascii=False).encode()
    del document, subjects
    assert len(text) > 8_000_000
    stream = io.BytesIO(text)
    tracemalloc.start()
    try:
        backup = read_backup(stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(backup.versions) == 400
    assert peak < 1.5 * len(text), (peak, len(text))
