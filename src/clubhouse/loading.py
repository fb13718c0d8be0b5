"""Importing what a ``module:attribute`` reference on the command line names.

``--app orders_app:app`` and ``--agent-factory myapp.agents:make`` are resolved the same way,
so they fail the same way: a message naming the option, the reference and what is wrong.
"""

from __future__ import annotations

import importlib

from clubhouse.errors import ClubhouseError


class ModuleReferenceError(ClubhouseError):
    """A ``module:attribute`` reference does not name something that can be imported."""


def import_reference(
    reference: str,
    *,
    option: str,
    kind: str,
    error: type[ModuleReferenceError] = ModuleReferenceError,
) -> object:
    """The object ``module:attr.path`` names; ``option`` and ``kind`` word the errors.

    A SyntaxError in the module propagates, so the caller can name its file and line.
    """
    module_name, sep, attr = reference.partition(":")
    if not sep or not module_name or not attr:
        raise error(f"{option} {reference!r} must look like 'package.module:{kind}'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(f"cannot import {module_name!r} for {option}: {exc}") from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise error(f"{module_name!r} has no attribute {attr!r}") from None
    return target
