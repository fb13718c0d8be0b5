"""Loading a user's App from a ``module:attribute`` reference (``--app orders_app:app``)."""

from __future__ import annotations

from clubhouse.application.app import App
from clubhouse.loading import ModuleReferenceError, import_reference


class AppLoadError(ModuleReferenceError):
    """``--app`` does not name an App that can be imported."""


def load_app(reference: str) -> App:
    """The App that ``module:attr`` names; a callable returning an App works too."""
    target = import_reference(reference, option="--app", kind="app", error=AppLoadError)
    if not isinstance(target, App) and callable(target):
        target = target()
    if not isinstance(target, App):
        raise AppLoadError(
            f"--app {reference!r} names a {type(target).__name__}, not a clubhouse App "
            "(create one with `app = App(prefix=...)`)"
        )
    return target
