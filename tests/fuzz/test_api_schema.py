"""Property-based fuzzing of the REST API from its own OpenAPI schema (schemathesis).

Schemathesis's own runner (its CLI, as anyone would run it against Spark) loads
``/api/schema/`` from a real Daphne server (tests/live_server.py) and runs every phase —
examples, coverage, fuzzing, stateful — with every check of ``tests/fuzz/schemathesis.toml``
(no 5xx; documented status codes, content types, headers and bodies, server-sent events
included; 405 with ``Allow``; invalid data refused, valid data accepted), authenticated
with a real API key. ``SPARK_FUZZ_EXAMPLES`` sets the cases per operation and phase (small
in ``make test``); ``SPARK_FUZZ_MAX_TIME`` lets fuzzing and stateful testing go on until
that many seconds are spent, and ``SPARK_FUZZ_SEED`` replays a run (``make fuzz``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from accounts.models import User
from tests.factories import ApiKeyFactory
from tests.live_server import live_server

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = int(os.environ.get("SPARK_FUZZ_EXAMPLES", "5"))
MAX_TIME = os.environ.get("SPARK_FUZZ_MAX_TIME", "")
SEED = os.environ.get("SPARK_FUZZ_SEED", "" if os.environ.get("SPARK_FUZZ_RANDOM") else "1")
PHASES = ("coverage", "fuzzing", "stateful")


def schemathesis_run(url: str, api_key: str, folder: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/api/schema/",
        "--header",
        f"Authorization: Bearer {api_key}",
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--report",
        "json",
        "--report-json-path",
        str(folder / "report.json"),
        "--no-color",
    ]
    if SEED:
        command += ["--seed", SEED, "--generation-deterministic"]
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]
    # In its own folder: schemathesis keeps a cache of what it learnt where it runs.
    return subprocess.run(command, capture_output=True, text=True, check=False, cwd=folder)


# The fuzzer tests the API, not the request filter or the rate limits: generated paths look
# like probes ("../", "${jndi:"), generated bad keys count as failed sign-ins and thousands
# of calls exceed every limit, any of which would ban or throttle the fuzzer (the live
# server sees it at 127.0.0.1). The limits still count: only their ceilings are raised.
@override_settings(
    SPARK_FILTER_ALLOWLIST=["127.0.0.1"],
    SPARK_RATE_LIMITS=dict.fromkeys(settings.SPARK_RATE_LIMITS, "1000000/m"),
)
def test_every_operation_answers_within_its_schema_and_never_5xx(
    user: User, tmp_path: Path
) -> None:
    _key, raw = ApiKeyFactory.create(user=user, name="fuzzer")

    result = schemathesis_run(live_server().url, raw, tmp_path)

    assert result.returncode == 0, result.stdout[-30_000:] + result.stderr[-5_000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["failures"] == [] and report["errors"] == []
    operations = report["operations"]
    assert operations["tested"] == operations["selected"] == operations["total"] >= 40
    assert {phase: report["phases"][phase]["status"] for phase in PHASES} == dict.fromkeys(
        PHASES, "success"
    )
    assert report["warnings"]["rate_limited"] == []  # the API was reached, not throttled
    assert report["test_cases"]["generated"] >= 40 * EXAMPLES
