"""Landing pages on the landing origin: which prompt a host serves, what is safe to serve.

A prompt's page lives on ``<subdomain>.<SPARK_LANDING_DOMAIN>``, an origin that is not the
app's, so the app's cookies never reach it (ARCHITECTURE.md section 8). The landing
middleware (``marketplace.middleware``) answers every request on such a host from
``marketplace.landing_urls`` and nothing else: a landing host never serves the app, and
the app's URLs hold no landing view.

``landing_prompt_for_host`` is the one place that says which prompt a host serves; prompt
domains (custom domains) plug in there and in ``is_landing_host``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any
from urllib.parse import urlencode

import nh3
from django.conf import settings
from django.core import signing
from django.http import HttpRequest
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from accounts import tenancy
from accounts.models import Tenant, TenantDomain
from marketplace import domains
from marketplace.models import LandingPage, LandingPageVersion, Prompt
from spark.tenancy.context import unscoped

# Served by the chat app; the landing origin's call to action sends visitors there.
CHAT_START_PATH = "/chat/new/"
# The path on the landing host that counts a call-to-action click and goes to the app.
START_PATH = "/start"
# What a creator writes where the call to action goes; the server fills it in.
START_PLACEHOLDER = re.compile(
    r"\{\{\s*spark\.start_url\s*\}\}|%7B%7B(?:%20)*spark\.start_url(?:%20)*%7D%7D"
)
PREVIEW_SALT = "spark.landing.preview"
RESERVED_SUBDOMAINS = frozenset({"www", "app", "api", "admin", "static", "media", "mail"})

# What creator HTML may contain: structure, text, links and images; never scripts,
# styles, forms, frames or event handlers (nh3 drops the rest, content of script and
# style elements included).
ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "article", "aside", "b", "blockquote", "br", "caption", "cite", "code",
        "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "footer",
        "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd", "li",
        "main", "mark", "nav", "ol", "p", "picture", "pre", "q", "s", "section", "small",
        "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th",
        "thead", "time", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir", "aria-label", "aria-hidden", "role"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "ol": {"start", "reversed"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


# --- hosts ----------------------------------------------------------------------------------


def _bare(host: str) -> str:
    """``host`` lowercased, without its port."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _landing_suffix() -> str:
    return "." + settings.SPARK_LANDING_DOMAIN.strip(".").lower()


def is_landing_subdomain_host(host: str) -> bool:
    """The landing domain itself or a name under it (no lookup)."""
    bare = _bare(host)
    return bare == _landing_suffix()[1:] or bare.endswith(_landing_suffix())


def may_be_landing_host(host: str) -> bool:
    """Whether ``host`` needs ``is_landing_host``'s lookup: not the landing domain (known
    without one) and not one of the platform's own names (never a prompt domain)."""
    return not is_landing_subdomain_host(host) and not domains.is_platform_host(host)


def is_landing_host(host: str) -> bool:
    """Whether ``host`` is on the landing origin (and so never serves the app).

    The landing domain itself and every name under it, whether a page exists there or not,
    and every active prompt domain (a creator's own domain for one prompt's page).
    """
    if is_landing_subdomain_host(host):
        return True
    return may_be_landing_host(host) and domains.is_serving_domain(host)


def landing_prompt_for_host(host: str) -> Prompt | None:
    """The prompt whose landing page ``host`` serves, or None (the host answers 404).

    ``<subdomain>.<SPARK_LANDING_DOMAIN>`` names a ``LandingPage``; its prompt is served
    while it is active and public or unlisted, in an active tenant whose site is not
    members-only. A private or switched-off prompt's page is missing, like an unknown one.
    """
    bare = _bare(host)
    suffix = _landing_suffix()
    if not bare.endswith(suffix):
        return domains.active_domain_prompt(bare)
    label = bare[: -len(suffix)]
    if not label or "." in label:
        return None
    with unscoped():
        page = (
            LandingPage.objects.select_related(
                "prompt", "prompt__tenant", "prompt__owner", "published_version"
            )
            .filter(subdomain=label)
            .first()
        )
    if page is None:
        return None
    prompt = page.prompt
    if not landing_is_public(prompt):
        return None
    return prompt


def landing_is_public(prompt: Prompt) -> bool:
    """Whether visitors may see ``prompt``'s landing page at all."""
    tenant = prompt.tenant
    return (
        prompt.is_active
        and prompt.visibility in (Prompt.Visibility.PUBLIC, Prompt.Visibility.UNLISTED)
        and tenant.is_active
        and not tenancy.site_is_members_only(tenant)
    )


def subdomain_label(text: str) -> str:
    """A DNS label made from ``text`` (a slug): lowercase letters, digits and ``-``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    label = re.sub(r"[^a-z0-9-]+", "-", ascii_text.lower().replace("_", "-"))
    return re.sub(r"-{2,}", "-", label).strip("-")[:63].strip("-") or "page"


def subdomain_candidates(prompt: Prompt) -> list[str]:
    """The subdomains to try for a new page, best first."""
    base = subdomain_label(prompt.slug)
    first = [] if base in RESERVED_SUBDOMAINS else [base]
    qualified = subdomain_label(f"{base[:40]}-{prompt.tenant.slug}")
    return [*first, qualified, *(f"{qualified[:58]}-{n}" for n in range(2, 50))]


def landing_host(page: LandingPage) -> str:
    return f"{page.subdomain}{_landing_suffix()}"


def landing_url(page: LandingPage, *, request: HttpRequest | None = None) -> str:
    """The page's public address (scheme and port as the request's, where there is one)."""
    scheme, port = _scheme_and_port(request)
    return f"{scheme}://{landing_host(page)}{port}/"


def _scheme_and_port(request: HttpRequest | None) -> tuple[str, str]:
    if settings.SPARK_APP_URL:
        scheme, _sep, rest = settings.SPARK_APP_URL.partition("://")
        hostport = rest.split("/", 1)[0]
        port = ":" + hostport.rsplit(":", 1)[1] if hostport.count(":") == 1 else ""
        return scheme, port
    if request is None:
        return "https", ""
    host = request.get_host()
    port = ":" + host.rsplit(":", 1)[1] if host.count(":") == 1 else ""
    return request.scheme or "https", port


def app_origin(*, tenant: Tenant, request: HttpRequest | None = None) -> str:
    """Where the app of ``tenant`` answers: its primary domain, else the platform's.

    The platform's is SPARK_APP_URL, or in the embedded default the landing domain's parent
    on the request's scheme and port (``http://localhost:8000`` for ``pages.localhost``).
    """
    scheme, port = _scheme_and_port(request)
    if not tenant.is_public:
        with unscoped():
            domain = (
                TenantDomain.objects.filter(tenant=tenant)
                .order_by("-is_primary", "pk")
                .values_list("host", flat=True)
                .first()
            )
        if domain:
            return f"{scheme}://{domain}{port}"
    if settings.SPARK_APP_URL:
        return str(settings.SPARK_APP_URL)
    parent = settings.SPARK_LANDING_DOMAIN.strip(".").split(".", 1)[-1]
    return f"{scheme}://{parent}{port}"


def app_start_url(*, prompt: Prompt, request: HttpRequest | None = None) -> str:
    """The app's start link for ``prompt``: sign in or up, then a chat with it."""
    origin = app_origin(tenant=prompt.tenant, request=request)
    return f"{origin}{CHAT_START_PATH}?{urlencode({'prompt': str(prompt.uuid)})}"


# --- what a page may contain ---------------------------------------------------------------


def sanitize_html(html: str) -> str:
    """Creator HTML reduced to the allow-list (nh3): no script can survive it."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_source(*, source: str, source_format: str) -> str:
    """The sanitised HTML body of a page written in HTML or Markdown."""
    if source_format == LandingPageVersion.Format.MARKDOWN:
        return sanitize_html(_markdown.render(source))
    return sanitize_html(source)


def css_digest(css: str) -> str:
    return hashlib.sha256(css.encode()).hexdigest() if css else ""


def clean_css(css: str) -> str:
    """A stylesheet as served: it can run no code (script-src is 'none' on the origin); a
    ``</`` is broken up so it cannot end an element if it is ever inlined."""
    return css.replace("</", "<\\/")


def with_start_url(html: str, *, start_url: str = START_PATH) -> tuple[str, bool]:
    """``html`` with the call-to-action placeholder filled; whether it had one."""
    filled, count = START_PLACEHOLDER.subn(start_url, html)
    return filled, count > 0


# --- the landing origin's headers ----------------------------------------------------------


def content_security_policy(
    *, frame_ancestor: str | None = None, style_nonce: str | None = None
) -> str:
    """The landing origin's CSP: no script at all, nothing fetched from the app, styles
    and fonts from the page itself, images from the page or https; framed by no one
    (the editor's preview: only by the app, in a sandbox, with its styles inline under a
    nonce, as a sandboxed document has an opaque origin that loads nothing as 'self')."""
    ancestors = frame_ancestor or "'none'"
    styles = f"'nonce-{style_nonce}'" if style_nonce else "'self'"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'none'",
            f"style-src {styles}",
            "img-src 'self' data: https:",
            "font-src 'self' data:",
            "media-src 'self' https:",
            "connect-src 'none'",
            "form-action 'none'",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


# --- previews -------------------------------------------------------------------------------


def preview_token(version: LandingPageVersion) -> str:
    return signing.dumps({"v": version.pk, "p": version.page_id}, salt=PREVIEW_SALT)


def preview_version(*, prompt: Prompt, token: str) -> LandingPageVersion | None:
    """The version a signed preview link names, if it is this prompt's and still valid."""
    try:
        data = signing.loads(
            token, salt=PREVIEW_SALT, max_age=settings.SPARK_LANDING_PREVIEW_MAX_AGE
        )
    except signing.BadSignature:
        return None
    page = getattr(prompt, "landing_page", None)
    if page is None or not isinstance(data, dict) or data.get("p") != page.pk:
        return None
    with unscoped():
        return LandingPageVersion.objects.filter(pk=int(data.get("v") or 0), page=page).first()


def preview_url(version: LandingPageVersion, *, request: HttpRequest | None = None) -> str:
    return f"{landing_url(version.page, request=request)}_preview/{preview_token(version)}/"


def page_meta(prompt: Prompt, version: LandingPageVersion | None) -> dict[str, Any]:
    """Title, description and robots for a page (unlisted prompts are not indexed)."""
    title = version.title if version is not None else prompt.name
    description = (version.description if version is not None else "") or prompt.description
    return {
        "title": title,
        "description": description[:300],
        "noindex": prompt.visibility != Prompt.Visibility.PUBLIC,
        "cta_label": _("Start chatting"),
    }
