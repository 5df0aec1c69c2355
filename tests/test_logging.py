"""Structured logs carry the message id on every line logged while a stage runs."""

import json
import logging

from config.logging import JsonFormatter, bound


def test_lines_inside_a_bound_block_carry_its_ids():
    record = logging.LogRecord("pipeline.x", logging.INFO, __file__, 1, "parsed %s", ("ok",), None)
    with bound(message_id=42, org_id="acme"):
        inside = json.loads(JsonFormatter().format(record))
    outside = json.loads(JsonFormatter().format(record))
    assert inside["msg"] == "parsed ok"
    assert (inside["message_id"], inside["org_id"]) == (42, "acme")
    assert "message_id" not in outside
