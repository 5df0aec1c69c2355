"""The organization's optional auto-reply to mail that opened a new ticket.

At most once per sender per ``auto_reply_window_seconds`` (enforced in the database, see
``store.outbound.claim_auto_reply_slot``), never to automatic mail (RFC 3834 §2: a
responder must not answer ``Auto-Submitted`` mail, lists or bulk), never to a null return
path or a system address, never to Intake's own mailboxes. The filter stage keeps
filtered mail from ever reaching the ticket stage; these checks are the responder's own,
because a loop between two auto-responders is the one mistake it must not make.
"""

from __future__ import annotations

from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.intake.providers import generic
from pipeline.jobs import Job
from pipeline.outbound.send import OutboundMail, queue_mail, thread_of
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import mailbox_addresses, outbound, send_configs, tickets
from pipeline.store.org_profile import AutoReplySettings

AUTOMATIC_HEADERS = ("x-autoreply", "x-autorespond", "list-id", "list-unsubscribe", "x-loop")
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
SYSTEM_LOCAL_PARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply")
NOTE = "auto_reply"  # the top-level ``analysis`` key of the step's decision


def plan(conn: Connection, msg: Message, ticket_id: int, ctx: StageContext) -> Continue:
    """The auto-reply step, after ``msg`` opened ticket ``ticket_id``: its send job (if any)
    and its own evidence, the decision, as the ``analysis.auto_reply`` note (none when the
    organization has auto-replies off)."""
    jobs, decision = decide(conn, msg, ticket_id, ctx)
    return Continue(jobs=jobs, notes={NOTE: decision} if decision is not None else {})


def decide(
    conn: Connection, msg: Message, ticket_id: int, ctx: StageContext
) -> tuple[tuple[Job, ...], dict | None]:
    """Queue the auto-reply for new ticket ``ticket_id`` opened by ``msg`` if the organization
    wants one and the sender may get one. Returns the send job (or nothing) and, when the
    organization has auto-replies on, the decision."""
    settings = ctx.org(conn, msg).auto_reply
    if not settings.enabled:
        return (), None
    recipient, skipped = reply_recipient(msg), None
    if msg.channel == generic.CHANNEL and not settings.rpc_enabled:
        skipped = "came through the public RPC, whose auto-replies are off"
    elif recipient is None:
        skipped = "no return address"
    elif is_automatic(msg) or _is_own_address(conn, recipient, ctx):
        skipped = "automatic or own mail"
    elif send_configs.find_config(conn, msg.org_id, None) is None:
        skipped = "no send configuration"
    elif not outbound.claim_auto_reply_slot(conn, msg.org_id, recipient, settings.window_seconds):
        skipped = "already answered within the window"
    if skipped is not None:
        return (), {"skipped": skipped}
    mail = _mail(conn, msg, ticket_id, recipient, settings)
    sent_mail_id, job = queue_mail(conn, msg.org_id, mail, ctx.settings)
    return (job,), {"sent_mail_id": sent_mail_id, "to": recipient}


def reply_recipient(msg: Message) -> str | None:
    """Where an answer goes (Reply-To, else From); ``None`` for a null return path."""
    if msg.envelope_from is not None and msg.envelope_from.strip() in {"", "<>"}:
        return None
    address = (msg.reply_to or msg.from_address or "").strip()
    return address.lower() if "@" in address else None


def is_automatic(msg: Message) -> bool:
    """Mail a responder must not answer: RFC 3834 ``Auto-Submitted`` other than ``no``,
    the de-facto auto-reply and list headers, bulk precedence, system senders."""
    auto_submitted = (msg.header("Auto-Submitted") or "no").strip().lower()
    if not auto_submitted.startswith("no"):
        return True
    if any(msg.header(name) is not None for name in AUTOMATIC_HEADERS):
        return True
    suppress = (msg.header("X-Auto-Response-Suppress") or "").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return True
    if (msg.header("Precedence") or "").strip().lower() in BULK_PRECEDENCE:
        return True
    local = (msg.reply_to or msg.from_address or "").partition("@")[0].lower()
    return local.startswith(SYSTEM_LOCAL_PARTS)


def _is_own_address(conn: Connection, address: str, ctx: StageContext) -> bool:
    """Our own mailboxes, and anything at our Message-ID domain: answering them loops."""
    if address.endswith("@" + ctx.settings.message_id_domain.lower()):
        return True
    return mailbox_addresses.mailbox_id_for(conn, address) is not None


def _mail(
    conn: Connection, msg: Message, ticket_id: int, recipient: str, settings: AutoReplySettings
) -> OutboundMail:
    ticket = tickets.get(conn, msg.org_id, ticket_id)
    token = f" [#{ticket['number']}]" if ticket else ""
    return OutboundMail(
        to=(recipient,),
        subject=f"{settings.subject}{token}",
        text=settings.body,
        kind="auto_reply",
        ticket_id=ticket_id,
        in_reply_to_message=msg.id,
        thread=thread_of(msg.message_id, msg.references),
    )
