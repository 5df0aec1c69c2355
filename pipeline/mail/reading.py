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

_DEFAULT_FACTORY: HeaderRegistry = policy.default.header_factory
_HEADER_CLASSES: dict[type, type] = {}


class ParsedOnce(HeaderRegistry):
    """``policy.default``'s header registry that remembers every header it built."""

    def __init__(self) -> None:
        super().__init__(
            base_class=_DEFAULT_FACTORY.base_class,
            default_class=_DEFAULT_FACTORY.default_class,
            use_default_map=False,
        )
        self.registry = dict(_DEFAULT_FACTORY.registry)
        self._built: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type:
        """The header class for ``name``; built once per specialised class, where the
        standard registry builds a new class for every header it parses."""
        cls = self.registry.get(name.lower(), self.default_class)
        combined = _HEADER_CLASSES.get(cls)
        if combined is None:
            combined = _HEADER_CLASSES.setdefault(cls, super().__getitem__(name))
        return combined

    def __call__(self, name: str, value: str) -> BaseHeader:
        key = (name, value)
        header = self._built.get(key)
        if header is None:  # a value that fails to parse raises again next time
            header = self._built[key] = super().__call__(name, value)
        return header


def reading_policy() -> EmailPolicy:
    """A fresh ``policy.default`` whose header factory parses each header once; one per
    message, so no parsed header is shared between messages or threads (the header classes
    are, as the standard registry's own classes are)."""
    return policy.default.clone(header_factory=ParsedOnce())
