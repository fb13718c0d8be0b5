"""Back up and restore a schema registry over its REST API only.

Because nothing here touches the database, both directions work against Confluent Schema
Registry as well as against Clubhouse's own. An export records every subject, version
(soft-deleted ones included, and marked), schema id, schema text, reference, compatibility
level and mode. An import switches the target to IMPORT mode, registers every version with
its original id and version number (oldest id first, so references always resolve),
soft-deletes what was soft-deleted, restores configs and modes, and finally restores the
global mode from the backup. On failure it puts the target back into the mode it was in.

The backup is deterministic JSON: exporting a restored registry gives the same document.
It goes through ``RegistryHttp``, so it has every connection option the other tools have
(basic auth, bearer tokens, TLS and mTLS): a Confluent Cloud registry can be backed up too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from clubhouse.errors import ClubhouseError
from clubhouse.services.registry_http import RegistryHttp

log = logging.getLogger(__name__)

FORMAT = "clubhouse-registry-backup"
FORMAT_VERSION = 1
class BackupError(ClubhouseError):
    """A backup or restore failed on our side; the registry's own refusals and an unreachable
    registry are ``clubhouse.services.registry_errors`` types."""


class BackupFormatError(BackupError):
    """The backup document is not one this code wrote; the message names the bad part."""


def _path(*parts: str | int) -> str:
    return "/" + "/".join(quote(str(part), safe="") for part in parts)


def export_registry(http: RegistryHttp) -> dict[str, Any]:
    """Everything needed to rebuild the registry, as a JSON-ready document."""
    subjects = sorted(http.call("GET", "/subjects", params={"deleted": "true"}) or [])
    exported = []
    for subject in subjects:
        every = http.call("GET", _path("subjects", subject, "versions"), params={"deleted": "true"})
        live = set(
            http.call("GET", _path("subjects", subject, "versions"), missing=frozenset({40401}))
            or []
        )
        versions = []
        for number in sorted(every or []):
            found = http.call(
                "GET",
                _path("subjects", subject, "versions", number),
                params={"deleted": "true"},
            )
            versions.append(
                {
                    "version": int(found["version"]),
                    "id": int(found["id"]),
                    "schemaType": found.get("schemaType") or "AVRO",
                    "schema": found["schema"],
                    "references": found.get("references") or [],
                    "deleted": number not in live,
                }
            )
        config = http.call("GET", _path("config", subject), missing=frozenset({40401, 40408}))
        mode = http.call("GET", _path("mode", subject), missing=frozenset({40401, 40409}))
        exported.append(
            {
                "name": subject,
                "compatibility": config.get("compatibilityLevel") if config else None,
                "mode": mode.get("mode") if mode else None,
                "versions": versions,
            }
        )
    global_config = http.call("GET", "/config")
    global_mode = http.call("GET", "/mode")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "global": {
            "compatibility": global_config["compatibilityLevel"],
            "mode": global_mode["mode"],
        },
        "subjects": exported,
    }


# ---- import ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportReport:
    """How much an import restored: subjects, versions, soft deletes, configs and modes."""
    subjects: int
    versions: int
    soft_deleted: int
    configs: int
    modes: int


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BackupFormatError(f"Not a usable registry backup: {message}.")


def validate(backup: Any) -> dict[str, Any]:
    """``backup`` if it is a document :func:`export_registry` wrote, else BackupFormatError."""
    _require(isinstance(backup, dict), "the document is not a JSON object")
    _require(backup.get("format") == FORMAT, f"'format' is not {FORMAT!r}")
    _require(
        backup.get("format_version") == FORMAT_VERSION,
        f"'format_version' {backup.get('format_version')!r} is not {FORMAT_VERSION}",
    )
    glob = backup.get("global")
    _require(isinstance(glob, dict), "'global' is missing")
    subjects = backup.get("subjects")
    _require(isinstance(subjects, list), "'subjects' is not a list")
    for i, subject in enumerate(subjects):
        _require(
            isinstance(subject, dict) and isinstance(subject.get("name"), str),
            f"subjects[{i}] has no name",
        )
        versions = subject.get("versions")
        _require(isinstance(versions, list), f"subjects[{i}].versions is not a list")
        for j, version in enumerate(versions):
            where = f"subjects[{i}].versions[{j}]"
            _require(isinstance(version, dict), f"{where} is not an object")
            for key, kind in (("version", int), ("id", int), ("schema", str)):
                _require(isinstance(version.get(key), kind), f"{where}.{key} is missing")
    document: dict[str, Any] = backup
    return document


def import_registry(http: RegistryHttp, backup: Any, *, force: bool = False) -> ImportReport:
    """Restore ``backup`` into the registry behind ``http``, preserving ids and versions."""
    document = validate(backup)
    previous_mode = http.call("GET", "/mode")["mode"]
    http.call("PUT", "/mode", params={"force": str(force).lower()}, body={"mode": "IMPORT"})
    # A subject's own mode overrides the global one, so one left READONLY on the target
    # would refuse the import; those are switched to IMPORT too, and put back on failure.
    overridden: dict[str, str] = {}
    try:
        for subject in document["subjects"]:
            name = subject["name"]
            own = http.call("GET", _path("mode", name), missing=frozenset({40401, 40409}))
            if own and own.get("mode") != "IMPORT":
                http.call(
                    "PUT", _path("mode", name), params={"force": "true"}, body={"mode": "IMPORT"}
                )
                overridden[name] = own["mode"]
        report = _restore(http, document)
        for subject in document["subjects"]:
            name = subject["name"]
            if subject.get("mode"):
                http.call(
                    "PUT",
                    _path("mode", name),
                    params={"force": "true"},
                    body={"mode": subject["mode"]},
                )
            elif name in overridden:
                http.call("DELETE", _path("mode", name), missing=frozenset({40401, 40409}))
    except BaseException:
        for name, mode in overridden.items():
            http.call("PUT", _path("mode", name), params={"force": "true"}, body={"mode": mode})
        http.call("PUT", "/mode", params={"force": "true"}, body={"mode": previous_mode})
        raise
    final_mode = document["global"].get("mode") or previous_mode
    http.call("PUT", "/mode", params={"force": "true"}, body={"mode": final_mode})
    return report


def _restore(http: RegistryHttp, document: Mapping[str, Any]) -> ImportReport:
    entries = sorted(
        (
            (subject["name"], version)
            for subject in document["subjects"]
            for version in subject["versions"]
        ),
        key=lambda entry: (entry[1]["id"], entry[0], entry[1]["version"]),
    )
    soft_deleted = 0
    for subject, version in entries:
        answer = http.call(
            "POST",
            _path("subjects", subject, "versions"),
            body={
                "schema": version["schema"],
                "schemaType": version.get("schemaType") or "AVRO",
                "references": version.get("references") or [],
                "id": version["id"],
                "version": version["version"],
            },
        )
        if answer.get("id") != version["id"]:
            raise BackupError(
                f"Subject '{subject}' version {version['version']} was restored with id "
                f"{answer.get('id')}, not {version['id']}; the target did not honour IMPORT mode."
            )
        if version.get("deleted"):
            # Deleting right away, before later ids are registered, mirrors the source's
            # history: nothing registered after the deletion can have blocked it there.
            http.call(
                "DELETE",
                _path("subjects", subject, "versions", version["version"]),
                missing=frozenset({40406}),
            )
            soft_deleted += 1
    configs = 0
    for subject in document["subjects"]:
        if subject.get("compatibility"):
            http.call(
                "PUT",
                _path("config", subject["name"]),
                body={"compatibility": subject["compatibility"]},
            )
            configs += 1
    if document["global"].get("compatibility"):
        http.call("PUT", "/config", body={"compatibility": document["global"]["compatibility"]})
    modes = sum(1 for subject in document["subjects"] if subject.get("mode"))
    log.info(
        "registry backup restored",
        extra={"subjects": len(document["subjects"]), "versions": len(entries)},
    )
    return ImportReport(
        subjects=len(document["subjects"]),
        versions=len(entries),
        soft_deleted=soft_deleted,
        configs=configs,
        modes=modes,
    )
