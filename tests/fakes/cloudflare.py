"""A fake of Cloudflare's IP access rules API (the two calls Spark makes).

``POST /zones/{zone}/firewall/access_rules/rules`` and ``DELETE .../rules/{id}``, with the
bearer token checked and Cloudflare's envelope (``success``, ``errors``, ``result``).
``fail_next`` makes the next N calls answer 500, as an outage would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.http import FakeHTTPServer, FakeRequest, FakeResponse


@dataclass
class FakeCloudflare:
    token: str = "cf-test-token"
    zone_id: str = "zone123"
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0

    def __post_init__(self) -> None:
        self.server = FakeHTTPServer()
        base = f"/client/v4/zones/{self.zone_id}/firewall/access_rules/rules"
        self.base = base
        self.server.route("POST", base)(self.create)

    @property
    def api_base(self) -> str:
        return f"{self.server.base_url}/client/v4"

    def start(self) -> FakeCloudflare:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def _refuse(self, request: FakeRequest) -> FakeResponse | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return FakeResponse(403, {"success": False, "errors": [{"code": 10000}]})
        if self.fail_next > 0:
            self.fail_next -= 1
            return FakeResponse(500, {"success": False, "errors": [{"code": 10001}]})
        return None

    def create(self, request: FakeRequest) -> FakeResponse:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        body = request.json()
        value = body["configuration"]["value"]
        if any(rule["configuration"]["value"] == value for rule in self.rules.values()):
            return FakeResponse(
                400, {"success": False, "errors": [{"code": 10009, "message": "duplicate"}]}
            )
        rule_id = secrets.token_hex(16)
        self.rules[rule_id] = {"id": rule_id, **body}
        self.server.route("DELETE", f"{self.base}/{rule_id}")(self.delete)
        return FakeResponse(200, {"success": True, "errors": [], "result": self.rules[rule_id]})

    def delete(self, request: FakeRequest) -> FakeResponse:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        rule_id = request.path.rsplit("/", 1)[-1]
        if self.rules.pop(rule_id, None) is None:
            return FakeResponse(404, {"success": False, "errors": [{"code": 10001}]})
        return FakeResponse(200, {"success": True, "errors": [], "result": {"id": rule_id}})

    def posts(self) -> list[FakeRequest]:
        return [r for r in self.server.requests if r.method == "POST"]
