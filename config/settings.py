"""The one settings object, built from the environment with documented defaults.

Nothing else in Intake reads ``os.environ`` for its own configuration: the web app,
the broker, the SMTP listener and the scheduler each receive a ``Settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    redis_url: str = ""
    port: int = 8000
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    secret_key: str = ""
    max_message_bytes: int = 50 * MIB
    max_json_bytes: int = 4 * MIB
    rpc_address_per_minute: int = 30
    rpc_org_per_minute: int = 120
    proxy_hops: int = 0
    redis_namespace: str = "intake"
    sweep_after_seconds: int = 300
    sweep_interval_seconds: int = 30
    db_pool_size: int = 8
    smtp_hostname: str = "intake.local"
    smtp_max_connections_per_ip: int = 20
    smtp_idle_seconds: float = 60.0
    message_id_domain: str = "intake.local"
    fetch_allow_private: bool = False
    var_dir: str = "var"
    phone_region: str = "FR"
    ffmpeg: str = ""
    outbound_timeout_seconds: float = 30.0
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_retry_base_seconds: float = 45.0
    webhook_retry_interval_seconds: float = 10.0
    webhook_disable_after: int = 100
    imap_poll_seconds: int = 60
    imap_timeout_seconds: int = 30
    imap_idle_seconds: int = 1500
    imap_lock_seconds: int = 900
    imap_verify_tls: bool = True
    imap_allow_private: bool = False
    webhook_max_age_seconds: int = 300
    mail_report_max_bytes: int = 1 * MIB
    mail_report_per_minute: int = 30
    mail_report_per_hour: int = 300
    max_mime_parts: int = 1000
    metrics_token: str = ""

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with ``changes`` applied (tests build their own settings this way)."""
        return replace(self, **changes)


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host:
        return value, default_port
    return host.strip("[]"), int(port)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build ``Settings`` from ``env`` (default: the process environment)."""
    env = os.environ if env is None else env
    smtp_host, smtp_port = _split_host_port(env.get("INTAKE_SMTP_LISTEN", "127.0.0.1:2525"), 2525)
    return Settings(
        database_url=env.get("DATABASE_URL", ""),
        redis_url=env.get("REDIS_URL", ""),
        port=int(env.get("PORT", "8000")),
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        secret_key=env.get("INTAKE_SECRET_KEY", ""),
        max_message_bytes=int(env.get("INTAKE_MAX_MESSAGE_BYTES", str(50 * MIB))),
        max_json_bytes=int(env.get("INTAKE_MAX_JSON_BYTES", str(4 * MIB))),
        rpc_address_per_minute=int(env.get("INTAKE_RPC_ADDRESS_PER_MINUTE", "30")),
        rpc_org_per_minute=int(env.get("INTAKE_RPC_ORG_PER_MINUTE", "120")),
        proxy_hops=int(env.get("INTAKE_PROXY_HOPS", "0")),
        redis_namespace=env.get("INTAKE_REDIS_NAMESPACE", "intake"),
        sweep_after_seconds=int(env.get("INTAKE_SWEEP_AFTER_SECONDS", "300")),
        sweep_interval_seconds=int(env.get("INTAKE_SWEEP_INTERVAL_SECONDS", "30")),
        db_pool_size=int(env.get("INTAKE_DB_POOL_SIZE", "8")),
        smtp_hostname=env.get("INTAKE_SMTP_HOSTNAME", "intake.local"),
        smtp_max_connections_per_ip=int(env.get("INTAKE_SMTP_MAX_CONNECTIONS_PER_IP", "20")),
        smtp_idle_seconds=float(env.get("INTAKE_SMTP_IDLE_SECONDS", "60")),
        message_id_domain=env.get("INTAKE_MESSAGE_ID_DOMAIN", "intake.local"),
        fetch_allow_private=_flag(env.get("INTAKE_FETCH_ALLOW_PRIVATE")),
        var_dir=env.get("INTAKE_VAR_DIR", "var"),
        phone_region=env.get("INTAKE_PHONE_REGION", "FR"),
        ffmpeg=env.get("INTAKE_FFMPEG", ""),
        outbound_timeout_seconds=float(env.get("INTAKE_OUTBOUND_TIMEOUT_SECONDS", "30")),
        webhook_allow_http=_flag(env.get("INTAKE_WEBHOOK_ALLOW_HTTP")),
        webhook_timeout_seconds=float(env.get("INTAKE_WEBHOOK_TIMEOUT_SECONDS", "10")),
        webhook_max_attempts=int(env.get("INTAKE_WEBHOOK_MAX_ATTEMPTS", "12")),
        webhook_retry_base_seconds=float(env.get("INTAKE_WEBHOOK_RETRY_BASE_SECONDS", "45")),
        webhook_retry_interval_seconds=float(
            env.get("INTAKE_WEBHOOK_RETRY_INTERVAL_SECONDS", "10")
        ),
        webhook_disable_after=int(env.get("INTAKE_WEBHOOK_DISABLE_AFTER", "100")),
        imap_poll_seconds=int(env.get("INTAKE_IMAP_POLL_SECONDS", "60")),
        imap_timeout_seconds=int(env.get("INTAKE_IMAP_TIMEOUT_SECONDS", "30")),
        imap_idle_seconds=int(env.get("INTAKE_IMAP_IDLE_SECONDS", "1500")),
        imap_lock_seconds=int(env.get("INTAKE_IMAP_LOCK_SECONDS", "900")),
        imap_verify_tls=env.get("INTAKE_IMAP_VERIFY_TLS", "1").strip().lower()
        not in {"0", "false", "no", "off"},
        imap_allow_private=_flag(env.get("INTAKE_IMAP_ALLOW_PRIVATE")),
        webhook_max_age_seconds=int(env.get("INTAKE_WEBHOOK_MAX_AGE_SECONDS", "300")),
        mail_report_max_bytes=int(env.get("INTAKE_MAIL_REPORT_MAX_BYTES", str(MIB))),
        mail_report_per_minute=int(env.get("INTAKE_MAIL_REPORT_PER_MINUTE", "30")),
        mail_report_per_hour=int(env.get("INTAKE_MAIL_REPORT_PER_HOUR", "300")),
        max_mime_parts=int(env.get("INTAKE_MAX_MIME_PARTS", "1000")),
        metrics_token=env.get("INTAKE_METRICS_TOKEN", ""),
    )
