"""What a stage (or a step it calls) may need besides the connection and the message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from config import Settings
from pipeline.store import blobs, org_profile

if TYPE_CHECKING:
    from pipeline.db import Connection
    from pipeline.records import Message


@dataclass(frozen=True)
class StageContext:
    """The settings, and a memo for one run.

    ``for_run`` gives each run its own memo, so the organization's settings and rules are
    read once per run (one round trip) however many stages need them, and never cached
    across runs: a rule changed through the API applies to the next mail.
    """

    settings: Settings
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def for_run(self) -> StageContext:
        return StageContext(self.settings)

    def raw(self, conn: Connection, msg: Message) -> bytes:
        """The message's raw bytes, read once per run (the run's claim may have read them)."""
        key = ("raw", msg.raw_sha256)
        if key not in self.memo:
            self.memo[key] = blobs.get(conn, msg.raw_sha256)
        return self.memo[key]

    def keep_raw(self, msg: Message, raw: bytes) -> None:
        self.memo[("raw", msg.raw_sha256)] = raw

    def org(self, conn: Connection, msg: Message) -> org_profile.OrgProfile:
        """The profile of ``msg``'s organization (and sender), loaded once per run."""
        key = (msg.org_id, msg.id, msg.from_address)
        if key not in self.memo:
            self.memo[key] = org_profile.load(conn, msg)
        return self.memo[key]
