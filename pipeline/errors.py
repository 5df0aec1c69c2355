"""The error tiers every entry point maps to its own protocol.

- ``InputError``: the caller's fault; a 4xx envelope or an SMTP 5xx.
- ``PermanentError``: will not succeed on retry; the message is marked ``failed``.
- Anything else is transient and left to Dramatiq's retries.
"""

from __future__ import annotations


class InputError(Exception):
    """Bad input from a client, naming the offending field."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class NotFound(InputError):
    def __init__(self, message: str = "Not found", field: str | None = None) -> None:
        super().__init__(message, field, 404)


class Unauthorized(InputError):
    def __init__(self, message: str = "Invalid API credentials") -> None:
        super().__init__(message, None, 401)


class Forbidden(InputError):
    def __init__(self, message: str = "Forbidden") -> None:
        super().__init__(message, None, 403)


class Conflict(InputError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field, 409)


class PermanentError(Exception):
    """A stage or delivery that cannot succeed by retrying (kept, marked failed)."""
