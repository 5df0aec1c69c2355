"""Keep URL-borne secrets out of every log line.

The ``003_…`` message API carries its key in the path (``/message/<name>/<key>.<secret>/…``),
so request lines, ``next`` links and attachment URLs hold a live credential. ``mask`` keeps
the key's public id (useful to an operator) and replaces everything after it; the
``SecretMask`` filter applies it to a record's rendered message and traceback, whichever
logger wrote it (Intake's own, Flask's, gunicorn's access and error logs).
"""

from __future__ import annotations

import logging
import re

MASK = "***"
# "/message/<name>/<segment>", the slashes possibly percent-encoded (a URL inside a query).
PATH_KEY = re.compile(
    r"(?P<lead>(?:/|%2[fF])message(?:/|%2[fF])[^/\s?#\"'%]+(?:/|%2[fF]))"
    r"(?P<segment>[^/\s?#\"'&]+?)(?=$|[/\s?#\"'&]|%2[fF])"
)
KEY_ID = re.compile(r"^[A-Za-z0-9_-]+(?=\.|%2[eE])")


def _masked_segment(match: re.Match[str]) -> str:
    key = KEY_ID.match(match["segment"])
    return f"{match['lead']}{key.group(0) + '.' if key else ''}{MASK}"


def mask(text: str) -> str:
    """``text`` with the secret of every ``003`` path key replaced by ``***``."""
    return PATH_KEY.sub(_masked_segment, text) if "message" in text else text


class SecretMask(logging.Filter):
    """Rewrites a record's message (and traceback text) masked; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


SECRET_MASK = SecretMask()
