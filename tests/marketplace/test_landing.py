"""Landing pages on the landing origin: the editor, publishing, what visitors get, and
the sanitiser that keeps creator HTML script-free."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import Tenant, User
from marketplace import landing, services
from marketplace.models import LandingPage, LandingPageVersion, Prompt
from spark.common.exceptions import ApplicationError
from spark.tenancy.context import tenant_scope, unscoped
from tests.conftest import signed_in
from tests.factories import create_prompt, create_user

pytestmark = pytest.mark.django_db

EVIL = (
    '<h1 onclick="steal()">Hi</h1><script>alert(document.cookie)</script>'
    '<a href="javascript:alert(1)">x</a><iframe src="https://evil.example"></iframe>'
    '<form action="https://evil.example"><input name=a></form>'
    '<img src="https://cdn.example/a.png" onerror="steal()">'
    "<style>body{}</style>"
    '<p><a class="go" href="{{ spark.start_url }}">Start</a></p>'
)


def _page_for(prompt: Prompt) -> LandingPage:
    with tenant_scope(prompt.tenant):
        return services.landing_page_get_or_create(prompt=prompt)


def _publish(prompt: Prompt, **fields: Any) -> LandingPageVersion:
    page = _page_for(prompt)
    with tenant_scope(prompt.tenant):
        fields.setdefault("title", "Lisbon Guide")
        fields.setdefault("source", "<h1>Welcome</h1>")
        version = services.landing_version_save(page=page, author=prompt.owner, **fields)
        services.landing_publish(page=page, version=version)
    return version


def _host(prompt: Prompt) -> str:
    return landing.landing_host(_page_for(prompt))


# --- the sanitiser ---------------------------------------------------------------------------


def test_creator_html_loses_scripts_handlers_frames_forms_and_javascript_urls() -> None:
    html = landing.render_source(source=EVIL, source_format="html")
    for gone in ("<script", "onclick", "javascript:", "<iframe", "<form", "<input", "onerror"):
        assert gone not in html
    assert "alert(document.cookie)" not in html
    assert '<img src="https://cdn.example/a.png">' in html
    assert "<h1>Hi</h1>" in html
    assert 'href="{{ spark.start_url }}"' in html


def test_markdown_is_rendered_and_its_raw_html_is_not_trusted() -> None:
    html = landing.render_source(
        source="# Title\n\n<script>x()</script>\n\n[Start](<{{ spark.start_url }}>)",
        source_format="markdown",
    )
    assert "<h1>Title</h1>" in html
    assert "<script" not in html
    filled, found = landing.with_start_url(html)
    assert found and 'href="/start"' in filled


# --- the editor ------------------------------------------------------------------------------


def test_owner_saves_a_draft_that_visitors_do_not_see_until_published(user: User) -> None:
    prompt = create_prompt(owner=user, name="Lisbon Guide", slug="lisbon-guide")
    client = signed_in(user)
    url = f"/creator/prompts/{prompt.uuid}/page/"
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {"title": "Lisbon", "source_format": "html", "source": EVIL, "css": "h1{color:red}"},
    )

    assert response.status_code == 302
    with unscoped():
        version = LandingPageVersion.objects.get(page__prompt=prompt)
    assert version.number == 1 and version.source == EVIL and "<script" not in version.html
    visitor = Client().get("/", HTTP_HOST="lisbon-guide.pages.localhost")
    assert visitor.status_code == 200
    assert b"Welcome" not in visitor.content and b"<h1>Hi</h1>" not in visitor.content
    assert b"Lisbon Guide" in visitor.content  # the built-in page, from the prompt's fields

    assert client.post(f"{url}publish/", {"version": "1"}).status_code == 302
    live = Client().get("/", HTTP_HOST="lisbon-guide.pages.localhost")
    assert b"<h1>Hi</h1>" in live.content and b"<script" not in live.content
    assert b'href="/start"' in live.content
    css = Client().get(f"/assets/{version.css_hash}.css", HTTP_HOST="lisbon-guide.pages.localhost")
    assert css.status_code == 200 and css.content == b"h1{color:red}"
    assert css["Content-Type"].startswith("text/css") and "immutable" in css["Cache-Control"]


def test_rollback_publishes_an_older_version_and_unpublish_restores_the_builtin_page(
    user: User,
) -> None:
    prompt = create_prompt(owner=user, name="Rollback", slug="rollback")
    _publish(prompt, source="<h1>First</h1>")
    _publish(prompt, source="<h1>Second</h1>")
    client = signed_in(user)
    host: dict[str, Any] = {"HTTP_HOST": _host(prompt)}
    assert b"Second" in Client().get("/", **host).content

    client.post(f"/creator/prompts/{prompt.uuid}/page/publish/", {"version": "1"})
    assert b"First" in Client().get("/", **host).content

    client.post(f"/creator/prompts/{prompt.uuid}/page/unpublish/")
    body = Client().get("/", **host).content
    assert b"First" not in body and b"spark-builtin" in body


def test_bad_input_is_a_field_error_and_the_live_version_stays(user: User) -> None:
    prompt = create_prompt(owner=user, slug="steady")
    _publish(prompt, source="<h1>Live one</h1>")
    client = signed_in(user)

    response = client.post(
        f"/creator/prompts/{prompt.uuid}/page/",
        {"title": "", "source_format": "html", "source": "<script>only()</script>"},
    )

    assert response.status_code == 200
    assert "Please correct the errors below." in response.content.decode()
    with unscoped():
        assert LandingPageVersion.objects.filter(page__prompt=prompt).count() == 1
    assert b"Live one" in Client().get("/", HTTP_HOST=_host(prompt)).content


def test_a_page_without_safe_content_is_refused(user: User) -> None:
    prompt = create_prompt(owner=user)
    page = _page_for(prompt)
    with tenant_scope(prompt.tenant), pytest.raises(ApplicationError) as caught:
        services.landing_version_save(
            page=page, author=user, title="T", source="<script>x()</script>"
        )
    assert caught.value.code == "invalid" and "source" in caught.value.details
    with unscoped():
        assert not LandingPageVersion.objects.filter(page=page).exists()


def test_someone_else_gets_404_from_the_editor_and_changes_nothing(user: User) -> None:
    prompt = create_prompt(owner=user)
    other = create_user(tenant=prompt.tenant, email="other@example.com")
    client = signed_in(other)
    base = f"/creator/prompts/{prompt.uuid}/page/"
    assert client.get(base).status_code == 404
    assert (
        client.post(base, {"title": "x", "source_format": "html", "source": "<p>x</p>"}).status_code
        == 404
    )
    assert client.post(f"{base}publish/", {"version": "1"}).status_code == 404
    assert client.post(f"{base}unpublish/").status_code == 404
    with unscoped():
        assert not LandingPage.objects.filter(prompt=prompt).exists()


# --- the landing origin ------------------------------------------------------------------------


def test_landing_responses_carry_a_strict_csp_and_no_cookie(user: User) -> None:
    prompt = create_prompt(owner=user)
    _publish(prompt)
    visitor = signed_in(user)  # the app's session cookie is in this client's jar

    response = visitor.get("/", HTTP_HOST=_host(prompt))

    csp = response["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "connect-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert response.cookies == {}
    assert "Set-Cookie" not in response


def test_the_call_to_action_opens_the_prompt_in_the_app(user: User) -> None:
    prompt = create_prompt(owner=user, slug="cta")
    _publish(prompt)

    response = Client().get("/start", HTTP_HOST=f"{_host(prompt)}:8000")

    assert response.status_code == 302
    assert response["Location"] == f"http://localhost:8000/chat/new/?prompt={prompt.uuid}"


def test_the_call_to_action_of_a_tenant_prompt_goes_to_the_tenant_site(
    tenant_b: Tenant, user_b: User
) -> None:
    with unscoped():
        from accounts.models import TenantDomain

        TenantDomain.objects.create(tenant=tenant_b, host="shop-b.example", is_primary=True)
    prompt = create_prompt(owner=user_b, slug="helper")

    response = Client().get("/start", HTTP_HOST=_host(prompt))

    assert response["Location"] == f"http://shop-b.example/chat/new/?prompt={prompt.uuid}"


@pytest.mark.parametrize(
    "change",
    [
        {"visibility": Prompt.Visibility.PRIVATE},
        {"is_active": False},
    ],
    ids=["private", "switched-off"],
)
def test_a_private_or_switched_off_prompts_page_is_a_404(
    user: User, change: dict[str, Any]
) -> None:
    prompt = create_prompt(owner=user)
    _publish(prompt)
    host = _host(prompt)
    with unscoped():
        Prompt.objects.filter(pk=prompt.pk).update(**change)

    for path in ("/", "/start", "/robots.txt"):
        assert Client().get(path, HTTP_HOST=host).status_code == 404


def test_an_enterprise_tenants_prompt_has_no_public_page(user_a: User) -> None:
    prompt = create_prompt(owner=user_a)
    _publish(prompt)
    assert Client().get("/", HTTP_HOST=_host(prompt)).status_code == 404


def test_unlisted_pages_are_noindex_and_public_ones_are_indexed(user: User) -> None:
    public = create_prompt(owner=user, slug="shown")
    unlisted = create_prompt(owner=user, slug="hidden", visibility=Prompt.Visibility.UNLISTED)
    _publish(public)
    _publish(unlisted)

    assert b'name="robots"' not in Client().get("/", HTTP_HOST=_host(public)).content
    assert b'content="noindex"' in Client().get("/", HTTP_HOST=_host(unlisted)).content
    assert b"Allow: /" in Client().get("/robots.txt", HTTP_HOST=_host(public)).content
    assert b"Disallow: /\n" in Client().get("/robots.txt", HTTP_HOST=_host(unlisted)).content


def test_page_carries_title_description_and_sharing_tags(user: User) -> None:
    prompt = create_prompt(owner=user, slug="tags")
    _publish(prompt, title="Tags & more", description="Shared well")
    body = Client().get("/", HTTP_HOST=_host(prompt)).content.decode()
    assert "<title>Tags &amp; more</title>" in body
    assert '<meta property="og:title" content="Tags &amp; more">' in body
    assert '<meta name="twitter:description" content="Shared well">' in body


def test_preview_link_is_signed_for_one_prompt_and_framed_only_by_the_app(user: User) -> None:
    prompt = create_prompt(owner=user, slug="previewed")
    other = create_prompt(owner=user, slug="elsewhere")
    page = _page_for(prompt)
    _page_for(other)
    with tenant_scope(prompt.tenant):
        draft = services.landing_version_save(
            page=page, author=user, title="Draft", source="<h1>Not live yet</h1>"
        )
    token = landing.preview_token(draft)

    shown = Client().get(f"/_preview/{token}/", HTTP_HOST=_host(prompt))
    elsewhere = Client().get(f"/_preview/{token}/", HTTP_HOST=_host(other))
    forged = Client().get(f"/_preview/{token[:-2]}xx/", HTTP_HOST=_host(prompt))

    assert shown.status_code == 200 and b"Not live yet" in shown.content
    assert "frame-ancestors http://localhost" in shown["Content-Security-Policy"]
    assert shown["X-Robots-Tag"] == "noindex"
    assert elsewhere.status_code == 404 and forged.status_code == 404
    assert b"Not live yet" not in Client().get("/", HTTP_HOST=_host(prompt)).content


def test_subdomains_are_unique_across_tenants(user: User, user_b: User) -> None:
    mine = create_prompt(owner=user, slug="same_name")
    theirs = create_prompt(owner=user_b, slug="same_name")
    assert _page_for(mine).subdomain == "same-name"
    assert _page_for(theirs).subdomain == "same-name-tenant-b"
    assert landing.landing_prompt_for_host("same-name-tenant-b.pages.localhost:8000") == theirs
    assert landing.landing_prompt_for_host("SAME-NAME.pages.localhost") == mine


@pytest.mark.parametrize(
    "host",
    ["pages.localhost", "a.b.pages.localhost", "nothing-here.pages.localhost", "localhost"],
)
def test_hosts_that_name_no_page_serve_none(host: str) -> None:
    assert landing.landing_prompt_for_host(host) is None
