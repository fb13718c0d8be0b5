"""A module with no message models."""

VALUE = 1
