"""A landing page in a real browser: written in the editor, previewed in a sandbox,
published on its own origin, where the app's cookies never arrive and no script runs;
its call to action opens the prompt in the app."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, screenshot_path, sign_in

pytestmark = pytest.mark.browser

PAGE = """<header><h1>Write better, today</h1>
<p>A patient coach for your drafts.</p></header>
<section><h2>What you get</h2><ul><li>Clear feedback</li><li>Stronger openings</li></ul>
<p><a class="spark-cta" href="{{ spark.start_url }}">Start writing</a></p></section>
<script>document.title = "pwned"; localStorage.setItem("stolen", document.cookie)</script>
<img src="/nothing.png" alt="" onerror="document.title = 'pwned'">
"""
CSS = "header { background: #1d3557; color: #fff; padding: 3rem 1.5rem; text-align: center; }"


def _on_localhost(server: LiveServer) -> LiveServer:
    # The embedded default's app origin is the landing domain's parent: localhost.
    return LiveServer(url=server.url.replace("127.0.0.1", "localhost"), env=server.env)


async def test_creator_publishes_a_page_that_lives_on_its_own_origin(
    browser: Any, spark_server: LiveServer
) -> None:
    app = _on_localhost(spark_server)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await sign_in(page, app, "creator@spark.local", "/creator/prompts/")
    row = page.locator("tr", has_text="Writing Coach")
    await row.get_by_role("link", name="Landing page").click()
    await page.wait_for_url(re.compile(r"/page/$"))

    await page.fill("textarea[name=source]", PAGE)
    await page.fill("textarea[name=css]", CSS)
    await page.fill("input[name=title]", "Writing Coach: write better")
    await page.get_by_role("button", name="Save a draft").click()
    await page.wait_for_selector("text=Version 1 was saved as a draft.")

    preview = page.frame_locator("iframe[data-landing-preview]")
    await preview.get_by_role("heading", name="Write better, today").wait_for()
    sandbox = await page.get_attribute("iframe[data-landing-preview]", "sandbox")
    assert sandbox == ""  # no allow-same-origin, no allow-scripts
    frame = next(f for f in page.frames if "/_preview/" in f.url)
    preview_colour = await frame.evaluate(
        "getComputedStyle(document.querySelector('header')).backgroundColor"
    )
    assert preview_colour == "rgb(29, 53, 87)"  # the creator's stylesheet, in the sandbox
    assert await frame.evaluate("document.title") == "Writing Coach: write better"
    await page.screenshot(path=screenshot_path("landing-editor"), full_page=True)

    landing_url = await page.get_attribute("[data-landing-url]", "href")
    assert landing_url is not None and ".pages.localhost:" in landing_url
    await page.click("[data-publish='1']")
    await page.wait_for_selector("[data-landing-state=published]")

    sent_cookies: list[str] = []
    visitor = await context.new_page()
    visitor.on(
        "request",
        lambda request: (
            sent_cookies.append(request.headers.get("cookie", ""))
            if ".pages.localhost" in request.url
            else None
        ),
    )
    response = await visitor.goto(landing_url)
    assert response is not None and response.status == 200
    await visitor.get_by_role("heading", name="Write better, today").wait_for()
    header_colour = await visitor.evaluate(
        "getComputedStyle(document.querySelector('header')).backgroundColor"
    )
    await visitor.screenshot(path=screenshot_path("landing-page"), full_page=True)

    # The creator's script never ran, and the app's session never reached this origin.
    assert await visitor.title() == "Writing Coach: write better"
    assert await visitor.evaluate("localStorage.getItem('stolen')") is None
    assert await visitor.evaluate("document.cookie") == ""
    assert sent_cookies and all(cookie == "" for cookie in sent_cookies)
    assert header_colour == "rgb(29, 53, 87)"
    app_cookies = {c["name"]: c["domain"] for c in await context.cookies()}
    assert app_cookies.get("sessionid") == "localhost"

    # The call to action opens a chat with the prompt in the app, signed in.
    await visitor.get_by_role("link", name="Start writing").click()
    await visitor.wait_for_url(re.compile(r"^http://localhost:\d+/chat/"))
    assert "pages.localhost" not in visitor.url
    await context.close()
