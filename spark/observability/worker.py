"""``/metrics`` of a Celery worker: a small HTTP server in the worker's main process,
started when the worker is ready if ``SPARK_WORKER_METRICS_PORT`` is set.

With the prefork pool the tasks run in child processes: set ``PROMETHEUS_MULTIPROC_DIR``
(an empty directory of the worker's own) so that the children's samples reach the main
process's answer. The same access rule as the web's ``/metrics`` applies (the peer's
address: nothing proxies a worker's port)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.exposition import ThreadingWSGIServer

from spark.observability.access import Access, metrics_access
from spark.observability.exposition import scrape

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged one by one."""


def metrics_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") != "/metrics":
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"code": "not_found", "message": "Not found."}']
    access = metrics_access(
        client=str(environ.get("REMOTE_ADDR", "")),
        authorization=str(environ.get("HTTP_AUTHORIZATION", "")),
    )
    if access is Access.WRONG_TOKEN:
        start_response("403 Forbidden", [("Content-Type", "application/json")])
        return [b'{"code": "forbidden", "message": "This token does not open the metrics."}']
    if access is not Access.ALLOWED:
        start_response("404 Not Found", [("Content-Type", "application/json")])
        return [b'{"code": "not_found", "message": "Not found."}']
    body = scrape(state=False)
    start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
    return [body]


def serve(address: str, port: int) -> ThreadingWSGIServer:
    """Serve ``/metrics`` on ``address:port`` from a daemon thread; returns the server."""
    server = make_server(address, port, metrics_app, ThreadingWSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="spark-metrics", daemon=True)
    thread.start()
    logger.info("worker metrics served on %s:%s", address, server.server_port)
    return server
