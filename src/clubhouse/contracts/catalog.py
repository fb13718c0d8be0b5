"""The ordered catalog of message models (base models first, then concrete ones), and of the
state models apps keep their keys' state in."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from clubhouse.contracts.base import BaseMessage
from clubhouse.errors import ClubhouseError

MessageModel = type[BaseModel]  # a message, or the state model of an app


class CatalogError(ClubhouseError):
    """A model could not be added to the catalog (duplicate name, bad module)."""


class MessageCatalog:
    """Message models by name, iterated bases first (a class always after its ancestors).

    A model is a *base* when another model in the catalog derives from it; every other model is
    *concrete*. Names are unique because each model's schema subject is derived from its name.
    """

    def __init__(self, models: Iterable[MessageModel] = ()) -> None:
        self._models: dict[str, MessageModel] = {}
        self._states: set[MessageModel] = set()
        self.add_models(models)

    def add(self, model: MessageModel, *, state: bool = False) -> None:
        """Add one model: a message, or with ``state`` a plain Pydantic model an app keeps
        its keys' state in (registered, checked and documented like a message, on no topic).
        A different model with the same name is refused."""
        if state:
            if not (inspect.isclass(model) and issubclass(model, BaseModel)) or issubclass(
                model, BaseMessage
            ):
                raise CatalogError(
                    f"{model!r} cannot be a state model: it must be a Pydantic BaseModel "
                    "that is not a message"
                )
        elif not (inspect.isclass(model) and issubclass(model, BaseMessage)):
            raise CatalogError(f"{model!r} is not a subclass of clubhouse BaseMessage")
        existing = self._models.get(model.__name__)
        if existing is model:
            return
        if existing is not None:
            raise CatalogError(
                f"duplicate model name {model.__name__!r}: {_where(existing)} and {_where(model)}."
                " Each name maps to one schema subject; rename one of them"
            )
        self._models[model.__name__] = model
        if state:
            self._states.add(model)

    def add_models(self, models: Iterable[MessageModel]) -> list[MessageModel]:
        """Add several models (another catalog's keep their kind); returns them in order."""
        added = list(models)
        states = models.states if isinstance(models, MessageCatalog) else set()
        for model in added:
            self.add(model, state=model in states)
        return added

    @property
    def states(self) -> set[MessageModel]:
        """The state models."""
        return set(self._states)

    def is_state(self, model: MessageModel) -> bool:
        """True for a state model."""
        return model in self._states

    def add_module(self, module_name: str) -> list[MessageModel]:
        """Import ``module_name`` and add every BaseMessage subclass it defines."""
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise CatalogError(
                f"cannot import contract module {module_name!r}: {exc}. "
                "Is it installed or on PYTHONPATH?"
            ) from exc
        found = _models_defined_in(module.__name__, vars(module).values())
        if not found:
            raise CatalogError(
                f"module {module_name!r} defines no subclass of clubhouse BaseMessage"
            )
        return self.add_models(found)

    def get(self, name: str) -> MessageModel:
        """The model called ``name``; raises ``KeyError`` naming what is known."""
        try:
            return self._models[name]
        except KeyError:
            raise KeyError(
                f"no model {name!r} in the catalog ({', '.join(self._models)})"
            ) from None

    def is_base(self, model: MessageModel) -> bool:
        """True when another catalog model derives from ``model``."""
        return any(
            other is not model and issubclass(other, model) for other in self._models.values()
        )

    @property
    def bases(self) -> list[MessageModel]:
        """Base models, ancestors before descendants."""
        return [m for m in self._ordered() if self.is_base(m)]

    @property
    def concrete(self) -> list[MessageModel]:
        """Concrete models, in the order they were added."""
        return [m for m in self._ordered() if not self.is_base(m)]

    def __iter__(self) -> Iterator[MessageModel]:
        return iter(self.bases + self.concrete)

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, type) and self._models.get(item.__name__) is item

    def _ordered(self) -> list[MessageModel]:
        # Fewer catalog ancestors first; ties keep insertion order (sorted is stable).
        models = list(self._models.values())
        return sorted(
            models, key=lambda m: sum(1 for o in models if o is not m and issubclass(m, o))
        )


def messages_defined_in(
    module_name: str, kinds: tuple[type[BaseMessage], ...] = (BaseMessage,)
) -> list[MessageModel]:
    """The subclasses of ``kinds`` that the imported module ``module_name`` defines itself."""
    module = sys.modules.get(module_name)
    if module is None:
        return []
    return [m for m in _models_defined_in(module_name, vars(module).values())
            if issubclass(m, kinds) and m not in kinds]  # fmt: skip


def _models_defined_in(module_name: str, values: Iterable[object]) -> list[MessageModel]:
    return [
        v
        for v in values
        if inspect.isclass(v) and issubclass(v, BaseMessage) and v.__module__ == module_name
    ]


def _where(model: type) -> str:
    return f"{model.__module__}.{model.__qualname__}"
