"""What the accounts API asks of a server: can we log in, and which folders hold what."""

from __future__ import annotations

from dataclasses import dataclass

from imapclient import IMAPClient

from config import Settings
from pipeline.intake.imap_connect import session
from pipeline.records import ImapAccount

NOSELECT = b"\\Noselect"
NONEXISTENT = b"\\NonExistent"


@dataclass(frozen=True)
class FolderStatus:
    """One folder as ``GET /api/accounts/{id}/folders`` shows it."""

    name: str
    path: str
    messages: int
    unseen: int


def selectable_folders(client: IMAPClient) -> list[tuple[str, str]]:
    """``(path, leaf name)`` of every folder that can hold mail, in the server's order."""
    found = []
    for flags, delimiter, path in client.list_folders():
        if NOSELECT in flags or NONEXISTENT in flags:
            continue
        sep = delimiter.decode() if isinstance(delimiter, bytes) else delimiter
        found.append((path, path.rsplit(sep, 1)[-1] if sep else path))
    return found


def test_connection(account: ImapAccount, settings: Settings) -> list[str]:
    """Log in and list the folders; raises ``ImapFailure`` with the precise reason."""
    with session(account, settings) as client:
        return [path for path, _ in selectable_folders(client)]


def folder_statuses(account: ImapAccount, settings: Settings) -> list[FolderStatus]:
    """Message and unseen counts of every folder (IMAP STATUS); raises ``ImapFailure``."""
    with session(account, settings) as client:
        result = []
        for path, name in selectable_folders(client):
            counts = client.folder_status(path, [b"MESSAGES", b"UNSEEN"])
            result.append(
                FolderStatus(name, path, int(counts[b"MESSAGES"]), int(counts[b"UNSEEN"]))
            )
        return result
