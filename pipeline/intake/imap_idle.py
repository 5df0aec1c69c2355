"""Watch one IMAP folder with IDLE (RFC 2177) and call back as soon as new mail arrives.

The watcher only notices; importing stays the job of ``sync_folder`` (through the same
per-folder lock as the scheduled polls), so IDLE adds speed, never a second code path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient

from config import Settings
from pipeline.intake.imap_connect import session
from pipeline.records import ImapAccount

CHECK_SECONDS = 1.0


def has_new_mail(responses: list[tuple]) -> bool:
    """``* n EXISTS`` (or ``RECENT``) among the untagged responses received while idling."""
    return any(
        isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses
    )


def watch_folder(
    account: ImapAccount,
    folder: str,
    settings: Settings,
    on_new_mail: Callable[[], None],
    stop: threading.Event,
    on_tick: Callable[[], None] = lambda: None,
) -> bool:
    """IDLE on ``folder`` until ``stop`` is set; ``False`` at once if the server lacks IDLE.

    Calls ``on_new_mail`` once after selecting (mail may have arrived while no one
    watched) and then on every new-mail notice, and ``on_tick`` about every second (the
    caller renews its lease there; whatever it raises ends the watch). Raises
    ``ImapFailure``.
    """
    with session(account, settings) as client:
        if not client.has_capability("IDLE"):
            return False
        client.select_folder(folder, readonly=True)
        on_new_mail()
        while not stop.is_set():
            _idle_once(client, settings.imap_idle_seconds, on_new_mail, on_tick, stop)
    return True


def _idle_once(
    client: IMAPClient,
    seconds: float,
    on_new_mail: Callable[[], None],
    on_tick: Callable[[], None],
    stop: threading.Event,
) -> None:
    """One IDLE command, ended before ``seconds`` (servers drop idlers after 30 minutes)."""
    client.idle()
    deadline = time.monotonic() + seconds
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            if has_new_mail(client.idle_check(timeout=CHECK_SECONDS)):
                on_new_mail()
            on_tick()
    finally:
        client.idle_done()
