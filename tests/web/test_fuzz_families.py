"""A schema-driven fuzz run (schemathesis) over the other families of ``/openapi.json``: the
``000`` incoming mails, the ``003`` message API (its path key and user bound to a real key
and agent, so that generated cases get past authentication), the ``004`` mail admin and the
public ``001`` RPC. Valid and invalid inputs; asserts only that nothing is a server error,
since these families document the seeds' shapes rather than OpenAPI responses."""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from pipeline.store import keys
from tests.web.fuzzing import fuzz
from tests.web.native import build_world

FAMILIES = r"^/(api/v1/|message/|api/rpc/)"
EXAMPLES = 15


@pytest.fixture
def bound(conn, pool, org):
    """Credentials and path values that name this organization's real rows."""
    world = build_world(conn, pool, org, "support@fuzz.test", "Fuzzed")
    token = keys.create_key(conn, org.org_id, list(keys.SCOPES), "Fuzz", 10**6, 10**7).token
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    path = {"apiKey": token, "userId": "u-1", "ticketId": str(world.ids["ticket_id"])}
    return headers, path


def test_no_input_to_the_other_families_gets_a_server_error(app, bound):
    headers, path = bound
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(path_regex=FAMILIES)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 20
    for operation in found:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(
                operation,
                mode,
                headers=headers,
                checks=[not_a_server_error],
                examples=EXAMPLES,
                path=path,
            )
