"""seed_demo prints the addresses the demo really answers on (HOST and PORT)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def _seed_output(monkeypatch: Any, **env: str) -> str:
    for name in ("HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_prints_the_addresses_of_the_port_it_is_served_on(monkeypatch: Any) -> None:
    output = _seed_output(monkeypatch, HOST="127.0.0.1", PORT="9123")
    assert "Spark: http://127.0.0.1:9123/ (sign in at http://127.0.0.1:9123/accounts/login/)" in (
        output
    )
    assert "white-label site at http://curio.localhost:9123)" in output
    assert ":8000" not in output


def test_seed_demo_defaults_to_make_runs_address(monkeypatch: Any) -> None:
    output = _seed_output(monkeypatch)
    assert "Spark: http://127.0.0.1:8000/" in output
    assert "http://curio.localhost:8000" in output


def test_a_wildcard_bind_address_is_printed_as_localhost(monkeypatch: Any) -> None:
    output = _seed_output(monkeypatch, HOST="0.0.0.0", PORT="80")  # noqa: S104 - a printed address
    assert "Spark: http://localhost/ " in output
    assert "white-label site at http://curio.localhost)" in output
