"""Build each provider's documented payload (providers.md) from one ``EmailMessage``.

The field names and shapes are those of Mailgun Routes, SendGrid Inbound Parse and
Postmark's inbound webhook; the values come from the message, so the same mail can be
sent over SMTP and posted by each provider and the results compared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from io import BytesIO

BOUNDARY = "----intake-test-boundary"


def raw_of(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=policy.SMTP)


def files_of(msg: EmailMessage) -> list[dict]:
    """Every part with a filename: name, type, bytes and Content-ID (no brackets)."""
    found = []
    for part in msg.walk():
        if part.is_multipart() or not part.get_filename():
            continue
        cid = (part.get("Content-ID") or "").strip("<>") or None
        found.append(
            {
                "filename": part.get_filename(),
                "type": part.get_content_type(),
                "data": part.get_payload(decode=True),
                "cid": cid,
            }
        )
    return found


def bodies_of(msg: EmailMessage) -> tuple[str | None, str | None]:
    plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
    return (plain.get_content() if plain else None, html.get_content() if html else None)


def headers_of(msg: EmailMessage) -> list[list[str]]:
    return [[name, str(value)] for name, value in msg.items()]


def mailgun_sign(signing_key: str, timestamp: int | None = None, token: str | None = None) -> dict:
    timestamp = int(time.time()) if timestamp is None else timestamp
    token = token or secrets.token_hex(25)
    signature = signature_for(signing_key, str(timestamp), token)
    return {"timestamp": str(timestamp), "token": token, "signature": signature}


def signature_for(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature of ``timestamp`` and ``token`` exactly as given."""
    message = f"{timestamp}{token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def mailgun_parsed(msg: EmailMessage, recipient: str) -> dict:
    """Mailgun Routes ``forward()`` fields (files as Werkzeug test-client tuples)."""
    text, html = bodies_of(msg)
    files = files_of(msg)
    form = {
        "recipient": recipient,
        "sender": parseaddr(str(msg["From"]))[1],
        "from": str(msg["From"]),
        "subject": str(msg["Subject"]),
        "message-headers": json.dumps(headers_of(msg)),
        "body-plain": text or "",
        "attachment-count": str(len(files)),
        "content-id-map": json.dumps(
            {f"<{f['cid']}>": f"attachment-{i}" for i, f in enumerate(files, 1) if f["cid"]}
        ),
    }
    if html is not None:
        form["body-html"] = html
    for index, f in enumerate(files, 1):
        form[f"attachment-{index}"] = (BytesIO(f["data"]), f["filename"], f["type"])
    return form


def mailgun_raw(msg: EmailMessage, recipient: str) -> dict:
    return {
        "recipient": recipient,
        "sender": parseaddr(str(msg["From"]))[1],
        "body-mime": raw_of(msg).decode(),
    }


def sendgrid_parsed(msg: EmailMessage, recipient: str) -> tuple[dict, dict]:
    """SendGrid's default (parsed) fields and files; all text in UTF-8."""
    text, html = bodies_of(msg)
    files = files_of(msg)
    header_block = "".join(f"{n}: {v}\n" for n, v in msg.raw_items())
    fields = {
        "headers": header_block,
        "from": str(msg["From"]),
        "to": str(msg["To"]),
        "subject": str(msg["Subject"]),
        "text": text or "",
        "sender_ip": "10.10.1.71",
        "envelope": json.dumps({"to": [recipient], "from": parseaddr(str(msg["From"]))[1]}),
        "charsets": json.dumps(
            {"to": "UTF-8", "html": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": "UTF-8"}
        ),
        "dkim": "{@example.org : pass}",
        "SPF": "pass",
        "attachments": str(len(files)),
        "attachment-info": json.dumps(
            {
                f"attachment{i}": {"filename": f["filename"], "type": f["type"]}
                | ({"content-id": f["cid"]} if f["cid"] else {})
                for i, f in enumerate(files, 1)
            }
        ),
    }
    if html is not None:
        fields["html"] = html
    uploads = {
        f"attachment{i}": (f["filename"], f["type"], f["data"]) for i, f in enumerate(files, 1)
    }
    return fields, uploads


def sendgrid_raw(msg: EmailMessage, recipient: str) -> tuple[dict, dict]:
    fields = {
        "dkim": "{@example.org : pass}",
        "email": raw_of(msg),
        "to": str(msg["To"]),
        "from": str(msg["From"]),
        "sender_ip": "10.10.1.71",
        "envelope": json.dumps({"to": [recipient], "from": parseaddr(str(msg["From"]))[1]}),
        "subject": str(msg["Subject"]),
        "charsets": json.dumps({"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8"}),
        "SPF": "pass",
    }
    return fields, {}


def form_data(fields: dict, files: dict | None = None) -> tuple[bytes, str]:
    """A multipart/form-data body with each field's bytes exactly as given."""
    chunks = []
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else str(value).encode()
        chunks.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    for name, (filename, ctype, data) in (files or {}).items():
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        )
        chunks.append(head.encode() + data + b"\r\n")
    body = b"".join(chunks) + f"--{BOUNDARY}--\r\n".encode()
    return body, f"multipart/form-data; boundary={BOUNDARY}"


def _people(value: str | None) -> list[dict]:
    if not value:
        return []
    return [{"Email": a, "Name": n, "MailboxHash": ""} for n, a in getaddresses([value])]


def postmark(msg: EmailMessage, recipient: str, raw: bool = False) -> dict:
    """Postmark's inbound JSON (its sample's shape); ``RawEmail`` when ``raw``."""
    text, html = bodies_of(msg)
    sender = _people(str(msg["From"]))[0]
    payload = {
        "FromName": sender["Name"],
        "MessageStream": "inbound",
        "From": sender["Email"],
        "FromFull": sender,
        "To": str(msg["To"]),
        "ToFull": _people(str(msg["To"])),
        "Cc": str(msg["Cc"] or ""),
        "CcFull": _people(msg["Cc"] and str(msg["Cc"])),
        "OriginalRecipient": recipient,
        "Subject": str(msg["Subject"]),
        "MessageID": "00000000-0000-0000-0000-000000000001",
        "ReplyTo": "",
        "MailboxHash": "",
        "Date": str(msg["Date"]),
        "TextBody": text or "",
        "HtmlBody": html or "",
        "StrippedTextReply": "",
        "Tag": "",
        "Headers": [{"Name": "Return-Path", "Value": f"<{sender['Email']}>"}]
        + [
            {"Name": n, "Value": str(v)}
            for n, v in msg.items()
            if n.lower()
            not in {"from", "to", "cc", "subject", "date", "content-type", "mime-version"}
        ],
        "Attachments": [
            {
                "Name": f["filename"],
                "ContentType": f["type"],
                "Content": base64.b64encode(f["data"]).decode(),
                "ContentLength": len(f["data"]),
                "ContentID": f["cid"] or "",
            }
            for f in files_of(msg)
        ],
    }
    if raw:
        payload["RawEmail"] = raw_of(msg).decode()
    return payload


def make_endpoint(conn, mailbox, provider: str, secret: str | None):
    """An inbound endpoint for ``mailbox`` (its secret encrypted as the CLI stores it)."""
    from config import load_settings
    from pipeline.store import endpoints

    return endpoints.create(conn, load_settings().secret_key, mailbox, provider, secret)


def basic_auth(password: str, user: str = "intake") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def parsed_view(conn, message_id: int) -> dict:
    """What the parse stage made of a message: the fields every channel must agree on."""
    row = conn.execute(
        """SELECT subject, from_address, from_name, to_addresses, cc_addresses, message_id,
                  in_reply_to, body_text, body_html
           FROM messages WHERE id = %s""",
        (message_id,),
    ).fetchone()
    files = conn.execute(
        """SELECT filename, mime_type, blob_sha256, is_inline, content_id FROM attachments
           WHERE message_id = %s ORDER BY filename""",
        (message_id,),
    ).fetchall()
    return {**row, "attachments": files}


@contextmanager
def overridden(app, **changes):
    """Run with the app's settings changed (the size limit, private fetches…), then restore."""
    names = ("INTAKE_SETTINGS", "MAX_CONTENT_LENGTH")
    before = {name: app.config[name] for name in names}
    settings = before["INTAKE_SETTINGS"].with_overrides(**changes)
    app.config["INTAKE_SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_message_bytes * 2
    try:
        yield app.test_client()
    finally:
        app.config.update(before)


def message_count(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"]


def assert_refused(response, status: int, field: str | None, conn) -> None:
    """The request was refused in the family's envelope, naming ``field``, and stored nothing."""
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    assert response.json.get("field") == field
    assert message_count(conn) == 0
