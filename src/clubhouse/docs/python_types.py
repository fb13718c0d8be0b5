"""How a field's Python annotation reads in the docs, and which models a model nests."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel


def python_type_name(annotation: Any) -> str:
    """``annotation`` as written in source, e.g. ``str | None`` or ``dict[str, Any]``.

    ``Annotated`` metadata is dropped: constraints show up in the field's doc, not its type.
    """
    if annotation is type(None) or annotation is None:
        return "None"
    if annotation is Any:
        return "Any"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return python_type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(python_type_name(a) for a in args)
    if origin is Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin is not None:
        name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        if not args:
            return name
        shown = ["..." if a is Ellipsis else python_type_name(a) for a in args]
        return f"{name}[{', '.join(shown)}]"
    supertype = getattr(annotation, "__supertype__", None)  # typing.NewType keeps its own name
    if supertype is not None:
        return str(getattr(annotation, "__name__", supertype))
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def nested_classes(model: type[BaseModel]) -> dict[str, type]:
    """``model`` and every model or enum class its fields reach, by class name.

    The Avro converter names records and enums after their classes, so a name found in a
    schema leads back to the Python class that documents it.
    """
    found: dict[str, type] = {}
    _visit(model, found)
    return found


def _visit(tp: Any, found: dict[str, type]) -> None:
    if isinstance(tp, type) and issubclass(tp, (BaseModel, enum.Enum)):
        if tp.__name__ in found:
            return
        found[tp.__name__] = tp
        if issubclass(tp, BaseModel):
            for info in tp.model_fields.values():
                _visit(info.annotation, found)
        return
    for arg in get_args(tp):
        _visit(arg, found)
