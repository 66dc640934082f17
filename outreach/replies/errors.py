"""Errors of reply processing."""

from jengu.failures import InvalidDataError


class MalformedEmailError(InvalidDataError):
    """The stored bytes are not a readable e-mail; retrying cannot help (dead letter)."""
