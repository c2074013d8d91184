"""Project-wide views: health probes and the answers for rate limits and errors."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext as _
from django.views.decorators.cache import never_cache

from spark.common.exceptions import error_body

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60
UNAVAILABLE_RETRY_AFTER_SECONDS = 5
READINESS_TIMEOUT_SECONDS = 3.0


def wants_json(request: HttpRequest) -> bool:
    """API paths and clients that ask for JSON get JSON errors; browsers get pages."""
    if request.path.startswith(("/api/", "/v1/")):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """django-ratelimit's RATELIMIT_VIEW: a clear 429 with Retry-After."""
    message = _("Too many attempts. Please wait a minute and try again.")
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(error_body("rate_limited", message), status=429)
    else:
        response = render(request, "errors/429.html", {"message": message}, status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return render(request, "errors/404.html", status=404)


def api_not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """The last route under /api/ and /v1/: anything no API route matched (an id that does
    not parse included) is the API's JSON 404, with DEBUG on as well, where Django would
    otherwise answer with its HTML debug page."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` is the database refusing work (pool exhausted, server down), not
    a bug: the answer is then 503 with Retry-After, which clients retry."""
    return isinstance(error, (OperationalError, InterfaceError))


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the database is overloaded or unreachable (the pool's short
    timeout, ``DATABASE_POOL_TIMEOUT``, gave up)."""
    message = _("Spark is busy right now. Please try again in a few seconds.")
    response: HttpResponse
    if wants_json(request):
        body = error_body("service_unavailable", message)
        if request.path.startswith("/v1/"):  # OpenAI clients read this shape
            body["error"] = {
                "message": message,
                "type": "server_error",
                "param": None,
                "code": "service_unavailable",
            }
        response = JsonResponse(body, status=503)
    else:
        # Without the request: its context processors would query the database.
        page = render_to_string(
            "errors/503.html", {"message": message, "LANGUAGE_CODE": get_language()}
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Django calls it while handling the exception, so it can tell the
    database's unavailability (503, retry) from a bug (500)."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    if wants_json(request):
        return JsonResponse(
            error_body("server_error", _("Something went wrong on our side.")), status=500
        )
    return render(request, "errors/500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(error_body("permission_denied", _("Permission denied.")), status=403)
    return render(request, "errors/403.html", status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse(error_body("bad_request", _("Bad request.")), status=400)
    return render(request, "errors/400.html", status=400)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process is up and answering."""
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"spark:readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "1":
        raise RuntimeError("cache did not return the value it was given")


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "readyz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "readyz.ping":
        raise RuntimeError("channel layer returned another message")


async def _run_check(
    name: str, check: Callable[[], Awaitable[None]] | Callable[[], None]
) -> tuple[str, bool]:
    """Whether the part answers. The reason it does not goes to the log, never the answer
    (exception text names database hosts and users, and /readyz is public)."""
    try:
        if asyncio.iscoroutinefunction(check):
            await asyncio.wait_for(check(), READINESS_TIMEOUT_SECONDS)
        else:
            run = sync_to_async(check, thread_sensitive=True)
            await asyncio.wait_for(run(), READINESS_TIMEOUT_SECONDS)
    except Exception:  # any failure means "not ready"
        logger.exception("readiness check %s failed", name)
        return name, False
    return name, True


READINESS_CHECKS: dict[str, Callable[[], Awaitable[None]] | Callable[[], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "channel_layer": _check_channel_layer,
}


@never_cache
async def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the cache and the channel layer answer. 503 names what failed."""
    results = [await _run_check(name, check) for name, check in READINESS_CHECKS.items()]
    checks = {name: ("ok" if ready else "failing") for name, ready in results}
    failing = [name for name, ready in results if not ready]
    if failing:
        body = error_body(
            "not_ready",
            _("Not ready: %(parts)s.") % {"parts": ", ".join(failing)},
            {"checks": checks},
        )
        return JsonResponse(body, status=503)
    return JsonResponse({"status": "ok", "checks": checks})
