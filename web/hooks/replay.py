"""Replay protection for signed webhooks: each Mailgun signature is accepted once.

The key is the signature, not the token: the same signed string cut differently into
timestamp and token (``ts + "e0"``, ``token[2:]``) carries the same signature. Signatures
are remembered in Redis (under the app's namespace) a little longer than the
freshness window; older requests are refused as stale anyway. A signature is forgotten
again when its request fails, so the provider's retry of a request we could not store
succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app

from pipeline.errors import InputError

REJECT = 406


def _key(provider: str, signature: str) -> str:
    settings = current_app.config["INTAKE_SETTINGS"]
    return f"{settings.redis_namespace}:hooks:seen:{provider}:{signature}"


def _client():
    return current_app.extensions["intake_queue"].broker.client


@contextmanager
def once(provider: str, signature: str) -> Iterator[None]:
    """Run the block for a signature seen for the first time; raises ``InputError`` 406
    otherwise."""
    ttl = 2 * current_app.config["INTAKE_SETTINGS"].webhook_max_age_seconds
    key = _key(provider, signature)
    if not _client().set(key, b"1", nx=True, ex=max(ttl, 1)):
        raise InputError("this webhook signature was already used (replay)", "signature", REJECT)
    try:
        yield
    except BaseException:
        _client().delete(key)
        raise
