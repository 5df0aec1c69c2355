"""bounces: RFC 3464 delivery status notifications."""

from pathlib import Path

from pipeline.mail.bounces import DsnRecipient, parse_report, report_type
from pipeline.mail.mime import parse_bytes, read_message

DATA = Path(__file__).resolve().parents[2] / "data"


def test_report_type_is_read_from_the_content_type():
    assert report_type('multipart/report; report-type="delivery-status"; b=1') == "delivery-status"
    assert report_type("multipart/report; boundary=x") == ""
    assert report_type("multipart/mixed; boundary=x") is None


def test_a_dsn_gives_action_status_diagnostic_and_the_original_message_id():
    [dsn] = parse_report(parse_bytes((DATA / "dsn-5.1.1.eml").read_bytes()))
    assert dsn.recipient == "nobody@example.net"
    assert (dsn.action, dsn.status, dsn.event) == ("failed", "5.1.1", "failed_permanent")
    assert dsn.diagnostic.startswith("550 5.1.1")
    assert dsn.original_message_id == "<auto-reply-1@intake.local>"
    assert dsn.reporting_mta == "mx.example.net"


def test_a_dsn_with_a_truncated_boundary_is_still_read():
    raw = (DATA / "stdlib" / "msg_25.txt").read_bytes()
    msg, notes = read_message(raw)
    [dsn] = parse_report(msg)
    assert notes["boundary_repaired"] is True
    assert (dsn.recipient, dsn.status) == ("scoffman@wellpartner.com", "5.4.6")


def test_actions_map_to_delivery_events():
    def event(action, status):
        return DsnRecipient(None, action, status, None, None, None).event

    assert event("delivered", "2.0.0") == "delivered"
    assert event("delayed", "4.4.1") == "failed_temporary"
    assert event("failed", "4.4.7") == "failed_temporary"
    assert event("failed", "5.7.1") == "failed_permanent"
