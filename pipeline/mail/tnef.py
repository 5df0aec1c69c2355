"""Open Outlook's ``winmail.dat`` (TNEF) so its attachments become ordinary attachments.

Outlook sends its rich-text mail as one ``application/ms-tnef`` part that no other client
can open; the files inside are what the customer meant to send. tnefparse reads the
container and compressed-rtf unpacks the RTF body. A container we cannot read is kept
as the ``winmail.dat`` it was.
"""

from __future__ import annotations

import logging
import mimetypes
from dataclasses import dataclass, field

from tnefparse import TNEF

from pipeline.mail.charsets import clean, decode_bytes

log = logging.getLogger(__name__)

TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})


@dataclass(frozen=True)
class TnefFile:
    filename: str
    mime_type: str
    data: bytes


@dataclass
class TnefContent:
    files: list[TnefFile] = field(default_factory=list)
    body_text: str | None = None
    body_html: str | None = None
    rtf: bytes | None = None


def is_tnef(mime_type: str, filename: str | None) -> bool:
    """True for an ``application/ms-tnef`` part or a file called ``winmail.dat``."""
    return mime_type in TNEF_TYPES or (filename or "").strip().lower() == "winmail.dat"


def _as_text(value: object) -> str | None:
    """tnefparse gives bodies as str, bytes or a one-item list of bytes."""
    if isinstance(value, list):
        value = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in value)
    if isinstance(value, bytes):
        return decode_bytes(value.rstrip(b"\x00"), None).text
    return clean(value) if isinstance(value, str) else None


def _file(attachment, index: int) -> TnefFile:
    name = clean(attachment.long_filename() or attachment.name or "") or f"winmail-{index}.bin"
    data = attachment.data if isinstance(attachment.data, bytes) else b""
    mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return TnefFile(name, mime_type, data)


def extract(data: bytes) -> TnefContent | None:
    """The files and bodies inside a TNEF container; ``None`` if it cannot be read or
    holds nothing we can use."""
    try:
        tnef = TNEF(data, do_checksum=False)
        content = TnefContent(
            files=[_file(a, i) for i, a in enumerate(tnef.attachments, 1) if a.data],
            body_text=_as_text(tnef.body),
            body_html=_as_text(tnef.htmlbody),
        )
        rtf = tnef.rtfbody
        content.rtf = rtf if isinstance(rtf, bytes) and rtf else None
    except Exception as exc:  # tnefparse raises bare ValueError/IndexError/struct.error
        log.info("unreadable TNEF container: %s", exc)
        return None
    empty = not (content.files or content.body_text or content.body_html or content.rtf)
    return None if empty else content  # nothing inside: keep the container as it came
