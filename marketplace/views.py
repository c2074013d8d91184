"""Marketplace pages: the prompt catalogue, and the creator's own prompts."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from marketplace import analytics, domains, landing, selectors, services, wizard
from marketplace.forms import LandingPageForm, LandingWizardForm, PromptForm
from marketplace.models import LandingPage, LandingPageVersion, Prompt
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


# --- landing pages ------------------------------------------------------------------------------


def _landing_context(request: HttpRequest, prompt: Prompt, page: LandingPage) -> dict[str, Any]:
    versions = list(page.versions.order_by("-number")[:50])
    latest = versions[0] if versions else None
    asked = request.GET.get("version", "")
    # The newest draft by default (what the creator or the wizard just made), or any one.
    shown = next((v for v in versions if str(v.number) == asked), latest)
    frame = landing.landing_url(page, request=request).rstrip("/")
    return {
        "prompt": prompt,
        "page": page,
        "versions": versions,
        "latest": latest,
        "public_url": landing.landing_url(page, request=request),
        "is_public": landing.landing_is_public(prompt),
        "preview_url": landing.preview_url(shown, request=request) if shown else "",
        "preview_version": shown,
        "frame_origin": frame,
    }


def _allow_frame(response: HttpResponse, origin: str) -> HttpResponse:
    """The editor frames its preview from the landing origin (sandboxed, see the template)."""
    response._csp_update = {"frame-src": [origin]}  # type: ignore[attr-defined]
    return response


@login_required
@require_http_methods(["GET", "POST"])
def creator_landing_page(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    """The landing page editor: write a version, preview it, publish it."""
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    page = services.landing_page_get_or_create(prompt=prompt)
    latest = page.versions.order_by("-number").first()
    if request.method == "POST":
        form = LandingPageForm(request.POST)
        if form.is_valid():
            try:
                version = services.landing_version_save(
                    page=page,
                    author=request.user,  # type: ignore[arg-type]
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                form.add_service_error(error)
            else:
                messages.success(
                    request,
                    _("Version %(number)s was saved as a draft.") % {"number": version.number},
                )
                return redirect("marketplace:creator_landing_page", prompt_uuid=prompt.uuid)
    elif latest is not None:
        form = LandingPageForm(
            initial={
                "title": latest.title,
                "description": latest.description,
                "source_format": latest.source_format,
                "source": latest.source,
                "css": latest.css,
            }
        )
    else:
        form = LandingPageForm(
            initial={
                "title": prompt.name,
                "description": prompt.description[:300],
                "source_format": LandingPageVersion.Format.HTML,
                "source": render_to_string(
                    "marketplace/landing/starter.html", {"name": prompt.name}
                ),
            }
        )
    context = _landing_context(request, prompt, page)
    context["form"] = form
    response = render(request, "marketplace/landing_editor.html", context)
    return _allow_frame(response, context["frame_origin"])


@login_required
@require_http_methods(["GET", "POST"])
def creator_landing_wizard(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    """ "Design a page with AI": the creator's answers, one model call, a new draft."""
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    page = services.landing_page_get_or_create(prompt=prompt)
    form = LandingWizardForm(
        request.POST or None,
        initial={
            "style": "minimal",
            "languages": [translation.get_language() or "en"],
            "accent_colour": "#5b4bdb",
            "text_colour": "#1d1d27",
            "background_colour": "#ffffff",
            "brief": prompt.description,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            brief = wizard.wizard_validate(**form.cleaned_data)
            version = wizard.wizard_design(
                page=page,
                user=request.user,  # type: ignore[arg-type]
                brief=brief,
            )
        except ApplicationError as error:
            form.add_service_error(error)
        else:
            messages.success(
                request,
                _("The wizard made version %(number)s. Look at the preview, then publish it.")
                % {"number": version.number},
            )
            return redirect("marketplace:creator_landing_page", prompt_uuid=prompt.uuid)
    return render(
        request,
        "marketplace/landing_wizard.html",
        {"prompt": prompt, "page": page, "form": form},
    )


@login_required
@require_http_methods(["POST"])
def creator_landing_publish(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    page = services.landing_page_get_or_create(prompt=prompt)
    number = request.POST.get("version", "")
    version = page.versions.filter(number=int(number)).first() if number.isdigit() else None
    if version is None:
        messages.error(request, _("Choose a saved version to publish."))
    else:
        services.landing_publish(page=page, version=version)
        messages.success(request, _("Version %(number)s is live.") % {"number": version.number})
    return redirect("marketplace:creator_landing_page", prompt_uuid=prompt.uuid)


@login_required
@require_http_methods(["POST"])
def creator_landing_unpublish(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    page = services.landing_page_get_or_create(prompt=prompt)
    services.landing_unpublish(page=page)
    messages.success(request, _("Visitors now see the built-in page."))
    return redirect("marketplace:creator_landing_page", prompt_uuid=prompt.uuid)


STATS_RANGES = (7, 30, 90)


@login_required
def creator_prompt_stats(request: HttpRequest, prompt_uuid: str) -> HttpResponse:
    """The prompt's statistics: its landing page's visits and call-to-action clicks by day."""
    prompt = selectors.prompt_get_for_owner(user=request.user, slug_or_uuid=prompt_uuid)
    asked = request.GET.get("days", "")
    days = int(asked) if asked.isdigit() and int(asked) in STATS_RANGES else 30
    rows, totals = analytics.landing_stats(prompt=prompt, days=days)
    page = LandingPage.objects.filter(prompt=prompt).first()
    feedback = None
    if settings.SPARK_PROMPT_FEEDBACK_COUNTS:
        counts = import_string(settings.SPARK_PROMPT_FEEDBACK_COUNTS)(
            prompt_id=prompt.pk, since=timezone.now() - timedelta(days=days)
        )
        rated = counts["up"] + counts["down"]
        feedback = {
            **counts,
            "rated": rated,
            "up_share": round(100 * counts["up"] / rated) if rated else None,
        }
    return render(
        request,
        "marketplace/prompt_stats.html",
        {
            "prompt": prompt,
            "rows": rows,
            "totals": totals,
            "days": days,
            "ranges": STATS_RANGES,
            "public_url": landing.landing_url(page, request=request) if page else "",
            "feedback": feedback,
        },
    )
