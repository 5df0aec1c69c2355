"""Bodies, fetches and attachment lists are bounded per request: a few MB for JSON APIs and
the public RPC (the large limit only where raw mail or attachments come in), one deadline
for every URL a request fetches, and a cap on how many attachment URLs it may name."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline import fetch
from pipeline.errors import InputError
from pipeline.store import keys
from tests.intake import provider_payloads as pp
from tests.web.family_helpers import make_agent

RPC = "/api/rpc/tickets/email/inbound"
JUST_OVER = 4 * 1024 * 1024 + 1


def padded_json(size: int) -> bytes:
    return b'{"pad": "' + b"x" * (size - 11) + b'"}'


def test_a_json_api_refuses_a_body_over_a_few_megabytes(client, org):
    answer = client.post(
        "/api/emails/bulk",
        data=padded_json(JUST_OVER),
        content_type="application/json",
        headers=org.headers,
    )
    assert answer.status_code == 413


def test_the_public_rpc_refuses_a_body_over_a_few_megabytes_without_auth(client, conn):
    answer = client.post(RPC, data=padded_json(JUST_OVER), content_type="application/json")
    assert answer.status_code == 413
    assert answer.json["success"] is False
    assert pp.message_count(conn) == 0


def test_routes_taking_attachments_keep_the_large_limit(client, org):
    """The same size reaches validation on ``/api/send``, which takes base64 attachments."""
    answer = client.post(
        "/api/send", data=padded_json(JUST_OVER), content_type="application/json",
        headers=org.headers,
    )  # fmt: skip
    assert answer.status_code == 422


def test_the_large_limit_still_holds(app, org):
    with pp.overridden(app, max_message_bytes=1_000_000) as small:
        answer = small.post(
            "/api/send", data=padded_json(2_000_001), content_type="application/json",
            headers=org.headers,
        )  # fmt: skip
    assert answer.status_code == 413


def test_the_public_rpc_refuses_more_attachment_urls_than_the_cap(client, conn, org):
    urls = [{"url": f"http://203.0.113.1/{i}"} for i in range(fetch.MAX_URLS + 1)]
    answer = client.post(
        RPC,
        json={"organizationId": str(org.org_id), "from": "a@b.test", "to": "c@d.test",
              "attachments": urls},
    )  # fmt: skip
    assert answer.status_code == 422
    assert answer.json["field"] == "attachments"
    assert pp.message_count(conn) == 0


def test_insert_ticket_refuses_more_attachment_urls_than_the_cap(client, conn, org):
    make_agent(conn, org.org_id, "agent1@company.com", "Agent1 Name", "agent-1")
    issued = keys.create_key(conn, org.org_id, ["write"], "Path key")
    body = {
        "fromEmail": "a@b.test", "message": "hi", "subject": "hi", "toEmail": "c@d.test",
        "attachments": [f"http://203.0.113.1/{i}" for i in range(fetch.MAX_URLS + 1)],
    }  # fmt: skip
    answer = client.post(f"/message/insertTicket/{issued.token}/agent-1", json=body)
    assert answer.status_code == 422
    assert answer.json["result"] == "error"


class Trickle(BaseHTTPRequestHandler):
    """``/<n>``: sends ``n`` bytes, one every 0.1 s: each read is quick, the whole is slow."""

    def do_GET(self):
        if self.path == "/stall":  # headers, then nothing
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            time.sleep(3)
            return
        size = int(self.path.strip("/"))
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            for _ in range(size):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            return  # the client gave up

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle_url():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_trickling_server_is_cut_off_by_the_overall_deadline(trickle_url):
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        fetch.fetch(
            f"{trickle_url}/200", max_bytes=1000, allow_private=True, deadline=fetch.Deadline(1)
        )
    assert refused.value.status == 504
    assert time.monotonic() - started < 2.5


def test_a_server_that_stalls_past_the_deadline_is_a_504(trickle_url):
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        fetch.fetch(
            f"{trickle_url}/stall", max_bytes=1000, allow_private=True, deadline=fetch.Deadline(1)
        )
    assert refused.value.status == 504
    assert time.monotonic() - started < 2.5


def test_one_deadline_covers_every_attachment_of_a_request(trickle_url):
    from pipeline.intake.providers import generic

    payload = generic.InboundEmail.model_validate(
        {"organizationId": "00000000-0000-0000-0000-000000000001", "from": "a@b.test",
         "to": "c@d.test", "attachments": [{"url": f"{trickle_url}/10"}] * 3},
    )  # fmt: skip
    started = time.monotonic()
    with pytest.raises(InputError) as refused:
        generic.fetch_attachments(payload, 10_000, True, fetch.Deadline(1.5))
    assert refused.value.status == 504
    assert refused.value.field == "attachments.1.url"  # each alone would have made it
    assert time.monotonic() - started < 3
