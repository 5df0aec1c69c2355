"""Imported first by the ``dramatiq`` command line (see the Procfile) so that worker
processes log JSON lines with the message id, like the other processes."""

from config.logging import setup_logging

setup_logging()
