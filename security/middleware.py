"""SecurityFilterMiddleware: first in MIDDLEWARE, it turns away probes and banned clients.

For each request, in order of cost: exempt paths and allow-listed clients pass untouched;
a banned client gets a small 403 (one cache read, no other work); a request that breaks
an instant-block rule (security/rules/) bans its client and gets the same 403; anything
else goes on, and a 404 answer counts towards a ban for repeated 404s.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from security import services
from security.bans import BanStore
from security.rules import RuleMatcher, get_matcher
from spark.common.net import client_ip

logger = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def is_allowlisted(ip: str) -> bool:
    entries = settings.SPARK_FILTER_ALLOWLIST
    if not entries:
        return False
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(entries)))


def is_good_bot(user_agent: str) -> bool:
    lowered = user_agent.lower()
    return any(bot in lowered for bot in settings.SPARK_FILTER_GOOD_BOTS)


def forbidden() -> HttpResponse:
    response = HttpResponse(_("Forbidden."), status=403, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class SecurityFilterMiddleware:
    """The request filter. ``store`` and ``matcher`` can be given (tests, benchmarks)."""

    def __init__(
        self,
        get_response: Callable[[HttpRequest], HttpResponse],
        *,
        store: BanStore | None = None,
        matcher: RuleMatcher | None = None,
    ) -> None:
        self.get_response = get_response
        self.store = store or BanStore()
        self.matcher = matcher or get_matcher()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.SPARK_FILTER_ENABLED:
            return self.get_response(request)
        path = request.path_info
        # An exempt prefix with a dot-dot segment after it is traversal, not a static file.
        if path.startswith(tuple(settings.SPARK_FILTER_EXEMPT_PATHS)) and ".." not in path:
            return self.get_response(request)
        ip = client_ip(request)
        if is_allowlisted(ip):
            return self.get_response(request)
        try:
            banned = self.store.is_banned(ip)
        except Exception:  # cache down: the rules below still apply (no ban lookups)
            logger.exception("ban lookup failed; serving %s without it", ip)
            banned = False
        if banned:
            return forbidden()

        user_agent = request.META.get("HTTP_USER_AGENT", "")
        match = self.matcher.match(
            path=path, query=request.META.get("QUERY_STRING", ""), user_agent=user_agent
        )
        if match is not None:
            self._ban(
                ip=ip,
                reason="rule",
                category=match.category,
                pattern=match.pattern,
                path=request.get_full_path()[:300],
                user_agent=user_agent,
            )
            return forbidden()

        response = self.get_response(request)
        if response.status_code == 404:
            try:
                services.not_found_record(
                    ip=ip,
                    path=request.get_full_path()[:300],
                    user_agent=user_agent,
                    good_bot=is_good_bot(user_agent),
                    store=self.store,
                )
            except Exception:  # the answer is already made; a failed count must not break it
                logger.exception("counting a 404 for %s failed", ip)
        return response

    def _ban(self, **fields: str) -> None:
        try:
            services.ban_create(store=self.store, **fields)
        except Exception:  # the request is refused either way; the record is best effort
            logger.exception("recording a ban of %s failed", fields.get("ip"))
