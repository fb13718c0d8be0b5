"""The root of Clubhouse's exception hierarchy; each area derives its own errors from it."""


class ClubhouseError(Exception):
    """Base class for every error Clubhouse raises on purpose."""
