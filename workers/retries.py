"""Whether the job an actor is running is its last attempt (Dramatiq's ``Retries``)."""

from __future__ import annotations

from dramatiq.middleware import CurrentMessage


def is_last_attempt(max_retries: int, *, when_called_directly: bool) -> bool:
    """``True`` once the message has been retried ``max_retries`` times. An actor called as
    a plain function (tests, a shell) has no message: the caller says what that means."""
    message = CurrentMessage.get_current_message()
    if message is None:
        return when_called_directly
    return message.options.get("retries", 0) >= max_retries
