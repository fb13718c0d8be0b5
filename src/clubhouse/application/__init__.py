"""The App API: typed command handlers with keyed state, run by the Clubhouse service."""

from clubhouse.application.app import App, CommandHandler, Prefixes, ReactionHandler
from clubhouse.application.context import CommandRejected, Context
from clubhouse.application.dispatch import Dispatched, Dispatcher

__all__ = [
    "App", "CommandHandler", "CommandRejected", "Context", "Dispatched", "Dispatcher",
    "Prefixes", "ReactionHandler",
]  # fmt: skip
