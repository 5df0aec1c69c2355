"""The ``003_…`` message API's formats: dates in and out, cursors, CSV, address lists."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Response

from pipeline.errors import InputError

DEFAULT_ZONE = "Europe/Stockholm"
# Cells a spreadsheet would run as a formula (OWASP "CSV Injection"): senders choose
# subjects and addresses, and an agent opens the export in Excel or LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def iso_ms(value: datetime | None) -> str | None:
    """``2020-01-01T00:00:00.000Z``, as the seed's examples show."""
    if value is None:
        return None
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def epoch_ms(value: datetime) -> int:
    """Whole milliseconds since the epoch (the cursor's unit)."""
    return int(value.replace(microsecond=0).timestamp()) * 1000 + value.microsecond // 1000


#: The last whole millisecond Python's datetime holds: cursors beyond it name no row.
MAX_EPOCH_MS = 253_402_300_799_999


def from_epoch_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1000, UTC).replace(microsecond=(value % 1000) * 1000)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {name!r}", "timezone", 422) from None


def parse_moment(value: str, field: str, tz: ZoneInfo, *, upper: bool = False) -> datetime:
    """A date or date-time string; naive values are read in ``tz``.

    ``upper=True`` makes it an exclusive upper bound that includes the moment given: a bare
    date then means the whole of that day (up to the next midnight). The result is in UTC;
    a moment UTC cannot hold (year 9999 plus a day, year 1 east of Greenwich) is a 422.
    """
    text = value.strip().replace(" ", "T")
    try:
        if len(text) == 10:
            start = datetime.combine(date.fromisoformat(text), time(), tz)
            moment = start + timedelta(days=1) if upper else start
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=tz)
            moment = moment + timedelta(microseconds=1) if upper else moment
    except ValueError:
        raise InputError(f"{field}: not a date or date-time", field, 422) from None
    except OverflowError:
        raise InputError(f"{field}: date out of range", field, 422) from None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise InputError(f"{field}: date out of range", field, 422) from None


def addresses(items: list[dict[str, str]], with_names: bool = True) -> list[dict[str, str]]:
    """``[{"address", "name"?}]`` from stored ``[{"email", "name"}]``."""
    result = []
    for item in items:
        entry = {"address": item["email"]}
        if with_names and item.get("name"):
            entry["name"] = item["name"]
        result.append(entry)
    return result


def csv_response(columns: list[str], rows: list[dict[str, Any]], next_url: str | None) -> Response:
    """RFC 4180 CSV in UTF-8 with a header row; the next page's URL in a ``Link`` header."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({name: inert(value) for name, value in row.items()} for row in rows)
    response = Response(buffer.getvalue().encode(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


def inert(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: one starting like a formula gets a leading
    single quote (OWASP's advice); other values are written as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
