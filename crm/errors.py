"""Errors that services raise for input a caller can fix."""

from jengu.errors import InputError


class InvalidInput(InputError):
    """A value that cannot be stored; `field` names the input it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
