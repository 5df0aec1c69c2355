"""``003`` path keys never reach a log line: gunicorn's access log, its error log, the
application's own lines (``next`` links and attachment URLs included)."""

from __future__ import annotations

import json
import logging
import urllib.request

from config.log_masking import SECRET_MASK, mask
from config.logging import JsonFormatter
from pipeline.store import keys
from tests.helpers import wait_for
from tests.web.family_helpers import make_agent
from tests.web.served import gunicorn

USER = "agent-7878"


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_path_key_secrets_are_masked_in_the_gunicorn_access_log(tmp_path, conn, org):
    make_agent(conn, org.org_id, "agent1@company.com", "Agent1 Name", USER)
    issued = keys.create_key(conn, org.org_id, ["read"], "Path key")
    with gunicorn(tmp_path, workers=1) as served:
        base = f"{served.base_url}/message"
        listed = _get(
            f"{base}/listTickets/{issued.token}/{USER}?limit=1&cursorId=1&cursorUpdated=1"
        )
        grabbed = _get(f"{base}/grabAttachment/{issued.token}/{USER}/12345")
        encoded = _get(f"{base}/listTickets/{issued.key}%2E{issued.secret}/{USER}")
        wait_for(lambda: served.log().count("/message/") >= 3, 10)
        log = served.log()
    assert (listed, grabbed, encoded) == (200, 404, 200)
    assert issued.secret not in log
    assert f"/message/listTickets/{issued.key}.***/{USER}?limit=1" in log
    assert f"/message/grabAttachment/{issued.key}.***/{USER}/12345" in log


def test_application_log_lines_mask_next_links_and_attachment_urls():
    secret = "s3cr3t-value"
    record = logging.LogRecord(
        "web", logging.WARNING, __file__, 1, "next=%s attachment=%s", (
            f"http://h/message/listTickets/ik_1.{secret}/agent?cursorId=4",
            f"http://h/message/grabAttachment/ik_1.{secret}/agent/9",
        ), None,
    )  # fmt: skip
    try:
        raise RuntimeError(f"GET /message/grabTicket/ik_1.{secret}/agent/3 failed")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    SECRET_MASK.filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert secret not in json.dumps(line)
    assert "ik_1.***/agent?cursorId=4" in line["msg"]
    assert "/message/grabTicket/ik_1.***/agent/3" in line["exc"]


def test_masking_keeps_other_urls_whole():
    assert mask("GET /api/emails?page=2 HTTP/1.1") == "GET /api/emails?page=2 HTTP/1.1"
    assert mask("/message/listTickets/justasecret/agent") == "/message/listTickets/***/agent"
