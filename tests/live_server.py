"""A real Daphne server for the tests that need one (OpenAI clients, browsers).

Daphne runs the ASGI application in a background thread of the test process, on an
ephemeral port, so it shares the test database (in-memory SQLite included). Twisted's
reactor runs once per process: the server is started on first use and lives for the
whole test session. Tests that use it commit their data (``transaction=True``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

STARTUP_SECONDS = 20.0


@dataclass(frozen=True)
class LiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


_server: LiveServer | None = None
_lock = threading.Lock()


def live_server() -> LiveServer:
    global _server
    with _lock:
        if _server is None:
            _server = _start()
        return _server


def _start() -> LiveServer:
    from daphne.server import Server

    from spark.asgi import application

    server = Server(
        application=application,
        endpoints=["tcp:port=0:interface=127.0.0.1"],
        signal_handlers=False,
        verbosity=0,
    )
    thread = threading.Thread(target=server.run, name="daphne-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.listening_addresses:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live Daphne server did not start")
        thread.join(timeout=0.01)  # wait on the server thread, with a deadline
    host, port = server.listening_addresses[0]
    return LiveServer(host=host, port=port)
