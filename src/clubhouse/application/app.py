"""``App``: the typed handlers of one service (of its commands, and of the events and responses
it reacts to), the keys their state lives under, and the models they use, which the service
registers on start."""

from __future__ import annotations

import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from clubhouse.contracts import BaseMessage, Command, ErrorResponse, Event, MessageCatalog, Response
from clubhouse.contracts.catalog import CatalogError, messages_defined_in

C = TypeVar("C", bound=Command)
E = TypeVar("E", bound=Event)
R = TypeVar("R", bound=Response)
HandlerFunc = Callable[..., Any]  # (message, Context) -> Response | None, or a coroutine


@dataclass(frozen=True, slots=True)
class CommandHandler:
    """One registered handler: what it handles, the field it is keyed by, and the models
    its signature and ``emits`` name."""

    command: type[Command]
    key_field: str
    func: HandlerFunc
    is_async: bool
    models: tuple[type[BaseMessage], ...]
    sends: tuple[tuple[str, type[Command]], ...] = ()  # (app prefix, command) it ctx.sends


@dataclass(frozen=True, slots=True)
class Prefixes:
    """The topic prefixes apps are served under, for the prefixes their code names.

    Code names apps by the prefix each ``App`` was made with (``source="inventory"``,
    ``ctx.send(..., to=inventory.app)``); a deployment may serve them under others
    (``staging-inventory``): ``--topic-prefix`` renames this app, ``--peer`` the others.
    """

    written: str  # this app's own prefix, as its code names it
    own: str  # the prefix this app is served under
    peers: Mapping[str, str] = field(default_factory=dict)  # written -> served, other apps

    def of(self, prefix: str | None) -> str:
        """The served prefix of the app the code names ``prefix`` (None: this app)."""
        if prefix is None or prefix == self.written:
            return self.own
        return self.peers.get(prefix, prefix)


@dataclass(frozen=True, slots=True)
class ReactionHandler:
    """A handler of an event or response read from an app's topic (its own, or another's).

    Its state is keyed like a command's; what it produces is events and commands, never a
    response: nobody waits for an answer to an event.
    """

    message: type[BaseMessage]
    kind: Literal["event", "response"]
    source: str | None  # the topic prefix of the app that publishes it; None: this app
    key_field: str
    func: HandlerFunc
    is_async: bool
    models: tuple[type[BaseMessage], ...]
    sends: tuple[tuple[str, type[Command]], ...] = ()

    def topic(self, prefixes: Prefixes) -> str:
        """The topic the message is read from, with apps served under ``prefixes``."""
        return f"{prefixes.of(self.source)}-{'events' if self.kind == 'event' else 'responses'}"


class App:
    """Command handlers by command class, plus the models the app publishes.

    >>> app = App(prefix="shop")
    >>> @app.command(PlaceOrderCommand, key="order_id", emits=[OrderPlacedEvent])
    ... def place(cmd: PlaceOrderCommand, ctx: Context) -> OrderAcceptedResponse:
    ...     ctx.state["status"] = "placed"
    ...     ctx.emit(OrderPlacedEvent(order_id=cmd.order_id))
    ...     return OrderAcceptedResponse(order_id=cmd.order_id)
    """

    def __init__(self, prefix: str = "clubhouse") -> None:
        self.prefix = prefix
        # The module that made the app: its message classes are the app's, declared or not.
        caller = inspect.currentframe()
        caller = caller.f_back if caller is not None else None
        self._module: str | None = caller.f_globals.get("__name__") if caller else None
        self._handlers: dict[type[Command], CommandHandler] = {}
        self._reactions: dict[type[BaseMessage], ReactionHandler] = {}
        self._state_model: type[BaseModel] | None = None
        self._extra: list[type[BaseMessage]] = []

    def command(
        self,
        model: type[C],
        *,
        key: str,
        emits: Iterable[type[BaseMessage]] = (),
        sends: Mapping[str, Iterable[type[Command]]] | None = None,
        state: type[BaseModel] | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register the decorated function as the handler of ``model`` commands.

        ``key`` names the field whose value is both the Kafka message key and the state
        key: every command with the same value sees the same ``ctx.state``, in order.
        ``emits`` lists the models the handler may ``ctx.emit``, and ``sends`` the commands
        it may ``ctx.send``, by the prefix of the app they go to, so they are registered
        and documented. ``state`` types ``ctx.state`` (see ``state_model``).
        """
        _check_handled(model, Command, key)
        if model in self._handlers:
            raise CatalogError(f"{model.__name__} already has a handler in this app")
        self._typed(state)
        declared = tuple(emits)
        sent = _sends(sends)

        def register(func: HandlerFunc) -> HandlerFunc:
            self._handlers[model] = CommandHandler(
                command=model,
                key_field=key,
                func=func,
                is_async=inspect.iscoroutinefunction(func),
                models=(model, *_returned_models(func), *declared, *(c for _, c in sent)),
                sends=sent,
            )
            return func

        return register

    def event(
        self,
        model: type[E],
        *,
        key: str,
        source: str | None = None,
        emits: Iterable[type[BaseMessage]] = (),
        sends: Mapping[str, Iterable[type[Command]]] | None = None,
        state: type[BaseModel] | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register the decorated function as the handler of ``model`` events.

        The events are read from the events topic of the app whose topic prefix is
        ``source`` (this app's own by default). ``key`` names the event's field whose value
        is the state key, as for commands: an event about order ``o1`` sees the state that
        the commands about ``o1`` see. The handler may ``ctx.emit`` events and ``ctx.send``
        commands; it returns nothing. Events of other types on that topic are skipped.
        """
        self._typed(state)
        return self._reaction(model, Event, "event", key=key, source=source, emits=emits,
                              sends=sends)  # fmt: skip

    def response(
        self,
        model: type[R],
        *,
        key: str,
        source: str | None = None,
        emits: Iterable[type[BaseMessage]] = (),
        sends: Mapping[str, Iterable[type[Command]]] | None = None,
        state: type[BaseModel] | None = None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        """Register the decorated function as the handler of ``model`` responses, read from
        the responses topic of the app whose prefix is ``source`` (the app commands were
        ``ctx.send`` to): how a process manager (a saga) hears back. Keyed and run like an
        event handler; every ``model`` response on that topic is handled, whoever asked.
        """
        self._typed(state)
        return self._reaction(
            model, Response, "response", key=key, source=source, emits=emits, sends=sends
        )

    def _reaction(
        self,
        model: type[BaseMessage],
        base: type[BaseMessage],
        kind: Literal["event", "response"],
        *,
        key: str,
        source: str | None,
        emits: Iterable[type[BaseMessage]],
        sends: Mapping[str, Iterable[type[Command]]] | None,
    ) -> Callable[[HandlerFunc], HandlerFunc]:
        _check_handled(model, base, key)
        if model in self._reactions:
            raise CatalogError(f"{model.__name__} already has a handler in this app")
        if source is not None and not source.strip():
            raise CatalogError(f"the source of {model.__name__} must name an app's topic prefix")
        declared = tuple(emits)
        sent = _sends(sends)

        def register(func: HandlerFunc) -> HandlerFunc:
            self._reactions[model] = ReactionHandler(
                message=model,
                kind=kind,
                source=source,
                key_field=key,
                func=func,
                is_async=inspect.iscoroutinefunction(func),
                models=(model, *declared, *(c for _, c in sent)),
                sends=sent,
            )
            return func

        return register

    @property
    def state_model(self) -> type[BaseModel] | None:
        """The Pydantic model the app's state is kept in, or None: untyped JSON state.

        Declared with ``state=`` on any handler; one per app, since every handler of a key
        sees the same state. Then ``ctx.state`` is an instance of it (for a new key, the
        model built with no arguments, or None when it cannot be), and the changelog keeps
        it in Avro under the subject ``{prefix}-{Model}-value``, registered at start and
        checked by ``clubhouse schemas check`` like every contract.
        """
        return self._state_model

    def _typed(self, state: type[BaseModel] | None) -> None:
        if state is None:
            return
        if not (inspect.isclass(state) and issubclass(state, BaseModel)) or issubclass(
            state, BaseMessage
        ):
            raise CatalogError(f"state={state!r}: a state model is a Pydantic BaseModel, "
                               "not a message")  # fmt: skip
        if self._state_model is not None and self._state_model is not state:
            raise CatalogError(
                f"state={state.__name__}: this app keeps its state in "
                f"{self._state_model.__name__} already; every handler of a key sees the same "
                "state, so an app has one state model"
            )
        self._state_model = state

    def models(self, *models: type[BaseMessage]) -> None:
        """Register ``models`` too, beyond those the handlers name."""
        for model in models:
            if not (inspect.isclass(model) and issubclass(model, BaseMessage)):
                raise CatalogError(f"{model!r} is not a subclass of clubhouse BaseMessage")
        self._extra.extend(models)

    @property
    def handlers(self) -> list[CommandHandler]:
        """Every registered command handler, in registration order."""
        return list(self._handlers.values())

    @property
    def reactions(self) -> list[ReactionHandler]:
        """Every registered event and response handler, in registration order."""
        return list(self._reactions.values())

    def reaction_for(self, message_type: type[BaseMessage]) -> ReactionHandler | None:
        """The event or response handler of exactly ``message_type``, or None."""
        return self._reactions.get(message_type)

    def sends(self) -> list[tuple[str, type[Command]]]:
        """The commands the handlers declare they send, with the prefix of the app each goes
        to, in declaration order, without repeats."""
        found = [pair for h in self._handlers.values() for pair in h.sends]
        found += [pair for r in self._reactions.values() for pair in r.sends]
        return list(dict.fromkeys(found))

    def prefixes(self, own: str | None = None, peers: Mapping[str, str] | None = None) -> Prefixes:
        """The prefixes apps are served under: this one under ``own`` (default: its own
        ``prefix``), the others as ``peers`` maps them (default: as written)."""
        return Prefixes(self.prefix, own or self.prefix, dict(peers or {}))

    def feed_topics(self, prefixes: Prefixes | None = None) -> list[str]:
        """The topics the app's event and response handlers read, sorted, with apps served
        under ``prefixes`` (default: as written)."""
        served = prefixes or self.prefixes()
        return sorted({r.topic(served) for r in self._reactions.values()})

    def handler_for(self, command_type: type[Command]) -> CommandHandler | None:
        """The handler of ``command_type``, or of its nearest registered ancestor."""
        for klass in command_type.__mro__:
            handler = self._handlers.get(klass)
            if handler is not None:
                return handler
        return None

    def key_for(self, message: BaseMessage) -> str | None:
        """The state (and Kafka message) key of ``message``; None when no handler takes it."""
        found: CommandHandler | ReactionHandler | None
        if isinstance(message, Command):
            found = self.handler_for(type(message))
        else:
            found = self._reactions.get(type(message))
        if found is None:
            return None
        value = getattr(message, found.key_field)
        return None if value is None else str(value)

    def catalog(self) -> MessageCatalog:
        """The bases, every model the handlers name, ErrorResponse, ``models(...)``, and every
        Command, Response and Event defined in the app's module or a handler's module.

        Models are found, not only declared: a plain ``def place(cmd, ctx):`` handler that
        returns a Response named nowhere else still has that Response registered at start.
        """
        catalog = MessageCatalog([BaseMessage, Command, Response, Event, ErrorResponse])
        for handler in self._handlers.values():
            catalog.add_models(handler.models)
        for reaction in self._reactions.values():
            catalog.add_models(reaction.models)
        catalog.add_models(self._extra)
        if self._state_model is not None:
            catalog.add(self._state_model, state=True)
        for module in self._modules():
            catalog.add_models(messages_defined_in(module, (Command, Response, Event)))
        return catalog

    def _modules(self) -> list[str]:
        names = [self._module] if self._module else []
        funcs = [h.func for h in self._handlers.values()]
        funcs += [r.func for r in self._reactions.values()]
        names += [getattr(f, "__module__", None) or "" for f in funcs]
        return [n for n in dict.fromkeys(names) if n and n in sys.modules]


def _sends(
    sends: Mapping[str, Iterable[type[Command]]] | None,
) -> tuple[tuple[str, type[Command]], ...]:
    """``sends=`` as (app prefix, command) pairs, each checked."""
    pairs: list[tuple[str, type[Command]]] = []
    for prefix, models in (sends or {}).items():
        if not isinstance(prefix, str) or not prefix.strip():
            raise CatalogError(f"sends= is keyed by the topic prefix of an app, not {prefix!r}")
        for model in models:
            if not (inspect.isclass(model) and issubclass(model, Command)):
                raise CatalogError(f"sends={{{prefix!r}: ...}} lists {model!r}, not a Command")
            pairs.append((prefix, model))
    return tuple(pairs)


def _check_handled(model: object, base: type[BaseMessage], key: str) -> None:
    """``model`` is a ``base`` with a field ``key``, or a CatalogError says what is wrong."""
    if not (inspect.isclass(model) and issubclass(model, base)):
        raise CatalogError(f"{model!r} is not a subclass of clubhouse {base.__name__}")
    if key not in model.model_fields:
        raise CatalogError(
            f"{model.__name__} has no field {key!r} to key its state by; "
            f"its fields are {', '.join(model.model_fields)}"
        )


def _returned_models(func: HandlerFunc) -> list[type[BaseMessage]]:
    """The message classes a handler's return annotation names (``A | B | None``)."""
    try:
        hints = typing.get_type_hints(func)
    except (NameError, TypeError):
        return []  # an annotation that does not resolve names no models; ``models()`` can
    returned = hints.get("return")
    members = (
        typing.get_args(returned)
        if typing.get_origin(returned) in (typing.Union, types.UnionType)
        else (returned,)
    )
    return [m for m in members if inspect.isclass(m) and issubclass(m, BaseMessage)]
