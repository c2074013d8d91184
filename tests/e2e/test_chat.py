"""The chat in a real browser: start from a demo prompt, stream, reload mid-answer, file the
conversation in a new folder, find it by search; and the same over the SSE fallback."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import LiveServer, screenshot_path, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1360, "height": 860}
PHONE = {"width": 390, "height": 844}
ANSWER_DONE = ".msg-assistant:not(.is-streaming) .msg-usage"

# A proxy that refuses WebSocket upgrades: every socket fails before it opens.
NO_WEBSOCKETS = """
window.WebSocket = class extends EventTarget {
  constructor(url) {
    super();
    this.url = url;
    this.readyState = 0;
    window.__socketAttempts = (window.__socketAttempts || 0) + 1;
    setTimeout(() => {
      this.readyState = 3;
      this.dispatchEvent(new Event("error"));
      this.dispatchEvent(new CloseEvent("close", { code: 1006 }));
    }, 20);
  }
  send() { throw new Error("not open"); }
  close() {}
};
window.WebSocket.OPEN = 1;
"""


async def api_get(page: Any, path: str) -> Any:
    return await page.evaluate(
        "async (path) => (await fetch(path, {headers: {Accept: 'application/json'}})).json()",
        path,
    )


async def start_chat_and_reload_mid_answer(page: Any, server: LiveServer, prompt: str) -> str:
    """Start a chat from a prompt's first starter; reload while it streams; see it end.

    Returns the conversation's id.
    """
    await page.goto(f"{server.url}/chat/new/?prompt={prompt}")
    starter = page.locator("[data-starter]").first
    starter_text = (await starter.get_attribute("data-starter")) or ""
    await starter.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]

    user_message = page.locator(".msg-user .msg-content")
    await expect(user_message).to_have_text(starter_text)
    streaming = page.locator(".msg-assistant.is-streaming .msg-content")
    await expect(streaming).to_contain_text("Demo model", timeout=15000)

    await page.reload()  # mid-answer
    await expect(page.locator(".msg-assistant.is-streaming")).to_have_count(1)
    answer = page.locator(".msg-assistant .msg-content")
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    await expect(answer).to_contain_text("You said")
    await expect(answer.locator("table")).to_have_count(1)
    await expect(answer.locator("pre code.hljs")).to_have_count(1)
    # Resumed, not restarted or doubled: the page shows exactly what the server stored.
    messages = await api_get(page, f"/api/v1/conversations/{conversation_id}/messages/")
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["status"] == "complete"
    assert (await answer.inner_text()).count("You said") == 1
    assert messages[1]["content"].count("You said") == 1
    return conversation_id


async def test_chat_streams_resumes_files_and_finds(browser: Any, spark_server: LiveServer) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, spark_server, "user@spark.local", "/chat/new/?prompt=writing-coach")

    # A new chat from a demo prompt: its name, starters and pickers; nothing created yet.
    await expect(page.locator(".chat-empty h2")).to_have_text("Writing Coach")
    await expect(page.locator("[data-starter]")).to_have_count(3)
    await page.screenshot(path=screenshot_path("chat-new-desktop"))

    conversation_id = await start_chat_and_reload_mid_answer(page, spark_server, "writing-coach")
    assert await page.locator("[data-chat-pane]").get_attribute("data-transport") == "ws"
    await page.screenshot(path=screenshot_path("chat-desktop"))

    # File the conversation in a new folder, by drag and drop.
    await page.click("[data-new-folder]")
    await page.fill("#dialog-name", "Essays")
    await page.click(".swatch[aria-label='#22a06b']")
    await page.click(".dialog-form button[type=submit]")
    folder_row = page.locator(".folder-row", has_text="Essays")
    await expect(folder_row).to_be_visible()
    row = page.locator(f"[data-conversation-id='{conversation_id}'] .conversation-row")
    await row.drag_to(folder_row)
    in_folder = page.locator(
        f"[data-folder-id] [data-conversation-id='{conversation_id}'] .conversation-row"
    )
    await expect(in_folder).to_be_visible()
    folders = await api_get(page, "/api/v1/folders/")
    assert [(f["name"], f["color"]) for f in folders] == [("Essays", "#22a06b")]
    conversation = await api_get(page, f"/api/v1/conversations/{conversation_id}/")
    assert conversation["folder"] == folders[0]["id"]
    await page.reload()  # persisted
    await expect(in_folder).to_be_visible()

    # Find it by searching the messages.
    await page.fill("[data-search]", "opening paragraph")
    hit = page.locator(".search-hit").first
    await expect(hit).to_be_visible()
    await expect(hit.locator("mark").first).to_be_visible()
    await page.screenshot(path=screenshot_path("chat-search-desktop"))
    await hit.click()
    await page.wait_for_url(re.compile(rf"/chat/{conversation_id}/#m-"))
    await expect(page.locator(".msg.is-found")).to_have_count(1)

    await page.emulate_media(color_scheme="dark")
    await page.screenshot(path=screenshot_path("chat-desktop-dark"))
    await page.emulate_media(color_scheme="light")

    # The phone layout: the sidebar is a drawer.
    await page.set_viewport_size(PHONE)
    await page.goto(f"{spark_server.url}/chat/{conversation_id}/")
    await expect(page.locator("[data-sidebar]")).not_to_be_in_viewport()
    await page.screenshot(path=screenshot_path("chat-phone"))
    await page.click("[data-drawer-toggle]")
    await expect(page.locator("[data-sidebar]")).to_be_in_viewport(ratio=1)
    await expect(page.locator("[data-sidebar] .folder-row")).to_be_visible()
    await page.screenshot(path=screenshot_path("chat-phone-drawer"))
    assert errors == []
    await context.close()


async def test_without_websockets_the_page_falls_back_to_sse(
    browser: Any, spark_server: LiveServer
) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    await context.add_init_script(NO_WEBSOCKETS)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, spark_server, "member@acme.example", "/chat/new/?prompt=code-reviewer")
    conversation_id = await start_chat_and_reload_mid_answer(page, spark_server, "code-reviewer")
    assert await page.locator("[data-chat-pane]").get_attribute("data-transport") == "sse"
    assert await page.evaluate("window.__socketAttempts") >= 2

    # Sending again goes over POST + SSE; stop works too.
    await page.fill("[data-composer-input]", "Another question, please")
    await page.keyboard.press("Enter")
    await expect(page.locator(".msg-assistant.is-streaming")).to_have_count(1)
    await page.click("[data-stop]")
    await expect(page.locator(".msg-status.status-cancelled")).to_be_visible(timeout=15000)
    messages = await api_get(page, f"/api/v1/conversations/{conversation_id}/messages/")
    assert [m["status"] for m in messages] == ["complete", "complete", "complete", "cancelled"]
    await page.screenshot(path=screenshot_path("chat-sse-fallback"))
    assert errors == [], json.dumps(errors)
    await context.close()


async def test_a_conversation_locked_by_staff_closes_at_once_in_the_open_page(
    browser: Any, spark_server: LiveServer
) -> None:
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, spark_server, "user@spark.local", "/chat/new/?prompt=writing-coach")
    await page.locator("[data-starter]").first.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    composer = page.locator("[data-composer-input]")
    await expect(composer).to_be_enabled()

    # Staff lock it from the watchdog console while the user's page stays open.
    staff = await browser.new_context(viewport=DESKTOP)
    console = await staff.new_page()
    console_path = f"/admin/watchdog/supervision/conversation/{conversation_id}/"
    await sign_in(console, spark_server, "admin@spark.local", console_path)
    await console.click("form[action$='/lock/'] button[type=submit]")
    await expect(console.locator(".watchdog-locked")).to_be_visible()

    # The open page closes without a reload, and says why.
    await expect(composer).to_be_disabled()
    await expect(page.locator(".chat-notice")).to_contain_text("This conversation was closed")
    await page.screenshot(path=screenshot_path("chat-locked"))
    status = await page.evaluate(
        """async (id) => (await fetch(`/api/v1/conversations/${id}/messages/`, {
            method: "POST", headers: {"Content-Type": "application/json",
            "X-CSRFToken": document.cookie.match(/csrftoken=([^;]+)/)?.[1] || ""},
            body: JSON.stringify({text: "Still there?", client_id: "after-lock"})})).status""",
        conversation_id,
    )
    assert status == 423
    assert errors == []
    await staff.close()
    await context.close()
