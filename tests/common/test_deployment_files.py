"""The deployment files stay true: every setting documented, the topology complete."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")
ENV_REQUIRED = re.compile(r'"([A-Z][A-Z0-9_]+)"')


def _variables_read_by_settings() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "spark" / "settings").rglob("*.py"):
        names.update(ENV_READ.findall(path.read_text()))
    prod = (ROOT / "spark/settings/prod.py").read_text()
    required = prod.split("REQUIRED = (", 1)[1].split(")", 1)[0]
    names.update(ENV_REQUIRED.findall(required))
    return names


def _variables_documented() -> set[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z][A-Z0-9_]*=", line)}


def test_every_setting_read_from_the_environment_is_in_env_example() -> None:
    assert _variables_read_by_settings() - _variables_documented() == set()


def test_every_variable_in_env_example_has_a_comment() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            previous = lines[index - 1]
            assert previous.startswith("#") or re.match(r"^[A-Z]", previous), line


def test_compose_describes_the_production_topology() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "nginx"} <= set(services)
    assert "daphne" in services["web"]["command"]
    assert "spark.asgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:3] == ["celery", "-A", "spark"]
    assert "default,watchdog,media,billing" in services["worker"]["command"]
    assert services["beat"]["command"][3] == "beat"


def test_nginx_upgrades_websockets_and_streams_events() -> None:
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_buffering off;" in conf
