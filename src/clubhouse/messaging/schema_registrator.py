"""Registers every catalog model's Avro schema: bases first, idempotent and best-effort.

Each model goes to the subject ``{topic_prefix}-{ModelName}-value``. A model whose schema is
already a live version of its subject is reported ``already-registered`` and creates nothing.
One model's failure never stops the others; only a registry that cannot be reached or refuses
the credentials ends the run early, because every later call would fail the same way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from clubhouse.avro import SchemaConversionError
from clubhouse.contracts import MessageCatalog
from clubhouse.contracts.catalog import MessageModel
from clubhouse.errors import ClubhouseError
from clubhouse.messaging.subjects import model_schema, subject_name
from clubhouse.services.kafka_protocol import RegisteredSchema, SchemaRegistryProtocol
from clubhouse.services.registry_errors import (
    RegistryError,
    RegistryUnauthorizedError,
    RegistryUnreachableError,
)

log = logging.getLogger(__name__)

_FATAL = (RegistryUnreachableError, RegistryUnauthorizedError)


# Subject -> its latest version, or None where only the subject's existence is known.
_Known = dict[str, RegisteredSchema | None]


def _same_schema(registered: str, local: str) -> bool:
    """Whether two schema texts are the same JSON document (key order and spacing aside)."""
    try:
        return bool(json.loads(registered) == json.loads(local))
    except ValueError:
        return False


def _named_counts(counts: dict[str, int]) -> dict[str, int]:
    """``registered``, ``already_registered``, ``would_register``, ``failed``: never one vague
    total that counts schemas which were already there as registered."""
    return {outcome.replace("-", "_"): n for outcome, n in counts.items()}


class Outcome(StrEnum):
    """What happened to one model."""

    REGISTERED = "registered"
    ALREADY_REGISTERED = "already-registered"
    WOULD_REGISTER = "would-register"  # dry run: not registered yet, and nothing written
    FAILED = "failed"


class SchemaRegistrationError(ClubhouseError):
    """A schema could not be registered; ``subject`` says which, ``cause`` says why."""

    def __init__(self, subject: str, reason: str, cause: BaseException | None = None) -> None:
        self.subject = subject
        self.reason = reason
        self.cause = cause
        super().__init__(f"{subject}: {reason}")


@dataclass(frozen=True, slots=True)
class ModelRegistration:
    """The result for one model."""

    model: str
    subject: str
    outcome: Outcome
    is_base: bool
    schema_id: int | None = None
    version: int | None = None
    error: str | None = None
    error_type: str | None = None
    messages: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing failed."""
        return self.outcome is not Outcome.FAILED


@dataclass(frozen=True)
class RegistrationReport:
    """Every model's result, in catalog order."""

    results: list[ModelRegistration]
    dry_run: bool = False
    # Set when the run stopped early because the registry is unreachable or refused us.
    fatal_error: str | None = None
    fatal_type: str | None = field(default=None)

    @property
    def registered_count(self) -> int:
        """Schemas that are in the registry now: newly registered plus already there."""
        return sum(
            r.outcome in (Outcome.REGISTERED, Outcome.ALREADY_REGISTERED) for r in self.results
        )

    @property
    def failed(self) -> list[ModelRegistration]:
        """The models whose registration failed, in catalog order."""
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def stopped_early(self) -> bool:
        """The registry could not be reached or refused the credentials: nothing more was
        tried, and the cause is the configuration, not a schema."""
        return self.fatal_error is not None

    @property
    def ok(self) -> bool:
        """Whether no registration failed."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """How many models ended in each outcome."""
        return {o.value: sum(r.outcome is o for r in self.results) for o in Outcome}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``--json``)."""
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "in_place_count": self.registered_count,
            **_named_counts(self.counts()),
            "failed_count": len(self.failed),
            "counts": self.counts(),
            "fatal_error": self.fatal_error,
            "results": [
                {**asdict(r), "outcome": r.outcome.value, "messages": list(r.messages)}
                for r in self.results
            ],
        }


class SchemaRegistrator:
    """Registers a catalog's schemas through any ``SchemaRegistryProtocol``."""

    def __init__(
        self,
        schema_registry: SchemaRegistryProtocol,
        catalog: MessageCatalog | None = None,
        topic_prefix: str = "clubhouse",
        *,
        max_workers: int = 8,
        check_compatibility: bool = False,
        dry_run: bool = False,
        raise_on_failure: bool = False,
    ) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._registry = schema_registry
        if catalog is None:
            # The founding document's call, SchemaRegistrator(registry): the bundled app.
            from clubhouse.agents.messages import agents_catalog  # noqa: PLC0415

            catalog = agents_catalog()
        self._catalog = catalog
        self._prefix = topic_prefix
        self._max_workers = max_workers
        self._check_compatibility = check_compatibility
        self._dry_run = dry_run
        self._raise_on_failure = raise_on_failure

    def subject_for(self, model: MessageModel) -> str:
        """``{topic_prefix}-{Model}-value``."""
        return subject_name(self._prefix, model)

    def register_all_schemas(self) -> RegistrationReport:
        """Register every model: bases one by one, then concrete models concurrently."""
        stop = threading.Event()
        fatal: list[RegistryError] = []
        results: dict[str, ModelRegistration] = {}
        known, error = self._prefetch()
        if error is not None:
            fatal.append(error)
            stop.set()

        def run(model: MessageModel, is_base: bool) -> None:
            if stop.is_set():
                results[model.__name__] = self._skipped(model, is_base, fatal[0])
                return
            result, error = self._register_one(model, is_base, known)
            if isinstance(error, _FATAL) and not stop.is_set():
                fatal.append(error)
                stop.set()
            results[model.__name__] = result

        for model in self._catalog.bases:
            run(model, True)
        concrete = self._catalog.concrete
        if self._max_workers == 1 or len(concrete) <= 1:
            for model in concrete:
                run(model, False)
        else:
            with ThreadPoolExecutor(self._max_workers, thread_name_prefix="register") as pool:
                list(pool.map(lambda m: run(m, False), concrete))

        report = RegistrationReport(
            results=[results[m.__name__] for m in self._catalog],
            dry_run=self._dry_run,
            fatal_error=str(fatal[0]) if fatal else None,
            fatal_type=type(fatal[0]).__name__ if fatal else None,
        )
        log.info(
            "schema registration finished",
            extra={**_named_counts(report.counts()), "dry_run": self._dry_run},
        )  # fmt: skip
        if self._raise_on_failure and report.failed:
            first = report.failed[0]
            cause = fatal[0] if fatal else None
            raise SchemaRegistrationError(
                first.subject,
                f"{len(report.failed)} of {len(report.results)} schemas failed; "
                f"first: {first.error}",
                cause,
            )
        return report

    def _prefetch(self) -> tuple[_Known | None, RegistryError | None]:
        """What the registry holds under the prefix, in one request where it can.

        With every subject's latest schema at hand, an unchanged model needs no request at
        all and a new subject needs no lookup; ``None`` means "unknown, look each one up".
        """
        try:
            latest = self._registry.get_latest_schemas(f"{self._prefix}-")
            return {r.subject: r for r in latest}, None
        except _FATAL:
            pass  # decided below, by the plainer call
        except RegistryError:
            pass  # a registry without GET /schemas: the subject list still helps
        try:
            return dict.fromkeys(self._registry.get_subjects()), None
        except _FATAL as exc:
            return None, exc
        except RegistryError:
            return None, None

    def _register_one(
        self, model: MessageModel, is_base: bool, known: _Known | None
    ) -> tuple[ModelRegistration, BaseException | None]:
        subject = self.subject_for(model)
        base = {"model": model.__name__, "subject": subject, "is_base": is_base}
        try:
            schema = model_schema(model)
            subject_exists = known is None or subject in known
            latest = known.get(subject) if known is not None else None
            if latest is not None and _same_schema(latest.schema, schema):
                existing: RegisteredSchema | None = latest
            else:
                existing = self._registry.lookup(subject, schema) if subject_exists else None
            if existing is not None:
                return self._done(base, Outcome.ALREADY_REGISTERED, existing), None
            if self._check_compatibility and subject_exists:
                # "all" lets the registry apply its level, transitive ones included.
                verdict = self._registry.test_compatibility(subject, schema, "all")
                if not verdict.is_compatible:
                    reason = "incompatible with the registered versions: " + (
                        "; ".join(verdict.messages) or "the registry gave no reason"
                    )
                    return self._failed(base, reason, "IncompatibleSchemaError", verdict.messages)
            if self._dry_run:
                return self._done(base, Outcome.WOULD_REGISTER, None), None
            registered = self._registry.register(subject, schema)
            if registered.version:
                return self._done(base, Outcome.REGISTERED, registered), None
            # Registries that answer only the id (Confluent's, for one) need a lookup.
            found = self._registry.lookup(subject, schema)
            version = found.version if found is not None else None
            return self._done(base, Outcome.REGISTERED, None, registered.schema_id, version), None
        except (RegistryError, SchemaConversionError) as exc:
            result, _ = self._failed(base, str(exc), type(exc).__name__, (), exc)
            return result, exc

    def _done(
        self,
        base: dict[str, Any],
        outcome: Outcome,
        found: RegisteredSchema | None,
        schema_id: int | None = None,
        version: int | None = None,
    ) -> ModelRegistration:
        if found is not None:
            schema_id, version = found.schema_id, found.version
        result = ModelRegistration(**base, outcome=outcome, schema_id=schema_id, version=version)
        # DEBUG: the CLI prints every outcome in its table; INFO would show each subject twice.
        log.debug(
            "schema %s",
            outcome.value,
            extra={"subject": result.subject, "schema_id": schema_id, "version": version,
                   "outcome": outcome.value},
        )  # fmt: skip
        return result

    def _failed(
        self,
        base: dict[str, Any],
        reason: str,
        error_type: str,
        messages: Iterable[str] = (),
        cause: BaseException | None = None,
    ) -> tuple[ModelRegistration, BaseException | None]:
        result = ModelRegistration(
            **base,
            outcome=Outcome.FAILED,
            error=reason,
            error_type=error_type,
            messages=tuple(messages),
        )
        log.error(
            "schema registration failed",
            extra={"subject": result.subject, "outcome": "failed", "error_type": error_type,
                   "cause": reason},
        )  # fmt: skip
        return result, cause

    def _skipped(
        self, model: MessageModel, is_base: bool, cause: RegistryError
    ) -> ModelRegistration:
        return ModelRegistration(
            model=model.__name__,
            subject=self.subject_for(model),
            outcome=Outcome.FAILED,
            is_base=is_base,
            error=f"not attempted: {cause}",
            error_type=type(cause).__name__,
        )
