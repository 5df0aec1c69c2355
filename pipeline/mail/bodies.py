"""Choose a message's text and HTML bodies; every other leaf becomes a ``Part``.

Plain parts outside a ``multipart/alternative`` are joined (Apple Mail splits text around
inline images); the first HTML part is the HTML body; HTML alone gives the text through
``html_text``; with no body at all, a forwarded message's or a winmail.dat's body stands
in. Inline images keep their Content-ID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from pipeline.mail import structure, tnef
from pipeline.mail.charsets import decode_bytes
from pipeline.mail.html_text import html_to_text
from pipeline.mail.parts import Part, payload_bytes, to_part

HTML_TEXT_LIMIT = 1_000_000
CID_REFERENCE = re.compile(r"cid:([^\"'\s)>]+)", re.IGNORECASE)
LINE_BREAK = re.compile(r"\r\n?")


@dataclass
class Bodies:
    text: str | None = None
    html: str | None = None
    source: str = "none"
    parts: list[Part] = field(default_factory=list)
    charsets: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    tnef_bodies: list[tuple[str | None, str | None]] = field(default_factory=list)


def unix_newlines(text: str | None) -> str | None:
    """``text`` with LF line endings: mail ends its lines in CRLF on the wire (RFC 5322
    §2.1), and the APIs serve text with LF only; the raw message keeps its CRLF."""
    return LINE_BREAK.sub("\n", text) if text and "\r" in text else text


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (ValueError, TypeError, LookupError):
        return None


def _decode(part: Message, found: Bodies, kind: str) -> str:
    decoded = decode_bytes(payload_bytes(part), _charset(part))
    found.charsets.setdefault(kind, decoded.charset)
    if decoded.fell_back:
        fallbacks = found.notes.setdefault("charset_fallbacks", [])
        fallbacks.append({"part": kind, "declared": decoded.declared, "used": decoded.charset})
    return unix_newlines(decoded.text) or ""


def _open_tnef(part: Message, found: Bodies, leftovers: list[Part]) -> None:
    content = tnef.extract(payload_bytes(part))
    if content is None:
        found.parts.append(
            Part("winmail.dat", "application/ms-tnef", payload_bytes(part), False, None)
        )
        found.notes["tnef"] = {"readable": False}
        return
    found.parts += [Part(f.filename, f.mime_type, f.data, False, None) for f in content.files]
    found.notes["tnef"] = {"readable": True, "files": [f.filename for f in content.files]}
    if content.body_text or content.body_html:
        found.notes["tnef"]["body"] = True
        found.tnef_bodies.append((content.body_text, content.body_html))
    if content.rtf:
        leftovers.append(Part("winmail-body.rtf", "application/rtf", content.rtf, False, None))


def _nested_body(part: Message) -> tuple[str | None, str | None]:
    inner = part.get_payload()[0]
    found = collect(inner, with_parts=False)
    return found.text, found.html


def collect(msg: Message, *, with_parts: bool = True) -> Bodies:
    """Bodies, parts and notes for ``msg``; raises ``structure.TooDeep`` on absurd nesting."""
    found = Bodies()
    leaves = list(structure.leaves(msg))
    plains = [leaf for leaf in leaves if leaf.kind == "plain"]
    htmls = [leaf for leaf in leaves if leaf.kind == "html"]
    _choose_text(found, plains)
    if htmls:
        found.html = _decode(htmls[0].part, found, "html")
    cids = set(CID_REFERENCE.findall(found.html or ""))
    rtf_bodies: list[Part] = []
    for index, leaf in enumerate(leaves, 1):
        if leaf.kind == "tnef" and with_parts:
            _open_tnef(leaf.part, found, rtf_bodies)
        elif leaf.kind == "nested":
            found.notes.setdefault("nested_messages", 0)
            found.notes["nested_messages"] += 1
            if with_parts:
                found.parts.append(to_part(leaf, index, cids))
        elif with_parts and _is_extra(leaf, htmls):
            found.parts.append(to_part(leaf, index, cids))
    _fill_missing_body(found, leaves, rtf_bodies)
    return found


def _is_extra(leaf: structure.Leaf, htmls: list[structure.Leaf]) -> bool:
    """An attachment, or an HTML part other than the HTML body."""
    return leaf.kind == "attachment" or (leaf.kind == "html" and leaf is not htmls[0])


def _choose_text(found: Bodies, plains: list[structure.Leaf]) -> None:
    texts, seen_alternative = [], False
    for leaf in plains:
        if leaf.parent == "multipart/alternative":
            if seen_alternative:
                continue
            seen_alternative = True
        texts.append(_decode(leaf.part, found, "text"))
    if texts:
        found.text, found.source = "\n\n".join(t.strip("\n") for t in texts), "text"


def _fill_missing_body(found: Bodies, leaves: list[structure.Leaf], rtf: list[Part]) -> None:
    """Text from HTML, then from a winmail.dat body, then from a forwarded message."""
    if found.text is None and found.html is None and found.tnef_bodies:
        found.text, found.html = (unix_newlines(b) for b in found.tnef_bodies[0])
        found.source = "tnef"
    if found.text is None and found.html is None:
        nested = [leaf for leaf in leaves if leaf.kind == "nested"]
        if nested:
            found.text, found.html = _nested_body(nested[0].part)
            found.source = "nested_message" if found.text or found.html else "none"
    if found.text is None and found.html is not None:
        if len(found.html) > HTML_TEXT_LIMIT:  # layout of megabytes of markup costs seconds
            found.notes["html_text_truncated"] = True
        found.text = html_to_text(found.html[:HTML_TEXT_LIMIT])
        found.source = "html" if found.source == "none" else found.source
    if found.text is None and found.html is None:
        found.parts += rtf  # the only trace of what the sender wrote
