"""Soft and hard deletes of subjects and versions, with Confluent's rules: a hard delete needs
a soft delete first, and a version still referenced cannot go."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from clubhouse.registry.core import (
    COMPATIBILITY_SETTING,
    LATEST,
    MODE_SETTING,
    RegistryCore,
)
from clubhouse.registry.errors import (
    ApiError,
    ErrorCode,
    subject_not_found,
    version_not_found,
)
from clubhouse.registry.store import Transaction

log = logging.getLogger(__name__)


class Deletions(RegistryCore):
    """Deleting subjects and versions."""

    @staticmethod
    def _check_unreferenced(
        tx: Transaction,
        subject: str,
        versions: Sequence[int],
        *,
        include_deleted: bool,
        whole_subject: bool,
    ) -> None:
        for version in versions:
            for referrer in tx.referrers(subject, version, include_deleted=include_deleted):
                users = tx.subject_versions_of_schema(referrer, include_deleted=include_deleted)
                if whole_subject and all(u.subject == subject for u in users):
                    continue  # the subject is going away together with its referrer
                where = ", ".join(f"{u.subject} v{u.version}" for u in users)
                raise ApiError(
                    422,
                    ErrorCode.REFERENCE_EXISTS,
                    f"Version {version} of subject '{subject}' is referenced by schema id "
                    f"{referrer} ({where}); delete those first.",
                )

    def delete_subject(self, subject: str, *, permanent: bool) -> list[int]:
        """Soft-delete ``subject`` (or hard-delete it, once soft-deleted); returns its versions."""
        doomed = self._store.write_grouped(
            lambda tx: self._delete_subject(tx, subject, permanent=permanent)
        )
        log.info(
            "subject deleted",
            extra={"subject": subject, "versions": doomed, "permanent": permanent},
        )
        return doomed

    def _delete_subject(self, tx: Transaction, subject: str, *, permanent: bool) -> list[int]:
        self._require_writable(tx, subject)
        every = tx.versions(subject, include_deleted=True)
        if not every:
            raise subject_not_found(subject)
        live = [sv.version for sv in every if not sv.deleted]
        if permanent:
            if live:
                raise ApiError(
                    404,
                    ErrorCode.SUBJECT_NOT_SOFT_DELETED,
                    f"Subject '{subject}' was not deleted first before being permanently deleted",
                )
            doomed = [sv.version for sv in every]
            self._check_unreferenced(tx, subject, doomed, include_deleted=True, whole_subject=True)
            tx.hard_delete(subject, doomed)
            tx.delete_setting(subject, COMPATIBILITY_SETTING.key)
            tx.delete_setting(subject, MODE_SETTING.key)
        else:
            if not live:
                raise ApiError(
                    404,
                    ErrorCode.SUBJECT_SOFT_DELETED,
                    # Confluent's wording, missing space included.
                    f"Subject '{subject}' was soft deleted.Set permanent=true to delete "
                    "permanently",
                )
            doomed = live
            self._check_unreferenced(tx, subject, doomed, include_deleted=False, whole_subject=True)
            tx.soft_delete(subject, doomed)
        return doomed

    def delete_version(self, subject: str, version: int, *, permanent: bool) -> int:
        """Soft-delete one version (or hard-delete it, once soft-deleted); returns its number."""
        found = self._store.write_grouped(
            lambda tx: self._delete_version(tx, subject, version, permanent=permanent)
        )
        log.info(
            "version deleted",
            extra={"subject": subject, "version": found, "permanent": permanent},
        )
        return found

    def _delete_version(
        self, tx: Transaction, subject: str, version: int, *, permanent: bool
    ) -> int:
        self._require_writable(tx, subject)
        every = tx.versions(subject, include_deleted=True)
        if not every:
            raise subject_not_found(subject)
        if version == LATEST:
            pool = every if permanent else [sv for sv in every if not sv.deleted]
            found = pool[-1] if pool else None
        else:
            found = next((sv for sv in every if sv.version == version), None)
        if found is None:
            raise version_not_found("latest" if version == LATEST else version)
        if permanent:
            if not found.deleted:
                raise ApiError(
                    404,
                    ErrorCode.VERSION_NOT_SOFT_DELETED,
                    f"Subject '{subject}' Version {found.version} was not deleted first "
                    "before being permanently deleted",
                )
            self._check_unreferenced(
                tx, subject, [found.version], include_deleted=True, whole_subject=False
            )
            tx.hard_delete(subject, [found.version])
        else:
            if found.deleted:
                raise ApiError(
                    404,
                    ErrorCode.VERSION_SOFT_DELETED,
                    f"Subject '{subject}' Version {found.version} was soft deleted.Set "
                    "permanent=true to delete permanently",
                )
            self._check_unreferenced(
                tx, subject, [found.version], include_deleted=False, whole_subject=False
            )
            tx.soft_delete(subject, [found.version])
        return found.version
