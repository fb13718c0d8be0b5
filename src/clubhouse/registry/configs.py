"""Configs (compatibility level and ``normalize``) and modes: per subject, with a
registry-wide fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from clubhouse.avro.compatibility import CompatibilityLevel
from clubhouse.registry.core import (
    COMPATIBILITY_SETTING,
    MODE_SETTING,
    NORMALIZE_SETTING,
    RegistryCore,
    Setting,
    validate_subject,
)
from clubhouse.registry.errors import (
    operation_not_permitted,
)
from clubhouse.registry.records import (
    DEFAULT_COMPATIBILITY,
    DEFAULT_MODE,
    GLOBAL_SCOPE,
    Mode,
)
from clubhouse.registry.store import Transaction

log = logging.getLogger(__name__)

_TRUE = "true"
_FALSE = "false"


@dataclass(frozen=True, slots=True)
class ConfigView:
    """A config as ``GET /config`` answers it; None for what the scope does not set."""

    compatibility: CompatibilityLevel | None
    normalize: bool | None


def _as_bool(value: str | None) -> bool | None:
    return None if value is None else value == _TRUE


class Configs(RegistryCore):
    """Reading, setting and deleting configs (compatibility level, normalize) and modes."""

    # ---- configs ---------------------------------------------------------------------------

    def get_config(self, subject: str | None, *, default_to_global: bool) -> ConfigView:
        """The config of ``subject`` (its own; with ``default_to_global`` the registry's fills
        what it lacks), or the registry's when ``subject`` is None; 40408 when the subject
        has no config of its own and may not fall back."""
        with self._store.read() as tx:
            if subject is None:
                level = tx.setting(GLOBAL_SCOPE, COMPATIBILITY_SETTING.key)
                return ConfigView(
                    CompatibilityLevel(level) if level else DEFAULT_COMPATIBILITY,
                    _as_bool(tx.setting(GLOBAL_SCOPE, NORMALIZE_SETTING.key)),
                )
            level = tx.setting(subject, COMPATIBILITY_SETTING.key)
            normalize = tx.setting(subject, NORMALIZE_SETTING.key)
            if default_to_global:
                level = level or tx.setting(GLOBAL_SCOPE, COMPATIBILITY_SETTING.key)
                normalize = normalize or tx.setting(GLOBAL_SCOPE, NORMALIZE_SETTING.key)
            elif level is None and normalize is None:
                raise COMPATIBILITY_SETTING.not_configured(subject)
        default = DEFAULT_COMPATIBILITY if default_to_global else None
        return ConfigView(CompatibilityLevel(level) if level else default, _as_bool(normalize))

    def set_config(
        self, subject: str | None, level: CompatibilityLevel | None, normalize: bool | None
    ) -> None:
        """Set what is given (not None) of the config of ``subject``, or of the registry."""
        if subject is not None:
            validate_subject(subject)
        scope = subject or GLOBAL_SCOPE

        def change(tx: Transaction) -> None:
            if level is not None:
                tx.set_setting(scope, COMPATIBILITY_SETTING.key, level.value)
            if normalize is not None:
                tx.set_setting(scope, NORMALIZE_SETTING.key, _TRUE if normalize else _FALSE)

        self._store.write_grouped(change)
        log.info(
            "config set",
            extra={
                "subject": subject,
                "level": None if level is None else level.value,
                "normalize": normalize,
            },
        )

    def delete_config(self, subject: str | None) -> CompatibilityLevel:
        """Remove a subject's (or the registry's) config; returns the level it had."""
        scope = subject or GLOBAL_SCOPE

        def change(tx: Transaction) -> str | None:
            value = tx.setting(scope, COMPATIBILITY_SETTING.key)
            normalize = tx.setting(scope, NORMALIZE_SETTING.key)
            if value is None and normalize is None and subject is not None:
                raise COMPATIBILITY_SETTING.not_configured(subject)
            tx.delete_setting(scope, COMPATIBILITY_SETTING.key)
            tx.delete_setting(scope, NORMALIZE_SETTING.key)
            return value

        value = self._store.write_grouped(change)
        log.info("config reset", extra={"subject": subject})
        return CompatibilityLevel(value) if value else DEFAULT_COMPATIBILITY

    def normalize_default(self, subject: str) -> bool:
        """Whether requests for ``subject`` normalize when they do not say: its config's
        ``normalize``, else the registry's, else false."""
        with self._store.read() as tx:
            return NORMALIZE_SETTING.effective(tx, subject) == _TRUE

    # ---- modes -----------------------------------------------------------------------------

    def get_mode(self, subject: str | None, *, default_to_global: bool) -> Mode:
        """The mode of ``subject`` (its own; the global one too with ``default_to_global``),
        or the global mode when ``subject`` is None."""
        value = self._get_setting(subject, MODE_SETTING, default_to_global=default_to_global)
        return Mode(value) if value else DEFAULT_MODE

    def set_mode(self, subject: str | None, mode: Mode, *, force: bool) -> None:
        """Set the mode of ``subject``, or the global mode; switching a scope that holds
        schemas to IMPORT needs ``force``."""
        if subject is not None:
            validate_subject(subject)
        scope = subject or GLOBAL_SCOPE

        def change(tx: Transaction) -> None:
            current = tx.setting(scope, MODE_SETTING.key)
            if (
                mode is Mode.IMPORT
                and current != Mode.IMPORT.value
                and not force
                and tx.has_versions(subject)
            ):
                where = f"subject '{subject}'" if subject else "the registry"
                raise operation_not_permitted(
                    f"Cannot switch {where} to IMPORT mode: it already holds schemas, and an "
                    "import could collide with their ids. Pass force=true to do it anyway."
                )
            tx.set_setting(scope, MODE_SETTING.key, mode.value)

        self._store.write_grouped(change)
        log.info("mode set", extra={"subject": subject, "mode": mode.value})

    def delete_mode(self, subject: str | None) -> Mode:
        """Remove a subject's (or the global) mode; returns the mode it had."""
        value = self._delete_setting(subject, MODE_SETTING)
        log.info("mode reset", extra={"subject": subject})
        return Mode(value) if value else DEFAULT_MODE

    # ---- settings shared by config and mode ------------------------------------------------

    def _get_setting(
        self, subject: str | None, setting: Setting, *, default_to_global: bool
    ) -> str | None:
        """The subject's own value, else (if allowed) the registry's; None when neither is set."""
        with self._store.read() as tx:
            if subject is not None:
                value = tx.setting(subject, setting.key)
                if value is not None:
                    return value
                if not default_to_global:
                    raise setting.not_configured(subject)
            return tx.setting(GLOBAL_SCOPE, setting.key)

    def _delete_setting(self, subject: str | None, setting: Setting) -> str | None:
        """Remove the subject's (or the registry's) value and return it; a subject must have one."""
        scope = subject or GLOBAL_SCOPE

        def change(tx: Transaction) -> str | None:
            value = tx.setting(scope, setting.key)
            if value is None and subject is not None:
                raise setting.not_configured(subject)
            tx.delete_setting(scope, setting.key)
            return value

        return self._store.write_grouped(change)
