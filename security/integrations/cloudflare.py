"""Cloudflare's IP access rules API: block an address for a zone, and remove the block.

https://developers.cloudflare.com/api/resources/firewall/subresources/access_rules/ —
``POST /zones/{zone}/firewall/access_rules/rules`` creates a rule, ``DELETE .../rules/{id}``
removes it. The base URL is a setting so tests (and staging) point it at a fake.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings


class CloudflareError(Exception):
    """The API refused or could not be reached; the caller retries later."""


@dataclass(frozen=True)
class CloudflareClient:
    base_url: str
    token: str
    zone_id: str
    timeout: float = 10.0

    @classmethod
    def from_settings(cls) -> CloudflareClient:
        return cls(
            base_url=settings.SPARK_CLOUDFLARE_API_BASE.rstrip("/"),
            token=settings.SPARK_CLOUDFLARE_API_TOKEN,
            zone_id=settings.SPARK_CLOUDFLARE_ZONE_ID,
            timeout=settings.SPARK_CLOUDFLARE_TIMEOUT,
        )

    @property
    def _rules_url(self) -> str:
        return f"{self.base_url}/zones/{self.zone_id}/firewall/access_rules/rules"

    def _call(self, method: str, url: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            response = httpx.request(method, url, json=json, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as error:
            raise CloudflareError(f"{type(error).__name__}: {error}") from error
        try:
            body: dict[str, Any] = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 400 or not body.get("success", False):
            errors = body.get("errors") or response.text[:200]
            raise CloudflareError(f"HTTP {response.status_code}: {errors}")
        return body

    def block_ip(self, ip: str, *, note: str) -> str:
        """Create a block rule for ``ip``; returns Cloudflare's rule id."""
        target = "ip6" if isinstance(ipaddress.ip_address(ip), ipaddress.IPv6Address) else "ip"
        body = self._call(
            "POST",
            self._rules_url,
            {"mode": "block", "configuration": {"target": target, "value": ip}, "notes": note},
        )
        return str(body["result"]["id"])

    def delete_rule(self, rule_id: str) -> None:
        try:
            self._call("DELETE", f"{self._rules_url}/{rule_id}")
        except CloudflareError as error:
            if "HTTP 404" in str(error):
                return  # already gone: the goal is reached
            raise
