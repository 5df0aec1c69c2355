"""Fixtures of the channel tests: a real Dovecot for the IMAP channel."""

from tests.dovecot import dovecot, imap_user

__all__ = ["dovecot", "imap_user"]
