"""Errors the engine raises. Each names what it is about, so a user can fix the input."""

from __future__ import annotations


class PolicyError(Exception):
    """A policy question that cannot be answered (e.g. a date before any value in force)."""


class NoValueInForce(PolicyError):
    def __init__(self, parameter: str, on: object, first: object) -> None:
        super().__init__(
            f"parameter {parameter!r} has no value in force on {on}; its first value takes effect {first}"
        )
        self.parameter = parameter
        self.on = on
        self.first = first


class InputError(ValueError):
    """Bad input to a policy computation, naming the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
