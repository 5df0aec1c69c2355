"""Pure helpers need no database: skip the per-test table reset for them."""

import pytest


@pytest.fixture(autouse=True)
def _clean_state():
    yield
