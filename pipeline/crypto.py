"""Secrets at rest and API-secret hashing, keyed from ``INTAKE_SECRET_KEY``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken


def _derive(secret_key: str, purpose: bytes) -> bytes:
    return hmac.new(secret_key.encode(), purpose, hashlib.sha256).digest()


def fernet(secret_key: str) -> Fernet:
    """The Fernet used for stored passwords and tokens (a key derived for that purpose only)."""
    if not secret_key:
        raise ValueError("INTAKE_SECRET_KEY is not set")
    return Fernet(base64.urlsafe_b64encode(_derive(secret_key, b"intake/secrets-at-rest")))


def encrypt(secret_key: str, plaintext: str) -> bytes:
    return fernet(secret_key).encrypt(plaintext.encode())


def decrypt(secret_key: str, token: bytes) -> str:
    """Raises ``ValueError`` when the ciphertext was not made with this key."""
    try:
        return fernet(secret_key).decrypt(bytes(token)).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with INTAKE_SECRET_KEY") from exc


def hash_api_secret(secret: str) -> str:
    """API secrets are 32 random bytes, so one SHA-256 is a safe, fast verifier."""
    return hashlib.sha256(secret.encode()).hexdigest()


def verify_api_secret(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_api_secret(secret), secret_hash)


def new_token(prefix: str, nbytes: int = 24) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def sign(secret_key: str, purpose: str, data: bytes) -> bytes:
    """HMAC-SHA256 of ``data`` with a key derived for ``purpose``."""
    return hmac.new(_derive(secret_key, purpose.encode()), data, hashlib.sha256).digest()
