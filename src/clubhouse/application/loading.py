"""Loading a user's App from a ``module:attribute`` reference (``--app orders_app:app``)."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from clubhouse.application.app import App
from clubhouse.loading import ModuleReferenceError, import_reference

_HINT = "(create one with `app = App(prefix=...)`)"


class AppLoadError(ModuleReferenceError):
    """``--app`` does not name an App that can be imported."""


def load_app(reference: str) -> App:
    """The App that ``module:attr`` names; a function returning an App works too.

    Nothing else is called: a class (say, a command model) is not a factory, and calling it
    would only fail inside the user's code with an error that does not mention ``--app``.
    """
    target = import_reference(reference, option="--app", kind="app", error=AppLoadError)
    if isinstance(target, App):
        return target
    where = f"--app {reference}"
    if isinstance(target, type):
        raise AppLoadError(f"{where} is a class {target.__name__}, not a clubhouse.App {_HINT}")
    if not callable(target):
        raise AppLoadError(f"{where} is {_a(type(target).__name__)}, not a clubhouse.App {_HINT}")
    kind = "function" if inspect.isroutine(target) else "callable"
    what = f"{where} is a {kind} {getattr(target, '__name__', type(target).__name__)}"
    if not _callable_without_arguments(target):
        raise AppLoadError(f"{what} that takes arguments; an App factory takes none")
    made = target()
    if not isinstance(made, App):
        raise AppLoadError(
            f"{what} that returned {_a(type(made).__name__)}, not a clubhouse.App {_HINT}"
        )
    return made


def _callable_without_arguments(target: Callable[..., object]) -> bool:
    try:
        inspect.signature(target).bind()
    except TypeError:
        return False
    except ValueError:  # no signature to read (some builtins): let the call decide
        return True
    return True


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
