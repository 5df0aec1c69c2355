"""``policy.default`` for reading one message, with each header field parsed only once.

With ``policy.default`` every ``msg.get``, ``get_content_type``, ``get_param``,
``get_filename``… hands the raw value to the policy's header factory, which parses it from
scratch; the feed parser alone asks for a part's Content-Type four or five times. Header
objects are immutable, so one message's factory can hand out the same object again for
the same name and value. Nothing else differs from ``policy.default``: same settings, same
header classes, same parser; the memory goes away with the message.
"""

from __future__ import annotations

from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import EmailPolicy

_REGISTRY = HeaderRegistry()  # policy.default's own: the same classes, the same parsing
_HEADER_CLASSES: dict[str, type] = {}


def _header_class(name: str) -> type:
    """The class ``policy.default`` parses ``name`` with, made once per name: the registry
    builds a new class every time it is asked."""
    key = name.lower()
    cls = _HEADER_CLASSES.get(key)
    if cls is None:
        cls = _HEADER_CLASSES.setdefault(key, _REGISTRY[name])
    return cls


class ParsedOnce:
    """A header factory for one message: ``policy.default``'s parsing, each field (name and
    value) parsed once."""

    def __init__(self) -> None:
        self.built: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name, value)
        header = self.built.get(key)
        if header is None:  # a value that fails to parse raises again next time
            header = self.built[key] = _header_class(name)(name, value)
        return header


def reading_policy() -> EmailPolicy:
    """A fresh ``policy.default`` whose header factory parses each header once; one per
    message, so no parsed header is shared between messages or threads (the header classes
    are, as the standard registry's own classes are)."""
    return policy.default.clone(header_factory=ParsedOnce())
