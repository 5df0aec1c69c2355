"""A schema-driven fuzz run (schemathesis) over every native endpoint of ``/openapi.json``.

Valid (positive) and invalid (negative) inputs, bounded in examples per operation; asserts no 5xx and that every answer whose status is
documented matches the documented schema (status codes themselves are also checked).
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from pipeline.store import keys
from tests.web.fuzzing import fuzz
from tests.web.native import build_world

NATIVE = r"^/api/(?!v1/|rpc/)"
#: operations that talk to the account's IMAP server and answer 502 when it fails (an
#: upstream failure, not ours): fuzzed hosts would make the run depend on the network.
UPSTREAM = r"^/api/accounts/\{account_id\}/(folders|test)$"
EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def fuzz_headers(conn, pool, org):
    """A key with every scope and no practical rate limit, over an organization with data."""
    build_world(conn, pool, org, "support@fuzz.test", "Fuzzed")
    issued = keys.create_key(conn, org.org_id, list(keys.SCOPES), "Fuzz", 10**6, 10**7)
    return {"X-API-Key": issued.key, "X-API-Secret": issued.secret}


def operations(app) -> list:
    schema = (
        schemathesis.openapi.from_wsgi("/openapi.json", app)
        .include(path_regex=NATIVE)
        .exclude(path_regex=UPSTREAM)
    )
    return [result.ok() for result in schema.get_all_operations()]


def test_no_input_gets_a_server_error_or_an_undocumented_answer(app, fuzz_headers):
    found = operations(app)
    assert len(found) >= 60
    for operation in found:
        # Status codes can only be checked where the operation documents its answers.
        checks = CHECKS if operation.definition.raw.get("responses") else CHECKS[:2]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, headers=fuzz_headers, checks=checks, examples=EXAMPLES)
