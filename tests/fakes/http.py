"""A small threaded HTTP server for fakes that speak a vendor's wire protocol."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeRequest:
    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self.method = handler.command
        parts = urlsplit(handler.path)
        self.path = parts.path
        self.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        self.headers = {k.lower(): v for k, v in handler.headers.items()}
        length = int(self.headers.get("content-length") or 0)
        self.body = handler.rfile.read(length) if length else b""

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class FakeResponse:
    """A canned answer. ``stream`` (an iterable of byte chunks) is sent chunked, each chunk
    flushed as the iterable yields it, for slow or endless bodies."""

    def __init__(
        self,
        status: int = 200,
        body: bytes | str | dict[str, Any] | list[Any] = b"",
        headers: dict[str, str] | None = None,
        stream: Iterable[bytes] | None = None,
    ) -> None:
        self.status = status
        self.stream = stream
        self.headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            self.body = json.dumps(body).encode()
            self.headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            self.body = body.encode()
        else:
            self.body = body


Route = Callable[[FakeRequest], FakeResponse]


class FakeHTTPServer:
    """Routes ``(method, path)`` to handlers; records every request it receives."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[FakeRequest] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                request = FakeRequest(self)
                fake.requests.append(request)
                route = fake.routes.get((request.method, request.path))
                response = route(request) if route else FakeResponse(404, {"error": "not_found"})
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if response.stream is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    try:
                        for chunk in response.stream:
                            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                            self.wfile.flush()
                        self.wfile.write(b"0\r\n\r\n")
                    except (BrokenPipeError, ConnectionResetError):
                        return  # the client hung up (as a capped reader does)
                    return
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_DELETE = do_PUT = _dispatch

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str) -> Callable[[Route], Route]:
        def register(handler: Route) -> Route:
            self.routes[(method, path)] = handler
            return handler

        return register

    def start(self) -> FakeHTTPServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
