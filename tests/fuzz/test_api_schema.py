"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis).

The schema is loaded from ``/api/schema/`` of the running WSGI app; every operation is
called with generated data (valid and invalid), authenticated with a real API key, and no
answer may be a 5xx or differ from the schema (status codes, content types, headers,
bodies). ``SPARK_FUZZ_EXAMPLES`` sets the budget per operation and mode: small in
``make test``, larger in ``make fuzz``.

(schemathesis's lazy pytest fixture loader does not work with pytest 9.2, which removed
``Node._nodeid``; this test drives schemathesis's Python API with Hypothesis instead.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from accounts.models import User
from tests.factories import ApiKeyFactory

EXAMPLES = int(os.environ.get("SPARK_FUZZ_EXAMPLES", "10"))


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """The real WSGI handler closes "old" database connections around each request, which
    would close the test's transaction on PostgreSQL; Django's own test client turns this
    off the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


pytestmark = pytest.mark.django_db


# Operations whose validation goes beyond what a schema can say, so a 4xx to schema-valid
# data is right there: a file upload checks the bytes against the kind (a PNG is
# schema-valid but not an "audio" upload); a prompt names catalogue models by slug and
# checks its model policy; a provider key is checked against its provider's key format;
# a conversation names a prompt, a model, a folder and an alter ego that must exist and be
# the user's; a message goes through the send pipeline (busy, duplicate, locked...); a
# folder cannot go inside itself. Every other check still applies to them.
SEMANTIC_VALIDATION = {
    "conversations_create",
    "conversations_update",
    "conversations_messages_send",
    "conversations_messages_regenerate",
    "conversations_events",
    "conversations_cancel",
    "folders_create",
    "folders_update",
    "folders_reorder",
    "files_create",
    "prompts_create",
    "prompts_update",
    "provider_keys_create",
    "alter_egos_create",
    "alter_egos_update",
}


def _fuzz(
    operation: schemathesis.APIOperation, mode: GenerationMode, headers: dict[str, str]
) -> None:
    excluded = (
        [schemathesis.checks.positive_data_acceptance]
        if operation.definition.raw.get("operationId") in SEMANTIC_VALIDATION
        else []
    )

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("SPARK_FUZZ_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    run()


# The fuzzer tests the API, not the request filter: generated paths may look like probes
# ("../", "${jndi:") and generated bad keys count as failed sign-ins, either of which would
# ban the test client. (The WSGI test client sends no peer address: "0.0.0.0" to Spark.)
@override_settings(SPARK_FILTER_ALLOWLIST=["0.0.0.0/32", "127.0.0.1"])
def test_every_operation_answers_within_its_schema_and_never_5xx(
    user: User, keep_test_connection: None
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    _key, raw = ApiKeyFactory.create(user=user, name="fuzzer")
    headers = {"Authorization": f"Bearer {raw}"}
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 7  # me, api keys (4), files (3): the schema is really loaded
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers)
