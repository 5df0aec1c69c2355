"""One connection per request, borrowed from the app's pool and returned at teardown.

The request's work is one transaction: committed when the view succeeds, rolled back
when it raises.
"""

from __future__ import annotations

from flask import Flask, current_app, g

from pipeline.db import Connection


def get_conn() -> Connection:
    if "conn" not in g:
        g.conn = current_app.extensions["intake_pool"].getconn()
    return g.conn


def commit() -> None:
    """Commit now (before enqueueing work that must see the rows)."""
    if "conn" in g:
        g.conn.commit()


def _release(exc: BaseException | None) -> None:
    conn = g.pop("conn", None)
    if conn is None:
        return
    pool = current_app.extensions["intake_pool"]
    try:
        if exc is None and not conn.closed:
            conn.commit()
        elif not conn.closed:
            conn.rollback()
    finally:
        pool.putconn(conn)


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_release)
