"""The ``intake`` command: migrate, create organizations, keys and mailboxes, run everything.

Without ``DATABASE_URL`` / ``REDIS_URL`` every command uses (and if needed starts) the
embedded servers under ``./var``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import socket
import sys
from pathlib import Path
from uuid import UUID

from config import Settings, embedded, load_settings
from pipeline import crypto, mailbox_claims
from pipeline.db import connect
from pipeline.errors import InputError
from pipeline.migrate import migrate
from pipeline.store import endpoints, keys, mailboxes, organizations, send_configs

PROCFILE = Path(__file__).resolve().parent.parent / "Procfile"


def _settings() -> Settings:
    settings, _ = embedded.ensure(load_settings())
    return settings


def _print(data: dict) -> None:
    print(json.dumps(data, default=str, indent=2))


def cmd_migrate(args: argparse.Namespace) -> None:
    applied = migrate(_settings().database_url)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))


def _key_json(issued: keys.IssuedKey, name: str | None = None) -> dict:
    data = {
        "id": str(issued.org_id),
        "key": issued.key,
        "secret": issued.secret,
        "token": issued.token,
    }
    return {"id": data["id"], "name": name, **{k: v for k, v in data.items() if k != "id"}}


def cmd_org_create(args: argparse.Namespace) -> None:
    with connect(_settings().database_url) as conn:
        org_id = organizations.create(conn, args.name)
        issued = keys.create_key(conn, org_id, list(keys.SCOPES), name="admin")
    _print(_key_json(issued, args.name))


def cmd_key_create(args: argparse.Namespace) -> None:
    scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
    with connect(_settings().database_url) as conn:
        row = conn.execute("SELECT name FROM organizations WHERE id = %s", (args.org,)).fetchone()
        if row is None:
            sys.exit(f"no organization {args.org}")
        try:
            issued = keys.create_key(conn, args.org, scopes, name=args.name)
        except ValueError as exc:
            sys.exit(str(exc))
    _print(_key_json(issued, row["name"]))


def cmd_mailbox_create(args: argparse.Namespace) -> None:
    """Create a mailbox; exits with the reason if an address is invalid or already in use."""
    try:
        address = mailbox_claims.normalise(args.address, "address")
        aliases = mailbox_claims.normalise_all(args.alias, "alias")
        with connect(_settings().database_url) as conn, mailbox_claims.claiming(conn, "address"):
            box = mailboxes.create(conn, args.org, address, args.name, aliases)
    except InputError as exc:
        sys.exit(f"{exc.field}: {exc.message}")
    _print(
        {
            "id": box.id,
            "org_id": str(box.org_id),
            "address": box.address,
            "aliases": box.aliases,
            "name": box.name,
        }
    )


def cmd_sendconfig_create(args: argparse.Namespace) -> None:
    """Register an SMTP relay; the password is read from stdin so it stays out of ``ps``."""
    settings = _settings()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    with connect(settings.database_url) as conn:
        config = send_configs.create_config(
            conn,
            args.org,
            name=args.name or args.host,
            host=args.host,
            port=args.port,
            tls_mode=args.tls,
            from_email=args.from_email,
            from_name=args.from_name,
            username=args.username,
            password_enc=crypto.encrypt(settings.secret_key, password) if password else None,
            is_default=args.default,
        )
    _print(
        {
            "id": config.id,
            "host": config.host,
            "port": config.port,
            "tls_mode": config.tls_mode,
            "from_email": config.from_email,
            "is_default": config.is_default,
            "has_password": config.password_enc is not None,
        }
    )


def cmd_endpoint_create(args: argparse.Namespace) -> None:
    """A provider inbound endpoint for a mailbox: prints its URL path and secret."""
    if args.provider == "mailgun" and not args.secret:
        sys.exit("--secret is required for Mailgun: the HTTP webhook signing key")
    secret = args.secret or (None if args.no_secret else secrets.token_urlsafe(24))
    settings = _settings()
    with connect(settings.database_url) as conn:
        row = conn.execute("SELECT org_id FROM mailboxes WHERE id = %s", (args.mailbox,)).fetchone()
        if row is None:
            sys.exit(f"no mailbox {args.mailbox}")
        box = mailboxes.get(conn, row["org_id"], args.mailbox)
        endpoint = endpoints.create(conn, settings.secret_key, box, args.provider, secret)
    _print(
        {
            "id": endpoint.id,
            "org_id": str(endpoint.org_id),
            "mailbox_id": endpoint.mailbox_id,
            "provider": endpoint.provider,
            "path": endpoint.path,
            "secret": secret,
        }
    )


def cmd_replay(args: argparse.Namespace) -> None:
    """Reset the messages for another run (see ``pipeline.replay``), then enqueue them."""
    from pipeline import replay
    from pipeline.store import message_queries

    if not args.ids and not args.failed:
        sys.exit("name message ids or --failed")
    settings = _settings()
    os.environ.update(embedded.environment(settings))  # the broker reads the same servers
    with connect(settings.database_url) as conn:
        ids = list(args.ids) + (message_queries.failed_ids(conn, args.org) if args.failed else [])
        plan = replay.prepare(conn, ids, from_start=args.from_start)
    from pipeline.handover import hand_over
    from workers import runtime
    from workers.stages import queue

    hand_over(runtime.pool(), queue, [item.message_id for item in plan if item.stage])
    _print(
        {
            "replayed": [{"id": i.message_id, "stage": i.stage} for i in plan if i.stage],
            "skipped": [{"id": i.message_id, "reason": i.skipped} for i in plan if i.skipped],
        }
    )


class StartupError(Exception):
    """``intake up`` cannot start; the message is one line for the user."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _port_taken(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def _check_ports(settings: Settings) -> None:
    """Refuse to start when another program holds the web or SMTP port."""
    for what, host, port in (
        ("web", "0.0.0.0", settings.port),
        ("SMTP", settings.smtp_host, settings.smtp_port),
    ):
        if _port_taken(host, port):
            raise StartupError(f"the {what} port {host}:{port} is already in use")


def _start(services_settings: Settings) -> tuple[Settings, embedded.EmbeddedServices]:
    """Embedded servers, migrations and a port check; on failure, stop what was started."""
    try:
        settings, services = embedded.ensure(services_settings, stop_at_exit=True)
    except Exception as exc:
        raise StartupError(f"the embedded servers did not start: {_first_line(exc)}") from exc
    try:
        migrate(settings.database_url)
        _check_ports(settings)
    except Exception as exc:
        services.stop()
        if isinstance(exc, StartupError):
            raise
        raise StartupError(f"migrating the database failed: {_first_line(exc)}") from exc
    return settings, services


def cmd_up(args: argparse.Namespace) -> None:
    """Start the embedded servers if needed, migrate, then run every Procfile process."""
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    try:
        settings, services = _start(load_settings())
    except StartupError as exc:
        sys.exit(f"intake up: {exc}")
    for note in services.notes:
        print(f"intake: {note}")
    env = {**os.environ, **embedded.environment(settings)}
    # The Procfile names gunicorn and dramatiq: find the ones installed beside this Python
    # even when the virtualenv is not activated.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    manager = Manager()
    for name, command in parse_procfile(PROCFILE.read_text()).processes.items():
        manager.add_process(name, command, env=env, cwd=str(PROCFILE.parent))
    try:
        manager.loop()
    finally:
        services.stop()
    sys.exit(manager.returncode)


def cmd_down(args: argparse.Namespace) -> None:
    """Stop embedded servers left running by one-off commands."""
    settings = load_settings()
    _, services = embedded.ensure(settings, stop_at_exit=True)
    services.started_redis = True
    services.stop()
    print("embedded servers stopped")


def cmd_env(args: argparse.Namespace) -> None:
    """Print ``export`` lines for the services in use (handy for a second terminal)."""
    for name, value in embedded.environment(_settings()).items():
        print(f"export {name}={value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("up", help="run web, workers, SMTP and scheduler").set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop the embedded servers").set_defaults(func=cmd_down)
    sub.add_parser("env", help="print the service URLs in use").set_defaults(func=cmd_env)

    org = sub.add_parser("org").add_subparsers(dest="action", required=True)
    create = org.add_parser("create", help="create an organization and its admin key")
    create.add_argument("name")
    create.set_defaults(func=cmd_org_create)

    key = sub.add_parser("key").add_subparsers(dest="action", required=True)
    create = key.add_parser("create", help="create an API key")
    create.add_argument("--org", required=True, type=UUID)
    create.add_argument("--scopes", default="read")
    create.add_argument("--name", default="API key")
    create.set_defaults(func=cmd_key_create)

    replay = sub.add_parser("replay", help="run messages through the pipeline again")
    replay.add_argument("ids", nargs="*", type=int, metavar="ID", help="message ids")
    replay.add_argument("--failed", action="store_true", help="every failed message")
    replay.add_argument("--org", type=UUID, help="with --failed: only this organization's")
    replay.add_argument(
        "--from-start", action="store_true", help="restart at parse, even finished messages"
    )
    replay.set_defaults(func=cmd_replay)

    mailbox = sub.add_parser("mailbox").add_subparsers(dest="action", required=True)
    create = mailbox.add_parser("create", help="create a mailbox that receives mail")
    create.add_argument("--org", required=True, type=UUID)
    create.add_argument("--address", required=True)
    create.add_argument("--alias", action="append", default=[], help="repeat for each alias")
    create.add_argument("--name")
    create.set_defaults(func=cmd_mailbox_create)

    sendconfig = sub.add_parser("sendconfig").add_subparsers(dest="action", required=True)
    create = sendconfig.add_parser("create", help="register an SMTP relay for outbound mail")
    create.add_argument("--org", required=True, type=UUID)
    create.add_argument("--host", required=True)
    create.add_argument("--port", type=int, default=587)
    create.add_argument("--tls", choices=send_configs.TLS_MODES, default="starttls")
    create.add_argument("--username")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.add_argument("--from-email", required=True)
    create.add_argument("--from-name")
    create.add_argument("--name")
    create.add_argument("--default", action="store_true", help="use it when no config_id is given")
    create.set_defaults(func=cmd_sendconfig_create)

    endpoint = sub.add_parser("endpoint").add_subparsers(dest="action", required=True)
    create = endpoint.add_parser("create", help="create a provider inbound webhook endpoint")
    create.add_argument("--mailbox", required=True, type=int)
    create.add_argument("--provider", required=True, choices=endpoints.PROVIDERS)
    create.add_argument(
        "--secret", help="Mailgun signing key, or the basic-auth password (default: generated)"
    )
    create.add_argument("--no-secret", action="store_true", help="SendGrid/Postmark: no basic auth")
    create.set_defaults(func=cmd_endpoint_create)
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
