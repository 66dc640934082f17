"""Errors that services raise for input a caller can fix."""


class InvalidInput(ValueError):
    """A value that cannot be stored; `field` names the input it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
