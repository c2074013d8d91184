"""Marketplace pages: the prompt catalogue, and the creator's own prompts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from marketplace import domains, selectors, services
from marketplace.forms import PromptForm
from marketplace.models import Prompt
from spark.common.exceptions import ApplicationError

# Served by the chat app; a prompt is named by ``selectors.prompt_chat_key``.
CHAT_START_PATH = "/chat/new/"


def chat_start_url(*, prompt: Prompt, tenant: Any) -> str:
    key = selectors.prompt_chat_key(prompt=prompt, tenant=tenant)
    return f"{CHAT_START_PATH}?{urlencode({'prompt': key})}"


@dataclass(frozen=True)
class Card:
    prompt: Prompt
    chat_url: str


def catalog(request: HttpRequest) -> HttpResponse:
    """Every prompt the visitor may browse here, filterable by category, with a search box."""
    tenant = getattr(request, "tenant", None)
    category_slug = request.GET.get("category", "").strip()
    query = request.GET.get("q", "").strip()[:100]
    categories = list(selectors.category_list(user=request.user))
    current = next((c for c in categories if c.slug == category_slug), None)
    prompts = selectors.prompt_catalog(
        user=request.user,
        tenant=tenant,
        category=current.slug if current else None,
        query=query,
    ).order_by(F("category__position").asc(nulls_last=True), "name", "pk")
    cards = [Card(prompt=p, chat_url=chat_start_url(prompt=p, tenant=tenant)) for p in prompts]
    return render(
        request,
        "marketplace/catalog.html",
        {"cards": cards, "categories": categories, "current_category": current, "query": query},
    )


@login_required
def creator_prompt_list(request: HttpRequest) -> HttpResponse:
    prompts = selectors.prompt_list_for_owner(user=request.user)
    return render(request, "marketplace/creator_prompt_list.html", {"prompts": prompts})


@login_required
@require_http_methods(["GET", "POST"])
def creator_prompt_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PromptForm.for_new(request.POST, request.FILES)
        if form.is_valid():
            try:
                prompt = services.prompt_create(
                    owner=request.user,  # type: ignore[arg-type]
                    tenant=request.tenant,  # type: ignore[attr-defined]
                    **form.service_fields(editing=False),
                )
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(request, _("“%(name)s” was created.") % {"name": prompt.name})
                return redirect("marketplace:creator_prompts")
    else:
        form = PromptForm.for_new()
    return render(request, "marketplace/prompt_form.html", {"form": form, "prompt": None})


@login_required
@require_http_methods(["GET", "POST"])
def creator_prompt_edit(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    form = PromptForm.for_prompt(prompt, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.prompt_update(
                prompt=prompt,
                actor=request.user,  # type: ignore[arg-type]
                **form.service_fields(editing=True),
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(request, _("“%(name)s” was saved.") % {"name": prompt.name})
            return redirect("marketplace:creator_prompts")
    return render(request, "marketplace/prompt_form.html", {"form": form, "prompt": prompt})


def _from_tls_proxy(request: HttpRequest) -> bool:
    """The TLS proxy asks directly from an internal network; a request that came through a
    proxy (it carries X-Forwarded-For) or from outside is not the proxy asking."""
    if request.META.get("HTTP_X_FORWARDED_FOR"):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.SPARK_TLS_ASK_NETWORKS
    )


@never_cache
@require_GET
def tls_ask(request: HttpRequest) -> HttpResponse:
    """On-demand TLS (Caddy's ``ask``): 200 when the proxy may get a certificate for
    ``?domain=`` (an active prompt domain, or a tenant's domain), 403 when not."""
    if not _from_tls_proxy(request):
        raise Http404
    if domains.tls_allowed(request.GET.get("domain", "")[:300]):
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponse("no", content_type="text/plain", status=403)
