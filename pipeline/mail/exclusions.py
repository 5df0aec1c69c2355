"""Match senders against excluded-email patterns and subjects against ignored subjects."""

from __future__ import annotations


def sender_matches(address: str, pattern: str) -> bool:
    """``pattern`` is an exact address, ``@domain`` (or ``*@domain``, or a bare ``domain``
    as admins often type it), or ``user@*``; all case-insensitive."""
    address, pattern = address.strip().lower(), pattern.strip().lower()
    if not address or not pattern or "@" not in address:
        return False
    local, _, domain = address.rpartition("@")
    if "@" not in pattern:
        return domain == pattern
    if pattern.startswith(("@", "*@")):
        return domain == pattern.split("@", 1)[1]
    if pattern.endswith("@*"):
        return local == pattern[:-2]
    return address == pattern


def excluded_sender(addresses: list[str], patterns: list[str]) -> tuple[str, str] | None:
    """The first ``(address, pattern)`` that matches, or ``None``."""
    for address in addresses:
        for pattern in patterns:
            if sender_matches(address, pattern):
                return address, pattern
    return None


def ignored_subject(subject: str, patterns: list[str]) -> str | None:
    """The first pattern contained in ``subject`` (case-insensitive), or ``None``."""
    folded = (subject or "").casefold()
    for pattern in patterns:
        if pattern.strip() and pattern.strip().casefold() in folded:
            return pattern
    return None
