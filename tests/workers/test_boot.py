"""A worker process opens its stage connections when it boots, not on its first jobs."""

from __future__ import annotations

from workers import runtime


def test_a_booted_worker_has_every_stage_connection_open(worker, settings):
    stats = runtime.stage_pool().get_stats()
    assert stats["pool_size"] == settings.db_pool_size
