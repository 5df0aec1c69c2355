"""Gunicorn settings of the web front: ``gunicorn -c python:config.gunicorn "web:create_app()"``.

gevent workers: a connection that sends its body slowly holds a greenlet, not one of a
few threads, so slow clients cannot starve ``/healthz`` or anyone else (the gthread model
fell to 40 slow bodies). Logs go through ``MaskingLogger``, which masks ``003`` path keys.

Only the standard library and gunicorn are imported here: this module loads in the master
process, before the workers' gevent monkey-patching.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from config.log_masking import SECRET_MASK

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("INTAKE_WEB_WORKERS", "2"))
worker_class = "gevent"
worker_connections = int(os.environ.get("INTAKE_WEB_CONNECTIONS", "1000"))
timeout = 60
accesslog = "-"
logger_class = "config.gunicorn.MaskingLogger"
control_socket_disable = True  # gunicornc is not used; one shared socket path per user


class MaskingLogger(Logger):
    """Gunicorn's logger with ``003`` path keys masked in the access and error logs."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(SECRET_MASK)


def post_worker_init(worker) -> None:
    """The application's own log lines: JSON, path keys masked, like the other processes."""
    from config.logging import setup_logging

    setup_logging()
