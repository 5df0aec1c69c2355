"""A real Dovecot IMAP server for the tests, from a throwaway configuration.

``dovecot`` (session scope) starts it in the foreground on a free loopback port with
plaintext logins, no authentication delay, passwd-file users and maildir storage under a
temporary directory. ``imap_user`` hands each test a fresh user (created up front: Dovecot
re-reads its passwd file at most once a second), so tests never see each other's mail.
Mail is put in with IMAP APPEND, as a mail client would.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
{users}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
# No growing delay after failed logins from one address (anvil's auth penalty), and no
# chroot (which needs root; the suite may run as any user).
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
"""

SSL = """\
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
"""

NOBODY = 65534
USERS = 400


@dataclass(frozen=True)
class Dovecot:
    host: str
    port: int
    root: Path
    users: list[ImapUser]
    tls_port: int | None = None

    def add_user(self) -> ImapUser:
        """A user nobody has used yet (created up front: Dovecot re-reads its passwd file
        at most once a second, so users added during the run could be missed)."""
        return self.users.pop()


def _write_users(root: Path, uid: int, gid: int, count: int) -> list[tuple[str, str]]:
    users = [(f"u{n}x{secrets.token_hex(3)}", secrets.token_urlsafe(12)) for n in range(count)]
    lines = [f"{name}:{{PLAIN}}{pw}:{uid}:{gid}::{root / 'mail' / name}\n" for name, pw in users]
    (root / "passwd").write_text("".join(lines))
    return users


@dataclass(frozen=True)
class ImapUser:
    name: str
    password: str
    server: Dovecot

    def client(self) -> IMAPClient:
        client = IMAPClient(self.server.host, self.server.port, ssl=False, timeout=10)
        client.login(self.name, self.password)
        return client

    def append(self, folder: str, *messages: bytes) -> None:
        client = self.client()
        try:
            for raw in messages:
                client.append(folder, raw)
        finally:
            client.logout()


def _identity() -> tuple[str, int, int]:
    """Extra settings and the mail uid/gid: root runs as ``nobody``, others as themselves."""
    if os.geteuid() == 0:
        return "", NOBODY, NOBODY
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    users = (
        f"default_internal_user = {user}\ndefault_internal_group = {group}\n"
        f"default_login_user = {user}\n"
    )
    return users, os.getuid(), os.getgid()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening")


def _self_signed(root: Path) -> None:
    """A certificate for ``localhost`` that no client trusts (for the TLS tests)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .sign(key, hashes.SHA256())
    )
    (root / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _run_dovecot(tls: bool) -> Iterator[Dovecot]:
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    root = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
    root.chmod(0o755)
    users, uid, gid = _identity()
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    accounts = _write_users(root, uid, gid, USERS)
    port, tls_port = _free_port(), _free_port() if tls else 0
    if tls:
        _self_signed(root)
    ssl = SSL.format(root=root) if tls else "ssl = no"
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, tls_port=tls_port, users=users, ssl=ssl))
    with (root / "stdout.log").open("wb") as out:
        process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=out, stderr=out)
    try:
        _wait_listening(port, process, root / "dovecot.log")
        server = Dovecot("127.0.0.1", port, root, [], tls_port or None)
        server.users.extend(ImapUser(name, pw, server) for name, pw in accounts)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """Plain IMAP only (no STARTTLS offered)."""
    yield from _run_dovecot(tls=False)


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[Dovecot]:
    """STARTTLS on ``port`` and implicit TLS on ``tls_port``, with a self-signed certificate."""
    yield from _run_dovecot(tls=True)


@pytest.fixture
def imap_tls_user(dovecot_tls: Dovecot) -> ImapUser:
    return dovecot_tls.add_user()


@pytest.fixture
def imap_user(dovecot: Dovecot) -> ImapUser:
    return dovecot.add_user()


def make_account(conn, org_id, user: ImapUser, address: str = "imap@example.com", **values) -> int:
    """An active IMAP mailbox of ``org_id`` reading ``user``'s mail over plain IMAP."""
    from config import load_settings
    from pipeline.crypto import encrypt
    from pipeline.store import mailboxes

    password = values.pop("password", user.password)
    fields = {
        "name": "Support over IMAP",
        "email": address,
        "host": user.server.host,
        "port": user.server.port,
        "username": user.name,
        "encryption": "none",
        "is_active": True,
        "sync_folders": ["INBOX"],
        **values,
    }
    secret = encrypt(load_settings().secret_key, password)
    return mailboxes.create_account(conn, org_id, fields, secret)["id"]
