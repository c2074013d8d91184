"""The deployment files stay true: every setting documented, the topology complete."""

from __future__ import annotations

import re
import shutil
import subprocess
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
    workers = {"worker-default", "worker-watchdog", "worker-media"}
    assert {"web", "beat", "postgres", "redis", "nginx", *workers} <= set(services)
    web = services["web"]
    assert "daphne" in web["command"] and "spark.asgi:application" in web["command"]
    assert web["deploy"]["replicas"] == "${WEB_PROCESSES:-2}"
    assert web["environment"]["SPARK_WEB_PROCESSES"] == "${WEB_PROCESSES:-2}"
    served: set[str] = set()
    for name in workers:
        command = services[name]["command"]
        assert command[:4] == ["celery", "-A", "spark", "worker"]
        served.update(command[command.index("--queues") + 1].split(","))
    # every queue the tasks are routed to has a worker
    assert served == {"default", "billing", "watchdog", "media"}
    assert services["beat"]["command"][3] == "beat"
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("web", "beat", "nginx", "postgres", "redis", *workers):
        assert services[name]["restart"] == "unless-stopped", name
        assert services[name]["healthcheck"]["test"], name


def test_nginx_accepts_its_configuration(tmp_path: Path) -> None:
    # Debian's nginx checks the shipped server block, with the upstream pointed at loopback
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "install Debian's nginx (apt-get install nginx-light)"
    upstream = (
        (ROOT / "deploy/nginx-upstream.conf")
        .read_text()
        .replace("server web:8000", "server 127.0.0.1:8000")
    )
    (tmp_path / "upstream.conf").write_text(upstream)
    server = (ROOT / "deploy/nginx.conf").read_text()
    assert "include /etc/nginx/spark/upstream.conf;" in server
    (tmp_path / "spark.conf").write_text(
        server.replace("/etc/nginx/spark/upstream.conf", str(tmp_path / "upstream.conf"))
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/spark.conf;\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_nginx_upgrades_websockets_and_streams_events() -> None:
    conf = (ROOT / "deploy/nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_buffering off;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_read_timeout 3600s;" in conf
