"""Back up a schema registry over its REST API only; the backup format and its errors.

Because nothing here touches the database, export (and import,
:mod:`clubhouse.services.registry_restore`, which reads a backup with
:mod:`clubhouse.services.registry_backup_reader`) work against Confluent Schema Registry as
well as against Clubhouse's own. An export records every subject, version (soft-deleted ones
included, and marked), schema id, schema text, reference, compatibility level and mode.

The backup is deterministic JSON: exporting a restored registry gives the same document.
It goes through ``RegistryHttp``, so it has every connection option the other tools have
(basic auth, bearer tokens, TLS and mTLS): a Confluent Cloud registry can be backed up too.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from clubhouse.errors import ClubhouseError
from clubhouse.services.registry_http import RegistryHttp

FORMAT = "clubhouse-registry-backup"
FORMAT_VERSION = 1


class BackupError(ClubhouseError):
    """A backup or restore failed on our side; the registry's own refusals and an unreachable
    registry are ``clubhouse.services.registry_errors`` types."""


class BackupFormatError(BackupError):
    """The backup document is not one this code wrote; the message names the bad part."""


def api_path(*parts: str | int) -> str:
    """A REST path from its parts, each one percent-encoded (a subject may hold '/')."""
    return "/" + "/".join(quote(str(part), safe="") for part in parts)


def export_registry(http: RegistryHttp) -> dict[str, Any]:
    """Everything needed to rebuild the registry, as a JSON-ready document."""
    subjects = sorted(http.call("GET", "/subjects", params={"deleted": "true"}) or [])
    exported = []
    for subject in subjects:
        every = http.call(
            "GET", api_path("subjects", subject, "versions"), params={"deleted": "true"}
        )
        live = set(
            http.call("GET", api_path("subjects", subject, "versions"), missing=frozenset({40401}))
            or []
        )
        versions = []
        for number in sorted(every or []):
            found = http.call(
                "GET",
                api_path("subjects", subject, "versions", number),
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
        config = http.call("GET", api_path("config", subject), missing=frozenset({40401, 40408}))
        mode = http.call("GET", api_path("mode", subject), missing=frozenset({40401, 40409}))
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
