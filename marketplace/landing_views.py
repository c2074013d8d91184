"""The landing origin's views: a prompt's page, its stylesheet, robots.txt, the call to
action and the editor's preview. Reached only through ``LandingMiddleware``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _

from marketplace import analytics, landing
from marketplace.models import LandingPage, LandingPageVersion, Prompt
from spark.tenancy.context import tenant_scope, unscoped

URLCONF = "marketplace.landing_urls"


def _not_found() -> HttpResponse:
    body = render_to_string("marketplace/landing/not_found.html", {"message": _("Page not found")})
    response = HttpResponse(body, status=404)
    response["Content-Security-Policy"] = landing.content_security_policy()
    return response


def serve(request: HttpRequest) -> HttpResponse:
    """Answer a request on a landing host: its prompt's view, or 404. Never the app."""
    try:
        match = resolve(request.path_info, urlconf=URLCONF)
    except Resolver404:
        return _not_found()
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    prompt = landing.landing_prompt_for_host(request.get_host())
    if prompt is None:
        return _not_found()
    request.landing_prompt = prompt  # type: ignore[attr-defined]
    view: Callable[..., HttpResponse] = match.func
    language = translation.get_language_from_request(request)
    try:
        with tenant_scope(prompt.tenant), translation.override(language):
            response = view(request, prompt, **match.kwargs)
    except Http404:
        return _not_found()
    if "Content-Security-Policy" not in response:
        response["Content-Security-Policy"] = landing.content_security_policy()
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _document(
    request: HttpRequest,
    prompt: Prompt,
    version: LandingPageVersion | None,
    *,
    preview: bool,
    style_nonce: str = "",
) -> str:
    meta = landing.page_meta(prompt, version)
    if version is not None:
        body, has_cta = landing.with_start_url(version.html)
    else:
        body = render_to_string(
            "marketplace/landing/builtin.html",
            {"prompt": prompt, "start_url": landing.START_PATH, "meta": meta},
        )
        has_cta = True
    return render_to_string(
        "marketplace/landing/page.html",
        {
            "prompt": prompt,
            "version": version,
            "meta": meta,
            "body": body,
            "has_cta": has_cta,
            "start_url": landing.START_PATH,
            "stylesheet": f"/assets/{version.css_hash}.css" if version and version.css else "",
            "builtin": version is None,
            "noindex": meta["noindex"] or preview,
            "canonical": _canonical(request, prompt),
            "language": translation.get_language(),
            "style_nonce": style_nonce,
            "inline_css": [_base_css(), version.css if version else ""] if style_nonce else [],
        },
    )


def _canonical(request: HttpRequest, prompt: Prompt) -> str:
    """The page's address: its own domain when served there, else its landing host."""
    host = request.get_host()
    if not landing.is_landing_subdomain_host(host):
        return f"{request.scheme}://{host}/"
    return landing.landing_url(prompt.landing_page, request=request)


def _published(prompt: Prompt) -> LandingPageVersion | None:
    """The page's published version; None: the built-in page (also for a prompt served on
    its own domain that never opened the editor, so it has no page row)."""
    with unscoped():
        page = LandingPage.objects.filter(prompt=prompt).select_related("published_version").first()
    return page.published_version if page is not None else None


def page(request: HttpRequest, prompt: Prompt) -> HttpResponse:
    version = _published(prompt)
    response = HttpResponse(_document(request, prompt, version, preview=False))
    if request.method == "GET":
        analytics.landing_visit_record(prompt=prompt, request=request)
    # Revalidated on every view, so that each one reaches the server and is counted.
    patch_cache_control(response, public=True, no_cache=True)
    return response


def preview(request: HttpRequest, prompt: Prompt, token: str) -> HttpResponse:
    """A draft, by a signed link, framed only by the app's editor (in a sandbox)."""
    version = landing.preview_version(prompt=prompt, token=token)
    if version is None:
        raise Http404
    nonce = secrets.token_urlsafe(16)
    response = HttpResponse(_document(request, prompt, version, preview=True, style_nonce=nonce))
    origin = landing.app_origin(tenant=prompt.tenant, request=request)
    response["Content-Security-Policy"] = landing.content_security_policy(
        frame_ancestor=origin, style_nonce=nonce
    )
    response["X-Robots-Tag"] = "noindex"
    patch_cache_control(response, private=True, no_store=True)
    return response


def stylesheet(request: HttpRequest, prompt: Prompt, digest: str) -> HttpResponse:
    """A version's stylesheet by its content hash: the name changes when it does."""
    with unscoped():
        css = (
            LandingPageVersion.objects.filter(page__prompt=prompt, css_hash=digest)
            .values_list("css", flat=True)
            .first()
        )
    if not css:
        raise Http404
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["ETag"] = f'"{digest}"'
    patch_cache_control(response, public=True, max_age=31_536_000, immutable=True)
    return response


@lru_cache(maxsize=1)
def _base_css() -> str:
    return (Path(__file__).parent / "static" / "marketplace" / "landing.css").read_text()


def base_stylesheet(request: HttpRequest, prompt: Prompt) -> HttpResponse:
    """The landing origin's own stylesheet (built-in pages, defaults under creators')."""
    css = _base_css()
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["ETag"] = f'"{landing.css_digest(css)[:32]}"'
    patch_cache_control(response, public=True, max_age=3600)
    return response


def start(request: HttpRequest, prompt: Prompt) -> HttpResponse:
    """The call to action: on to the app, which signs the visitor in or up and opens a
    chat with the prompt."""
    if request.method == "GET":
        analytics.landing_click_record(prompt=prompt, request=request)
    response = HttpResponseRedirect(landing.app_start_url(prompt=prompt, request=request))
    patch_cache_control(response, private=True, no_store=True)
    return response


def robots(request: HttpRequest, prompt: Prompt) -> HttpResponse:
    rule = "Disallow: /" if landing.page_meta(prompt, None)["noindex"] else "Allow: /"
    return HttpResponse(
        f"User-agent: *\n{rule}\nDisallow: /start\nDisallow: /_preview/\n",
        content_type="text/plain; charset=utf-8",
    )
