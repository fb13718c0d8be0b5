"""Hypothesis strategies that build valid instances of any contract model from its fields."""

from __future__ import annotations

import types
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, get_args, get_origin
from uuid import UUID

from hypothesis import strategies as st
from pydantic import AwareDatetime, BaseModel

json_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)

_offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=_offsets
)


def for_annotation(tp: Any) -> st.SearchStrategy[Any]:
    origin = get_origin(tp)
    if tp is Any:
        return json_values
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[for_annotation(a) for a in get_args(tp)])
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin is dict:
        _, value = get_args(tp)
        if value is Any:
            return json_objects
        return st.dictionaries(st.text(max_size=8), for_annotation(value), max_size=4)
    if origin is list:
        return st.lists(for_annotation(get_args(tp)[0]), max_size=4)
    if tp is type(None):
        return st.none()
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return for_model(tp)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return st.sampled_from(list(tp))
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=30),
        int: st.integers(-(2**63), 2**63 - 1),
        float: st.floats(allow_nan=False),
        bool: st.booleans(),
        bytes: st.binary(max_size=20),
        UUID: st.uuids(),
        AwareDatetime: aware_datetimes,
        datetime: st.datetimes(min_value=datetime(1900, 1, 1)).map(lambda d: d.replace(tzinfo=UTC)),
        timedelta: st.timedeltas(),
        Decimal: st.decimals(places=2, min_value=-(10**6), max_value=10**6),
    }
    return simple[tp]


def for_model(model: type[BaseModel]) -> st.SearchStrategy[BaseModel]:
    """Instances of ``model`` with every field drawn; optional fields sometimes left out."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, info in model.model_fields.items():
        strategy = for_annotation(info.annotation)
        if name == "agent_id":
            strategy = st.text(min_size=1, max_size=20)
        (required if info.is_required() else optional)[name] = strategy
    return st.fixed_dictionaries(required, optional=optional).map(model.model_validate)


_leaf_types: st.SearchStrategy[Any] = st.sampled_from([int, str, float, bool, bytes, UUID])


def _wrap(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        inner.map(lambda t: list[t]),  # type: ignore[valid-type]
        inner.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        inner.map(lambda t: t | None),
        inner.map(lambda t: typing.Optional[t]),  # noqa: UP045 - both spellings on purpose
    )


# Annotations, not values: containers of optionals, optional containers, nested both ways.
# Drawing only values for hand-written models could never reach a type nobody wrote down.
annotations = st.recursive(_leaf_types, _wrap, max_leaves=4)
