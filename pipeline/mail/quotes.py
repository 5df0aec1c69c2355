"""The new text of a reply: what the sender wrote, without quoted history or signature.

mail-parser-reply finds the "On … wrote:" / "From: … Sent:" headers of the common clients
in many languages and the usual signatures. Around it we add what it misses: the Spanish
Gmail form ("El … escribió:", its pattern wants two spaces), the "-----Original Message-----"
separators of localized Outlook, and quoted ("> ") lines trailing at the end. A forwarded
message is the point of a forward, so it is kept. Very long bodies are only scanned at the
top, where a reply's own text is.
"""

from __future__ import annotations

import re

from mailparser_reply.parser import EmailMessage

from pipeline.mail.line_regex import LineFindall, line_pattern, line_start, starts_at_line

LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "sv")
SCAN_LIMIT = 64_000

WROTE_LINE = line_pattern(
    r"(?:>\s*)*(?:On|Le|Am|El|Il|Op|Den|Em)\s[^\n]{0,300}?"
    r"(?:wrote|a\sécrit|schrieb|escribió|ha\sscritto|schreef|skrev|escreveu)[^\n]{0,120}:[ \t]*$",
    re.IGNORECASE,
)
ORIGINAL_SEPARATOR = line_pattern(
    r"[ \t]*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Originalmeddelande"
    r"|Ursprungligt meddelande)\s*-{2,}[ \t]*$",
    re.IGNORECASE,
)
FORWARD_MARKER = line_pattern(
    r"[ \t]*(?:-{2,}\s*(?:Forwarded message|Message transféré|Weitergeleitete Nachricht"
    r"|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht|Vidarebefordrat meddelande)"
    r"\s*-{2,}|Begin forwarded message:|Début du message réexpédié :)",
    re.IGNORECASE,
)


# Anything the reply library could act on: a quoted line, a "Word:" header line, a line
# ending in ":" ("… wrote:"), a separator or "-- " signature line. Without one, the
# library's large pattern (most of a parse's cost on a long body) cannot match, so we
# skip it. The price: a closing "Best regards" with nothing quoted stays in the new text.
HINT_LINE = line_pattern(r"[ \t*]*(?:>|[^\W\d_][\w.-]{0,14} ?:|[-_=]{2,})")
HINT_LINE_END = re.compile(r":[ \t]*$", re.MULTILINE)


def _has_hint(text: str) -> bool:
    return HINT_LINE_END.search(text) is not None or line_start(HINT_LINE, text) is not None


def _first_cut(text: str) -> int | None:
    """Where the quoted history starts by our own patterns, or ``None``."""
    found = [line_start(p, text) for p in (WROTE_LINE, ORIGINAL_SEPARATOR)]
    return min((start for start in found if start is not None), default=None)


def _is_forward(text: str) -> bool:
    forward = line_start(FORWARD_MARKER, text)
    if forward is None:
        return False
    cut = _first_cut(text)
    return cut is None or forward < cut


def _drop_trailing_quotes(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and lines[-1].lstrip().startswith(">"):
        lines.pop()
    return "\n".join(lines).rstrip()


def _library_message(kind: type[EmailMessage], text: str) -> EmailMessage:
    return kind(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True)


_COMPILED = _library_message(EmailMessage, "")


def _line_findall(pattern: re.Pattern[str]) -> re.Pattern[str] | LineFindall:
    return LineFindall(pattern) if starts_at_line(pattern) else pattern


class _Reply(EmailMessage):
    """The library's message with its three patterns built once (it joins them from its
    language tables for every message), and its reply-header pattern, which can only match
    where a line starts, tried only there: trying it at every position of the text was most
    of the cost of a reply."""

    HEADER_REGEX = _line_findall(_COMPILED.HEADER_REGEX)
    DISCLAIMERS_REGEX = _COMPILED.DISCLAIMERS_REGEX
    SIGNATURE_REGEX = _COMPILED.SIGNATURE_REGEX


def _library_reply(text: str) -> str:
    message = _library_message(_Reply, text).read()
    return message.replies[0].body if message.replies else text


def extract_new_text(text: str | None) -> tuple[str | None, str]:
    """Return the reply's own text and how it was found (``"reply"``, ``"whole"``,
    ``"forward"``, ``"none"``). The full body is stored separately, untouched."""
    if text is None or not text.strip():
        return text, "none"
    # Mail over SMTP has CRLF line ends; the patterns (and the library's) end lines at LF.
    scanned = text[:SCAN_LIMIT].replace("\r\n", "\n")
    if _is_forward(scanned):
        return text.strip(), "forward"
    if not _has_hint(scanned):
        return text.strip(), "whole"
    cut = _first_cut(scanned)
    head = scanned if cut is None else scanned[:cut]
    try:
        new = _library_reply(head)
    except Exception:  # a regex library on hostile input: keep what we have
        new = head
    new = _drop_trailing_quotes(new)
    if _squeezed(new) == _squeezed(scanned):  # nothing stripped: keep the original layout
        return text.strip(), "whole"
    return new, "reply"


def _squeezed(text: str) -> str:
    """``text`` with each line stripped, as the reply library normalizes it."""
    return "\n".join(line.strip() for line in text.strip().replace("\r\n", "\n").split("\n"))
