"""Restore a checked backup into a registry, all or nothing, over the REST API only.

The backup has been read and checked whole before this runs
(:mod:`clubhouse.services.registry_backup_reader`), so nothing is written for a backup that
could not be used. The target is switched to IMPORT mode; every version is registered with
its original id and version number (oldest id first, so references always resolve), what was
soft-deleted is soft-deleted again, configs and modes are restored, and the global mode from
the backup is set last.

A REST API has no transaction spanning many requests, so all or nothing is kept by undoing:
every change is noted before it is made, and on any failure, the last step included, the
versions this import created are deleted (soft, then permanently, newest id first, so a
referrer always goes before what it references) and every config and mode it changed,
global ones included, is put back. A retry then meets the registry as it was, and needs no
``--force``. Schema ids a failed import used may stay reserved in the target, as after any
permanent delete, but no schema is reachable under them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from clubhouse.services.registry_backup import BackupError, api_path
from clubhouse.services.registry_backup_reader import Backup, BackupSubject
from clubhouse.services.registry_http import RegistryHttp

log = logging.getLogger(__name__)

_NO_SUBJECT = frozenset({40401})
_NO_CONFIG = frozenset({40401, 40408})
_NO_MODE = frozenset({40401, 40409})
_NO_VERSION = frozenset({40401, 40402})
_ALREADY_SOFT_DELETED = frozenset({40406})


@dataclass(frozen=True, slots=True)
class ImportReport:
    """How much an import restored: subjects, versions, soft deletes, configs and modes."""

    subjects: int
    versions: int
    soft_deleted: int
    configs: int
    modes: int


class ImportUndone(BackupError):
    """The import failed and everything it had written was taken back; ``cause`` says why."""

    def __init__(self, cause: Exception) -> None:
        self.cause = cause
        super().__init__(
            f"{cause}. The import was undone: nothing of the backup was kept, and the "
            "registry's configs and modes are as they were; fix the cause and run it again."
        )


class ImportUndoFailed(BackupError):
    """The import failed and undoing it failed too; the message says what may be left."""


@dataclass
class _Undo:
    """What the import changed, noted before each change, and how to take it all back."""

    http: RegistryHttp
    global_mode: str
    global_config: str | None = None
    config_changed: bool = False
    # subject -> its own value before the import (None: it had none).
    subject_configs: dict[str, str | None] = field(default_factory=dict)
    subject_modes: dict[str, str | None] = field(default_factory=dict)
    created: list[tuple[str, int]] = field(default_factory=list)

    def run(self) -> list[str]:
        """Take back every noted change; the problems met on the way (empty when none)."""
        problems: list[str] = []

        def attempt(
            what: str,
            method: str,
            path: str,
            *,
            params: dict[str, str] | None = None,
            body: dict[str, str] | None = None,
            missing: frozenset[int] = frozenset(),
        ) -> None:
            try:
                self.http.call(method, path, params=params, body=body, missing=missing)
            except Exception as exc:  # each step is tried, whatever the one before did
                problems.append(f"{what}: {exc}")

        force = {"force": "true"}
        attempt("switch the registry to IMPORT", "PUT", "/mode", params=force,
                body={"mode": "IMPORT"})  # fmt: skip
        # A subject left READONLY (its backup mode) would refuse the deletes.
        for subject in {s for s, _ in self.created} | set(self.subject_modes):
            attempt(f"switch '{subject}' to IMPORT", "PUT", api_path("mode", subject),
                    params=force, body={"mode": "IMPORT"})  # fmt: skip
        for subject, version in reversed(self.created):
            at = api_path("subjects", subject, "versions", version)
            attempt(f"delete '{subject}' version {version}", "DELETE", at,
                    missing=_ALREADY_SOFT_DELETED | _NO_VERSION)  # fmt: skip
            attempt(f"permanently delete '{subject}' version {version}", "DELETE", at,
                    params={"permanent": "true"}, missing=_NO_VERSION)  # fmt: skip
        for subject, config in self.subject_configs.items():
            if config is None:
                attempt(f"remove '{subject}' config", "DELETE", api_path("config", subject),
                        missing=_NO_CONFIG)  # fmt: skip
            else:
                attempt(f"restore '{subject}' config", "PUT", api_path("config", subject),
                        body={"compatibility": config})  # fmt: skip
        if self.config_changed and self.global_config is not None:
            attempt("restore the global config", "PUT", "/config",
                    body={"compatibility": self.global_config})  # fmt: skip
        for subject, mode in self.subject_modes.items():
            if mode is None:
                attempt(f"remove '{subject}' mode", "DELETE", api_path("mode", subject),
                        missing=_NO_MODE)  # fmt: skip
            else:
                attempt(f"restore '{subject}' mode", "PUT", api_path("mode", subject),
                        params=force, body={"mode": mode})  # fmt: skip
        created = {s for s, _ in self.created}
        for subject in created - set(self.subject_modes):
            attempt(f"remove '{subject}' mode", "DELETE", api_path("mode", subject),
                    missing=_NO_MODE)  # fmt: skip
        attempt("restore the global mode", "PUT", "/mode", params=force,
                body={"mode": self.global_mode})  # fmt: skip
        return problems


def import_registry(http: RegistryHttp, backup: Backup, *, force: bool = False) -> ImportReport:
    """Restore ``backup`` into the registry behind ``http``, preserving ids and versions.

    All or nothing: on any failure what was written is undone and ImportUndone is raised
    (ImportUndoFailed if undoing failed too, naming what may be left). A refusal to switch
    the target to IMPORT mode (a non-empty target without ``force``) writes nothing and is
    raised as the registry's own error.
    """
    previous_mode = http.call("GET", "/mode")["mode"]
    http.call("PUT", "/mode", params={"force": str(force).lower()}, body={"mode": "IMPORT"})
    undo = _Undo(http, previous_mode)
    try:
        report = _restore(http, backup, undo)
    except BaseException as exc:
        problems = undo.run()
        if problems:
            raise ImportUndoFailed(
                f"{exc}. Undoing the import failed too, so part of the backup may be left in "
                f"the registry: {'; '.join(problems[:5])}"
                + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else "")
            ) from exc
        log.info("registry import undone", extra={"cause": str(exc)})
        if isinstance(exc, Exception):
            raise ImportUndone(exc) from exc
        raise
    return report


def _restore(http: RegistryHttp, backup: Backup, undo: _Undo) -> ImportReport:
    existing = set(http.call("GET", "/subjects", params={"deleted": "true"}) or [])
    undo.global_config = http.call("GET", "/config").get("compatibilityLevel")
    had: set[tuple[str, int]] = set()
    for subject in backup.subjects:
        name = subject.name
        if name in existing:
            numbers = http.call("GET", api_path("subjects", name, "versions"),
                                params={"deleted": "true"}, missing=_NO_SUBJECT)  # fmt: skip
            had.update((name, int(n)) for n in numbers or [])
        own = http.call("GET", api_path("mode", name), missing=_NO_MODE)
        # A subject's own mode overrides the global one, so one left READONLY on the target
        # would refuse the import; it is switched to IMPORT too, and put back on failure.
        if own and own.get("mode") != "IMPORT":
            undo.subject_modes[name] = own["mode"]
            http.call("PUT", api_path("mode", name), params={"force": "true"},
                      body={"mode": "IMPORT"})  # fmt: skip
        elif own:
            undo.subject_modes.setdefault(name, own["mode"])

    soft_deleted = 0
    for version in backup.versions:
        key = (version.subject, version.version)
        if key not in had:
            undo.created.append(key)  # noted first: a lost answer may still have written it
        answer = http.call("POST", api_path("subjects", version.subject, "versions"),
                           body=version.body())  # fmt: skip
        if answer.get("id") != version.id:
            raise BackupError(
                f"Subject '{version.subject}' version {version.version} was restored with id "
                f"{answer.get('id')}, not {version.id}; the target did not honour IMPORT mode"
            )
        if version.deleted:
            # Deleting right away, before later ids are registered, mirrors the source's
            # history: nothing registered after the deletion can have blocked it there.
            http.call("DELETE", api_path("subjects", version.subject, "versions", version.version),
                      missing=_ALREADY_SOFT_DELETED)  # fmt: skip
            soft_deleted += 1

    configs = _restore_configs(http, backup, undo)
    modes = _restore_modes(http, backup.subjects, undo)
    # Last: once the backup's global mode is set, nothing is left that could fail.
    http.call("PUT", "/mode", params={"force": "true"},
              body={"mode": backup.mode or undo.global_mode})  # fmt: skip
    log.info(
        "registry backup restored",
        extra={"subjects": len(backup.subjects), "versions": len(backup.versions)},
    )
    return ImportReport(
        subjects=len(backup.subjects),
        versions=len(backup.versions),
        soft_deleted=soft_deleted,
        configs=configs,
        modes=modes,
    )


def _restore_configs(http: RegistryHttp, backup: Backup, undo: _Undo) -> int:
    configs = 0
    for subject in backup.subjects:
        if subject.compatibility:
            if subject.name not in undo.subject_configs:
                own = http.call("GET", api_path("config", subject.name), missing=_NO_CONFIG)
                undo.subject_configs[subject.name] = own.get("compatibilityLevel") if own else None
            http.call("PUT", api_path("config", subject.name),
                      body={"compatibility": subject.compatibility})  # fmt: skip
            configs += 1
    if backup.compatibility:
        undo.config_changed = True
        http.call("PUT", "/config", body={"compatibility": backup.compatibility})
    return configs


def _restore_modes(http: RegistryHttp, subjects: tuple[BackupSubject, ...], undo: _Undo) -> int:
    modes = 0
    for subject in subjects:
        if subject.mode:
            undo.subject_modes.setdefault(subject.name, None)
            http.call("PUT", api_path("mode", subject.name), params={"force": "true"},
                      body={"mode": subject.mode})  # fmt: skip
            modes += 1
        elif subject.name in undo.subject_modes:
            http.call("DELETE", api_path("mode", subject.name), missing=_NO_MODE)
    return modes
