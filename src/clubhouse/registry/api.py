"""The registry's HTTP API: a Starlette app speaking Confluent Schema Registry's REST dialect.

This module only translates HTTP to :class:`~clubhouse.registry.service.Registry` calls and
back, and turns every refusal into Confluent's ``{"error_code", "message"}`` body, so bad
input gets a 4xx, never a 500. Media types and request bodies are handled in
:mod:`~clubhouse.registry.media`, how paths reach the routes in :mod:`~clubhouse.registry.paths`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clubhouse.registry import params
from clubhouse.registry.auth import BasicAuth, BasicAuthMiddleware
from clubhouse.registry.errors import ApiError, ErrorCode, schema_not_found
from clubhouse.registry.guards import (
    DEFAULT_MAX_IN_FLIGHT,
    InFlightLimitMiddleware,
    InternalErrorMiddleware,
)
from clubhouse.registry.media import (
    AcceptCheckMiddleware,
    error_response,
    json_response,
    media_type,
    read_body,
)
from clubhouse.registry.paths import RawPathMiddleware, optional_path_param, path_param
from clubhouse.registry.records import Mode, StoredSchema, parse_compatibility
from clubhouse.registry.service import (
    LATEST,
    SUPPORTED_TYPES,
    Registered,
    Registry,
    SchemaRequest,
    VersionView,
)
from clubhouse.registry.throttle import LoginThrottle
from clubhouse.registry.workers import ParseLanes, parse_lanes

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

P = ParamSpec("P")
T = TypeVar("T")


async def _in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run registry code in a worker thread.

    Writes always go here: each waits until the group commit that holds it is on disk (see
    :meth:`~clubhouse.registry.store.Store.write_grouped`), and one of the waiting threads
    writes and fsyncs that group for all of them. Plain reads run on the event loop
    instead: they are short SQLite reads in WAL mode (which never wait for writers), so
    hopping threads would cost more than the work itself. Work that parses a submitted
    schema goes to a parse pool (``parse_lanes``).
    """
    return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))


def _schema_body(schema: StoredSchema) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": schema.schema}
    if schema.references:
        body["references"] = [ref.to_json() for ref in schema.references]
    return body


def _version_body(view: VersionView) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": view.subject, "version": view.version, "id": view.schema.id}
    body.update(_schema_body(view.schema))
    return body


class RegistryApi:
    """The endpoint handlers, bound to one registry and one body-size limit."""

    def __init__(self, registry: Registry, max_body_bytes: int, parser: ParseLanes) -> None:
        self._registry = registry
        self._max_body = max_body_bytes
        self._parser = parser

    async def _body(self, request: Request) -> dict[str, Any]:
        return params.json_body(await read_body(request, self._max_body))

    async def _schema_request(self, request: Request) -> SchemaRequest:
        raw = await read_body(request, self._max_body)
        return params.schema_request(params.json_body(raw))

    def _normalize(self, request: Request, subject: str) -> bool:
        """The ``normalize`` query flag, else what the subject's config (or the global) says."""
        if "normalize" in request.query_params:
            return params.flag(request.query_params, "normalize")
        return self._registry.normalize_default(subject)

    async def _parse(
        self,
        request: Request,
        work_chars: int,
        func: Callable[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Parsing work goes to a parse pool, never the event loop (see ``parse_lanes``);
        ``work_chars`` (schema text it may parse) picks the pool."""
        pool = self._parser.for_work(work_chars)
        return await pool.run_for(request.receive, func, *args, **kwargs)

    # ---- root and schemas -----------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        """``GET /``: an empty JSON object."""
        return json_response(request, {})

    async def schema_types(self, request: Request) -> Response:
        """``GET /schemas/types``: the schema types the registry supports."""
        return json_response(request, list(SUPPORTED_TYPES))

    async def contexts(self, request: Request) -> Response:
        """``GET /contexts``: only the default context, ``.``."""
        return json_response(request, params.page(["."], request.query_params))

    async def schemas(self, request: Request) -> Response:
        """``GET /schemas``: the versions of subjects with ``subjectPrefix``, paged."""
        q = request.query_params
        views = self._registry.list_schemas(
            prefix=q.get("subjectPrefix", ""),
            deleted=params.flag(q, "deleted"),
            latest_only=params.flag(q, "latestOnly"),
        )
        return json_response(request, params.page([_version_body(v) for v in views], q))

    def _subjects_of(self, schema_id: int, query: QueryParams) -> list[str]:
        versions = self._registry.versions_of_schema(
            schema_id, deleted=params.flag(query, "deleted"), subject=query.get("subject") or None
        )
        return sorted({sv.subject for sv in versions})

    async def schema_by_id(self, request: Request) -> Response:
        """``GET /schemas/ids/{id}``: the schema, with its subjects when ``includeSubjects``."""
        schema_id = params.schema_id(path_param(request, "id"))
        body = _schema_body(self._registry.schema_by_id(schema_id))
        if params.flag(request.query_params, "includeSubjects"):
            body["subjects"] = self._subjects_of(schema_id, request.query_params)
        return json_response(request, body)

    async def raw_schema_by_id(self, request: Request) -> Response:
        """``GET /schemas/ids/{id}/schema``: the schema text alone."""
        schema = self._registry.schema_by_id(params.schema_id(path_param(request, "id")))
        return Response(schema.schema, media_type=media_type(request))

    async def subjects_of_schema(self, request: Request) -> Response:
        """``GET /schemas/ids/{id}/subjects``: the subjects using the schema, paged."""
        q = request.query_params
        subjects = self._subjects_of(params.schema_id(path_param(request, "id")), q)
        return json_response(request, params.page(subjects, q))

    async def versions_of_schema(self, request: Request) -> Response:
        """``GET /schemas/ids/{id}/versions``: the subject versions using the schema, paged."""
        q = request.query_params
        versions = self._registry.versions_of_schema(
            params.schema_id(path_param(request, "id")),
            deleted=params.flag(q, "deleted"),
            subject=q.get("subject") or None,
        )
        body = [{"subject": sv.subject, "version": sv.version} for sv in versions]
        return json_response(request, params.page(body, q))

    # ---- subjects -------------------------------------------------------------------------

    async def subjects(self, request: Request) -> Response:
        """``GET /subjects``: subject names, live or soft-deleted as asked, paged."""
        q = request.query_params
        names = self._registry.subjects(
            prefix=q.get("subjectPrefix", ""),
            deleted=params.flag(q, "deleted"),
            deleted_only=params.flag(q, "deleted_only") or params.flag(q, "deletedOnly"),
        )
        return json_response(request, params.page(names, q))

    async def lookup(self, request: Request) -> Response:
        """``POST /subjects/{subject}``: the version of ``subject`` holding the posted schema."""
        q = request.query_params
        subject = path_param(request, "subject")
        body = await self._body(request)
        if body.get("schema") is None:
            # As Confluent answers: 40401 when the subject has no versions, else 40403.
            self._registry.versions(subject, deleted=params.flag(q, "deleted"), deleted_only=False)
            raise schema_not_found()
        schema_request = params.schema_request(body)
        view = await self._parse(
            request,
            len(schema_request.schema),
            self._registry.lookup,
            subject,
            schema_request,
            normalize=self._normalize(request, subject),
            deleted=params.flag(q, "deleted"),
        )
        return json_response(request, _version_body(view))

    async def delete_subject(self, request: Request) -> Response:
        """``DELETE /subjects/{subject}``: delete every version (soft, or ``permanent``)."""
        deleted = await _in_thread(
            self._registry.delete_subject,
            path_param(request, "subject"),
            permanent=params.flag(request.query_params, "permanent"),
        )
        return json_response(request, deleted)

    async def versions(self, request: Request) -> Response:
        """``GET /subjects/{subject}/versions``: the subject's version numbers, paged."""
        q = request.query_params
        found = self._registry.versions(
            path_param(request, "subject"),
            deleted=params.flag(q, "deleted"),
            deleted_only=params.flag(q, "deleted_only") or params.flag(q, "deletedOnly"),
        )
        return json_response(request, params.page(found, q))

    async def register(self, request: Request) -> Response:
        """``POST /subjects/{subject}/versions``: the id and version, registering when new.

        Without a ``schema``, or with a blank one, the subject's latest version is
        registered again, as Confluent does (a subject without versions gets 42201, the
        schema is missing).
        """
        subject = path_param(request, "subject")
        body = await self._body(request)
        schema = body.get("schema")
        if schema is None or (isinstance(schema, str) and not schema.strip()):
            body = self._with_latest_schema(subject, body)
        schema_request = params.schema_request(body)
        normalize = self._normalize(request, subject)
        # Parsing and the compatibility check run in a parse pool on a snapshot; most
        # registrations repeat an existing one and end there, without a write.
        prepared = await self._parse(
            request,
            self._registry.work_chars(subject, schema_request),
            self._registry.prepare_registration,
            subject,
            schema_request,
            normalize=normalize,
        )
        if isinstance(prepared, Registered):
            registered = prepared
        else:
            registered = await _in_thread(
                self._registry.commit_registration,
                subject,
                schema_request,
                prepared,
                normalize=normalize,
            )
        # Newer Confluent registries answer version and subject too, and the client reads
        # them; a caller then needs no second request to learn the version.
        return json_response(
            request, {"id": registered.id, "version": registered.version, "subject": subject}
        )

    def _with_latest_schema(self, subject: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the schema and references of ``subject``'s latest live version."""
        try:
            latest = self._registry.get_version(subject, LATEST, deleted=False)
        except ApiError as exc:
            if exc.error_code != ErrorCode.SUBJECT_NOT_FOUND:
                raise
            return body
        return {**body, **_schema_body(latest.schema)}

    async def get_version(self, request: Request) -> Response:
        """``GET /subjects/{subject}/versions/{version}``: that version and its schema."""
        view = self._registry.get_version(
            path_param(request, "subject"),
            params.version(path_param(request, "version")),
            deleted=params.flag(request.query_params, "deleted"),
        )
        return json_response(request, _version_body(view))

    async def raw_version_schema(self, request: Request) -> Response:
        """``GET /subjects/{subject}/versions/{version}/schema``: its schema text alone."""
        view = self._registry.get_version(
            path_param(request, "subject"),
            params.version(path_param(request, "version")),
            deleted=params.flag(request.query_params, "deleted"),
        )
        return Response(view.schema.schema, media_type=media_type(request))

    async def referenced_by(self, request: Request) -> Response:
        """``GET .../versions/{version}/referencedby``: ids of schemas importing it, paged."""
        ids = self._registry.referenced_by(
            path_param(request, "subject"),
            params.version(path_param(request, "version")),
        )
        return json_response(request, params.page(ids, request.query_params))

    async def delete_version(self, request: Request) -> Response:
        """``DELETE /subjects/{subject}/versions/{version}``: soft, or ``permanent``."""
        deleted = await _in_thread(
            self._registry.delete_version,
            path_param(request, "subject"),
            params.version(path_param(request, "version")),
            permanent=params.flag(request.query_params, "permanent"),
        )
        return json_response(request, deleted)

    # ---- compatibility ----------------------------------------------------------------------

    async def _compatibility(self, request: Request, version: int | None) -> Response:
        q = request.query_params
        schema_request = await self._schema_request(request)
        subject = path_param(request, "subject")
        # Compatibility may parse every version of the subject.
        result = await self._parse(
            request,
            self._registry.work_chars(subject, schema_request),
            self._registry.test_compatibility,
            subject,
            schema_request,
            version,
            normalize=params.flag(q, "normalize"),
        )
        # Confluent sends the messages only to a verbose request and omits the key otherwise.
        body: dict[str, Any] = {"is_compatible": result.is_compatible}
        if params.flag(q, "verbose"):
            body["messages"] = list(result.messages)
        return json_response(request, body)

    async def compatibility_with_version(self, request: Request) -> Response:
        """``POST /compatibility/subjects/{subject}/versions/{version}``: check against one."""
        return await self._compatibility(request, params.version(path_param(request, "version")))

    async def compatibility_with_all(self, request: Request) -> Response:
        """``POST /compatibility/subjects/{subject}/versions``: check against all."""
        return await self._compatibility(request, None)

    # ---- config -----------------------------------------------------------------------------

    async def get_config(self, request: Request) -> Response:
        """``GET /config[/{subject}]``: the compatibility level, and ``normalize`` when set."""
        config = self._registry.get_config(
            optional_path_param(request, "subject"),
            default_to_global=params.flag(request.query_params, "defaultToGlobal"),
        )
        body: dict[str, Any] = {}
        if config.compatibility is not None:
            body["compatibilityLevel"] = config.compatibility.value
        if config.normalize is not None:
            body["normalize"] = config.normalize
        return json_response(request, body)

    async def put_config(self, request: Request) -> Response:
        """``PUT /config[/{subject}]``: set the compatibility level and/or ``normalize``."""
        body = await self._body(request)
        normalize = body.get("normalize")
        if normalize is not None and not isinstance(normalize, bool):
            raise ApiError(
                422,
                ErrorCode.INVALID_COMPATIBILITY_LEVEL,
                f"'normalize' must be true or false, got {json.dumps(normalize)}.",
            )
        raw_level = body.get("compatibility")
        # A body with only "normalize" keeps the level; one with neither names the levels.
        level = (
            None if raw_level is None and normalize is not None else parse_compatibility(raw_level)
        )
        await _in_thread(
            self._registry.set_config, optional_path_param(request, "subject"), level, normalize
        )
        answer: dict[str, Any] = {}
        if level is not None:
            answer["compatibility"] = level.value
        if normalize is not None:
            answer["normalize"] = normalize
        return json_response(request, answer)

    async def delete_config(self, request: Request) -> Response:
        """``DELETE /config[/{subject}]``: drop the config; the level it had."""
        previous = await _in_thread(
            self._registry.delete_config, optional_path_param(request, "subject")
        )
        return json_response(request, {"compatibilityLevel": previous.value})

    # ---- mode -------------------------------------------------------------------------------

    async def get_mode(self, request: Request) -> Response:
        """``GET /mode[/{subject}]``: the registry mode."""
        mode = self._registry.get_mode(
            optional_path_param(request, "subject"),
            default_to_global=params.flag(request.query_params, "defaultToGlobal"),
        )
        return json_response(request, {"mode": mode.value})

    async def put_mode(self, request: Request) -> Response:
        """``PUT /mode[/{subject}]``: set the mode; ``force`` allows IMPORT over schemas."""
        body = await self._body(request)
        mode = Mode.parse(body.get("mode"))
        await _in_thread(
            self._registry.set_mode,
            optional_path_param(request, "subject"),
            mode,
            force=params.flag(request.query_params, "force"),
        )
        return json_response(request, {"mode": mode.value})

    async def delete_mode(self, request: Request) -> Response:
        """``DELETE /mode[/{subject}]``: drop the mode; the one it had."""
        previous = await _in_thread(
            self._registry.delete_mode, optional_path_param(request, "subject")
        )
        return json_response(request, {"mode": previous.value})

    def routes(self) -> list[Route]:
        """The Starlette routes of the Confluent-compatible REST API."""
        return [
            Route("/", self.root, methods=["GET"]),
            Route("/schemas", self.schemas, methods=["GET"]),
            Route("/schemas/types", self.schema_types, methods=["GET"]),
            Route("/schemas/ids/{id}", self.schema_by_id, methods=["GET"]),
            Route("/schemas/ids/{id}/schema", self.raw_schema_by_id, methods=["GET"]),
            Route("/schemas/ids/{id}/subjects", self.subjects_of_schema, methods=["GET"]),
            Route("/schemas/ids/{id}/versions", self.versions_of_schema, methods=["GET"]),
            Route("/contexts", self.contexts, methods=["GET"]),
            Route("/subjects", self.subjects, methods=["GET"]),
            Route("/subjects/{subject}", self.lookup, methods=["POST"]),
            Route("/subjects/{subject}", self.delete_subject, methods=["DELETE"]),
            Route("/subjects/{subject}/versions", self.versions, methods=["GET"]),
            Route("/subjects/{subject}/versions", self.register, methods=["POST"]),
            Route("/subjects/{subject}/versions/{version}", self.get_version, methods=["GET"]),
            Route(
                "/subjects/{subject}/versions/{version}", self.delete_version, methods=["DELETE"]
            ),
            Route(
                "/subjects/{subject}/versions/{version}/schema",
                self.raw_version_schema,
                methods=["GET"],
            ),
            Route(
                "/subjects/{subject}/versions/{version}/referencedby",
                self.referenced_by,
                methods=["GET"],
            ),
            Route(
                "/compatibility/subjects/{subject}/versions",
                self.compatibility_with_all,
                methods=["POST"],
            ),
            Route(
                "/compatibility/subjects/{subject}/versions/{version}",
                self.compatibility_with_version,
                methods=["POST"],
            ),
            Route("/config", self.get_config, methods=["GET"]),
            Route("/config", self.put_config, methods=["PUT"]),
            Route("/config", self.delete_config, methods=["DELETE"]),
            Route("/config/{subject}", self.get_config, methods=["GET"]),
            Route("/config/{subject}", self.put_config, methods=["PUT"]),
            Route("/config/{subject}", self.delete_config, methods=["DELETE"]),
            Route("/mode", self.get_mode, methods=["GET"]),
            Route("/mode", self.put_mode, methods=["PUT"]),
            Route("/mode", self.delete_mode, methods=["DELETE"]),
            Route("/mode/{subject}", self.get_mode, methods=["GET"]),
            Route("/mode/{subject}", self.put_mode, methods=["PUT"]),
            Route("/mode/{subject}", self.delete_mode, methods=["DELETE"]),
        ]


async def _registry_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(request, exc.status, exc.error_code, exc.message)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    # Confluent's REST layer answers an unmatched route or method with the bare status line
    # as the message ("HTTP 404 Not Found"), and clients compare it verbatim.
    response = error_response(
        request, exc.status_code, exc.status_code, f"HTTP {exc.status_code} {exc.detail}"
    )
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def create_app(
    registry: Registry,
    *,
    auth: BasicAuth | None = None,
    throttle: LoginThrottle | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    parser: ParseLanes | None = None,
) -> Starlette:
    """The ASGI app serving ``registry``; with ``auth``, every request needs credentials
    (failed logins counted by ``throttle``, a fresh one by default).

    Outermost first: unexpected errors become Confluent 500s, the raw path is restored (so
    ``%2F`` stays inside a subject), requests past ``max_in_flight`` get 503, then
    authentication, then the Accept check.
    """
    api = RegistryApi(registry, max_body_bytes, parser or parse_lanes())
    middleware = [
        Middleware(InternalErrorMiddleware),
        Middleware(RawPathMiddleware),
        Middleware(InFlightLimitMiddleware, max_in_flight=max_in_flight),
    ]
    if auth is not None:
        middleware.append(Middleware(BasicAuthMiddleware, auth=auth, throttle=throttle))
    middleware.append(Middleware(AcceptCheckMiddleware))
    return Starlette(
        routes=api.routes(),
        middleware=middleware,
        exception_handlers={ApiError: _registry_error, HTTPException: _http_error},
    )
