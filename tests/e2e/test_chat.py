"""The chat in a real browser: start from a demo prompt, stream, reload mid-answer, file the
conversation in a new folder, find it by search; the same over the SSE fallback; a long
conversation opens on its latest messages and loads earlier ones."""

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


async def open_page(
    browser: Any, *, init_script: str | None = None, **options: Any
) -> tuple[Any, Any, list[str]]:
    """A desktop browser context and page, and the page's uncaught errors as they happen."""
    context = await browser.new_context(viewport=DESKTOP, **options)
    if init_script is not None:
        await context.add_init_script(init_script)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


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
    context, page, errors = await open_page(browser)
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
    context, page, errors = await open_page(browser, init_script=NO_WEBSOCKETS)
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
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "user@spark.local", "/chat/new/?prompt=writing-coach")
    await page.locator("[data-starter]").first.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    composer = page.locator("[data-composer-input]")
    await expect(composer).to_be_enabled()
    regenerate = page.locator(".msg-actions button[aria-label='Regenerate']")
    await expect(regenerate).to_have_count(1)

    # Staff lock it from the watchdog console while the user's page stays open.
    staff = await browser.new_context(viewport=DESKTOP)
    console = await staff.new_page()
    console_path = f"/admin/watchdog/supervision/conversation/{conversation_id}/"
    await sign_in(console, spark_server, "admin@spark.local", console_path)
    await console.click("form[action$='/lock/'] button[type=submit]")
    await expect(console.locator(".watchdog-locked")).to_be_visible()

    # The open page closes without a reload, and says why.
    await expect(composer).to_be_disabled()
    await expect(page.locator("[data-chat-notice]")).to_contain_text("This conversation was closed")
    actions = page.locator(".msg-actions button")
    await expect(actions.first).to_be_visible()  # copying stays
    for label in ("Regenerate", "Edit and resend"):  # starting a turn does not
        await expect(page.locator(f".msg-actions button[aria-label='{label}']")).to_have_count(0)
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


# A conversation longer than a page, made on the live server: "Message 000" ... in order.
LONG_CONVERSATION = """
import json
from accounts import tenancy
from accounts.models import User
from chat import services
from chat.models import Message
from spark.tenancy.context import tenant_scope

user = User.objects.get(email="user@spark.local")
tenant = tenancy.home_tenant(user)
with tenant_scope(tenant):
    conversation = services.conversation_create(user=user, tenant=tenant, title="A long talk")
    Message.objects.bulk_create(
        Message(
            tenant=tenant,
            conversation=conversation,
            role="user" if index % 2 == 0 else "assistant",
            content=f"Message {index:03d}",
        )
        for index in range(COUNT)
    )
    ids = Message.objects.filter(conversation=conversation).order_by("created_at", "id")
    ids = [str(uuid) for uuid in ids.values_list("uuid", flat=True)]
print(json.dumps({"id": str(conversation.uuid), "messages": ids}))
"""

# Where a message is on the screen, relative to the top of the log's visible area.
SCREEN_OFFSET = """(id) => {
  const log = document.querySelector("[data-chat-log]");
  return document.getElementById(`m-${id}`).getBoundingClientRect().top
    - log.getBoundingClientRect().top;
}"""

# Scroll the log to its top at once; where the message is then (before anything loads).
SCROLL_LOG_TO_TOP = """(id) => {
  const log = document.querySelector("[data-chat-log]");
  log.scrollTo({top: 0, behavior: "instant"});
  return document.getElementById(`m-${id}`).getBoundingClientRect().top
    - log.getBoundingClientRect().top;
}"""


def long_conversation(server: LiveServer, count: int) -> tuple[str, list[str]]:
    output = server.manage("shell", "-c", LONG_CONVERSATION.replace("COUNT", str(count)))
    made = json.loads(output.strip().splitlines()[-1])
    assert len(made["messages"]) == count
    return made["id"], made["messages"]


def shown(numbers: range) -> list[str]:
    return [f"Message {number:03d}" for number in numbers]


async def test_a_long_conversation_opens_at_its_end_and_loads_earlier_messages_in_place(
    browser: Any, spark_server: LiveServer
) -> None:
    conversation_id, ids = long_conversation(spark_server, 250)  # pages of 100: 50, 100, 100
    # Without the messages' 4px "rise" as they first show: positions are measured to the pixel.
    context, page, errors = await open_page(browser, reduced_motion="reduce")
    await sign_in(page, spark_server, "user@spark.local", f"/chat/{conversation_id}/")
    contents = page.locator("[data-chat-log] .msg .msg-content")
    earlier = page.locator("[data-load-earlier]")

    # The page opens on the latest 100 messages, scrolled to the end.
    await expect(contents).to_have_count(100)
    await expect(contents.first).to_have_text("Message 150")
    await expect(contents.last).to_be_in_viewport()
    await expect(earlier).to_have_text("Load earlier messages")
    await expect(earlier).not_to_be_in_viewport()

    # Scrolling to the top loads the 100 before, above, without moving what was read.
    before = await page.evaluate(SCROLL_LOG_TO_TOP, ids[150])
    await expect(contents).to_have_count(200)
    await expect(contents.first).to_have_text("Message 050")
    assert await contents.all_inner_texts() == shown(range(50, 250))
    assert abs(await page.evaluate(SCREEN_OFFSET, ids[150]) - before) <= 1
    await expect(earlier).not_to_be_in_viewport()

    # A failed request says so and keeps what is shown; the button tries again.
    async def unavailable(route: Any) -> None:
        await route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"code": "unavailable", "message": "Try again in a moment."}),
        )

    earlier_pages = re.compile(r"/messages/\?.*before=")
    await page.route(earlier_pages, unavailable)
    await page.evaluate(SCROLL_LOG_TO_TOP, ids[50])
    await expect(page.locator("[data-chat-notice]")).to_have_text("Try again in a moment.")
    await expect(earlier).to_be_enabled()
    await expect(contents).to_have_count(200)
    await page.screenshot(path=screenshot_path("chat-earlier-messages"))
    await page.unroute(earlier_pages)
    before = await page.evaluate(SCREEN_OFFSET, ids[50])
    await earlier.click()
    await expect(contents).to_have_count(250)
    assert await contents.all_inner_texts() == shown(range(250))
    assert abs(await page.evaluate(SCREEN_OFFSET, ids[50]) - before) <= 1
    await expect(earlier).to_have_count(0)  # nothing earlier remains
    await expect(page.locator("[data-chat-notice]")).to_be_hidden()

    # An answer sent from elsewhere reloads the log: the latest page again, and the button.
    await page.evaluate(
        """(id) => { fetch(`/api/v1/conversations/${id}/messages/`, {
            method: "POST", headers: {"Content-Type": "application/json",
            "X-CSRFToken": document.cookie.match(/csrftoken=([^;]+)/)?.[1] || ""},
            body: JSON.stringify({text: "Sent from my phone", client_id: "phone-1"})}); }""",
        conversation_id,
    )
    await expect(contents).to_have_count(100)
    await expect(contents.nth(98)).to_have_text("Sent from my phone")
    await expect(contents.first).to_have_text("Message 152")
    await expect(earlier).to_have_count(1)
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    await expect(contents).to_have_count(100)
    assert errors == []
    await context.close()


async def test_a_link_to_an_old_message_loads_earlier_pages_until_it_is_shown(
    browser: Any, spark_server: LiveServer
) -> None:
    conversation_id, ids = long_conversation(spark_server, 250)
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "user@spark.local", "/chat/")
    contents = page.locator("[data-chat-log] .msg .msg-content")
    found = page.locator(".msg.is-found")

    # Opened from a search hit: the message is one page back; only that page loads.
    await page.goto(f"{spark_server.url}/chat/{conversation_id}/#m-{ids[120]}")
    await expect(found).to_have_count(1)
    await expect(found).to_have_id(f"m-{ids[120]}")
    await expect(found.locator(".msg-content")).to_have_text("Message 120")
    await expect(found).to_be_in_viewport()
    await expect(contents).to_have_count(200)

    # A hit in the open conversation (a new hash): two pages back, loaded in turn.
    await page.goto(f"{spark_server.url}/chat/{conversation_id}/#m-{ids[30]}")
    await expect(found).to_have_id(f"m-{ids[30]}")
    await expect(found).to_have_count(1)
    await expect(found).to_be_in_viewport()
    await expect(contents).to_have_count(250)
    assert await contents.all_inner_texts() == shown(range(250))
    await expect(page.locator("[data-load-earlier]")).to_have_count(0)
    assert errors == []
    await context.close()


def png(width: int = 48, height: int = 48) -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


FORGET_CAPTAIN_PIA = """
from accounts.models import AlterEgo
from spark.tenancy.context import unscoped
with unscoped():
    AlterEgo.objects.filter(user__email="creator@spark.local", name="Captain Pia").delete()
"""


async def test_chatting_as_an_alter_ego_shows_its_picture(
    browser: Any, spark_server: LiveServer
) -> None:
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "creator@spark.local", "/settings/alter-egos/")
    await page.fill("input[name=name]", "Captain Pia")
    await page.fill("textarea[name=description]", "A ship's captain who wants short answers.")
    await page.set_input_files(
        "input[name=avatar]", files=[{"name": "pia.png", "mimeType": "image/png", "buffer": png()}]
    )
    await page.check("input[name=is_default]")
    await page.click("form[enctype] button[type=submit]")
    await expect(page.locator(".persona-list")).to_contain_text("Captain Pia")

    # The storage serves uploads (S3 in production; this server has DEBUG off, so here the
    # browser is handed the picture, as the storage would hand it).
    await page.route(
        "**/media/alter-egos/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=png()),
    )

    # A new chat picks the default persona: its picture beside the picker and on what it says.
    await page.goto(f"{spark_server.url}/chat/new/?prompt=writing-coach")
    picker_avatar = page.locator("[data-alter-ego-avatar]")
    await expect(picker_avatar).to_be_visible()
    assert "/alter-egos/" in (await picker_avatar.get_attribute("src") or "")
    await expect(picker_avatar).to_have_js_property("naturalWidth", 48)  # loaded
    await page.locator("[data-starter]").first.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    said = page.locator(".msg-user img.msg-avatar")
    await expect(said).to_have_count(1)
    assert await said.get_attribute("src") == await picker_avatar.get_attribute("src")
    await expect(said).to_have_js_property("naturalWidth", 48)
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    await page.screenshot(path=screenshot_path("chat-alter-ego"))

    # Back to chatting as oneself: no picture.
    await page.select_option("[data-alter-ego]", "")
    await expect(picker_avatar).to_be_hidden()
    assert errors == []
    await context.close()
    # This server does not serve uploads (DEBUG off): left as the account's default, the
    # persona's picture would be a 404 on each of its later pages, and ten 404s within
    # three minutes ban the tests' one client address (the request filter's production rule).
    spark_server.manage("shell", "-c", FORGET_CAPTAIN_PIA)
