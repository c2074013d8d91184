"""Adjustments to Daphne, the ASGI server Spark runs under (applied when spark.asgi loads).

Daphne's requests are Twisted ``http.Request`` objects, which parse every
``multipart/form-data`` POST body themselves (into ``request.args``, which Daphne never
reads) and answer a body they cannot parse with a bare ``400`` — no body, no
Content-Type — before the application sees the request (daphne#447, twisted#9739). The
upload endpoints then break the API's rule that every error is JSON, and every upload is
held in memory twice. Django parses request bodies itself, so Twisted's parsing is off.
"""

from __future__ import annotations

from typing import Any


def leave_request_bodies_to_django() -> None:
    """Create Daphne's requests with ``parsePOSTFormSubmission=False`` (idempotent)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # not running under Daphne (WSGI, tests without it)
        return
    if getattr(WebRequest, "_spark_leaves_bodies_to_django", False):
        return
    original_init = WebRequest.__init__

    def __init__(self: WebRequest, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original_init(self, *args, **kwargs)

    WebRequest.__init__ = __init__  # type: ignore[method-assign]
    WebRequest._spark_leaves_bodies_to_django = True  # type: ignore[attr-defined]
