"""``/metrics`` on the web process (the worker serves the same through
``spark.observability.worker``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from spark.common.exceptions import error_body
from spark.common.net import client_ip
from spark.observability.access import Access, metrics_access
from spark.observability.exposition import scrape


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    access = metrics_access(
        client=client_ip(request), authorization=request.META.get("HTTP_AUTHORIZATION", "")
    )
    if access is Access.WRONG_TOKEN:
        return JsonResponse(
            error_body("forbidden", _("This token does not open the metrics.")), status=403
        )
    if access is not Access.ALLOWED:
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
