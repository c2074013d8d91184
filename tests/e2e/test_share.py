"""Sharing in a real browser: make a link, open it signed out (the snapshot, nothing
private), continue it as one's own copy, revoke it (then it is a 404)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import LiveServer, screenshot_path, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 780}
ANSWER_DONE = ".msg-assistant:not(.is-streaming) .msg-usage"


async def test_share_a_conversation_open_it_signed_out_continue_it_and_revoke_it(
    browser: Any, spark_server: LiveServer
) -> None:
    owner_context = await browser.new_context(viewport=DESKTOP)
    page = await owner_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, spark_server, "user@spark.local", "/chat/new/?prompt=writing-coach")
    await page.locator("[data-starter]").first.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    question = await page.locator(".msg-user .msg-content").inner_text()

    # Share: the dialog makes a link and lists it.
    await page.click("[data-share-open]")
    dialog = page.locator("[data-share-dialog]")
    await expect(dialog.locator("[data-share-empty]")).to_be_visible()
    await dialog.locator("[data-share-create]").click()
    url_input = dialog.locator("[data-share-url]")
    await expect(url_input).to_have_count(1)
    link = await url_input.input_value()
    assert re.fullmatch(rf"{re.escape(spark_server.url)}/s/[A-Za-z0-9_-]{{43}}/", link), link
    await page.screenshot(path=screenshot_path("share-dialog"))

    # Anyone with the link, signed out, in a fresh browser context: the snapshot.
    reader_context = await browser.new_context(viewport=DESKTOP)
    reader = await reader_context.new_page()
    reader_errors: list[str] = []
    reader.on("pageerror", lambda error: reader_errors.append(str(error)))
    response = await reader.goto(link)
    assert response is not None and response.status == 200
    assert response.headers["x-robots-tag"] == "noindex, nofollow"
    await expect(reader.locator("[data-share][data-ready=true]")).to_be_visible()
    await expect(reader.locator(".share-head h1")).to_be_visible()
    await expect(reader.locator(".msg-user .msg-content")).to_have_text(question)
    answer = reader.locator(".msg-assistant .msg-content")
    await expect(answer).to_contain_text("You said")
    await expect(answer.locator("table")).to_have_count(1)  # Markdown rendered
    html = await reader.content()
    assert "user@spark.local" not in html
    assert "I received a system prompt" in html  # the demo's own words, not the prompt's
    await expect(reader.locator("meta[name=robots]")).to_have_attribute(
        "content", "noindex, nofollow"
    )
    await expect(reader.get_by_text("Sign in to continue this conversation")).to_be_visible()
    await reader.screenshot(path=screenshot_path("share-signed-out"), full_page=True)
    await reader.set_viewport_size(PHONE)
    width = await reader.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    await reader.screenshot(path=screenshot_path("share-signed-out-phone"), full_page=True)

    # A signed-in reader continues it as their own copy.
    await reader.set_viewport_size(DESKTOP)
    await reader.get_by_text("Sign in to continue this conversation").click()
    await reader.fill("input[name=login]", "creator@spark.local")
    await reader.fill("input[name=password]", "spark-demo-2026")
    await reader.click("form:has(input[name=login]) button[type=submit]")
    await reader.wait_for_url(link)
    await reader.click("[data-continue]")
    await reader.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    assert reader.url.rstrip("/").rsplit("/", 1)[1] not in page.url
    await expect(reader.locator("[data-title]")).to_contain_text("(copy)")
    await expect(reader.locator(".msg-user .msg-content")).to_have_text(question)
    await reader.fill("[data-composer-input]", "And one more thing")
    await reader.press("[data-composer-input]", "Enter")
    await expect(reader.locator(".msg-assistant")).to_have_count(2, timeout=30000)
    await expect(reader.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    await expect(reader.locator(".msg-user .msg-content").last).to_have_text("And one more thing")
    await reader.screenshot(path=screenshot_path("share-continued"))

    # Revoke: the link is a 404 from then on.
    await dialog.locator("[data-share-revoke]").click()
    await expect(dialog.locator("[data-share-empty]")).to_be_visible()
    anonymous = await browser.new_context()
    gone = await (await anonymous.new_page()).goto(link)
    assert gone is not None and gone.status == 404
    # The owner's conversation did not change: still one question and one answer.
    await page.reload()
    await expect(page.locator(".msg-user")).to_have_count(1)
    assert errors == [] and reader_errors == []
    for context in (owner_context, reader_context, anonymous):
        await context.close()
