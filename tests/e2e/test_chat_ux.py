"""The chat's everyday features in a real browser: a message refused for lack of funds
stays "Not sent" and is resent once funded; code blocks and answers copied; the keyboard;
pinned and archived conversations; feedback on answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, LiveServer, screenshot_path, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1360, "height": 860}
ANSWER_DONE = ".msg-assistant:not(.is-streaming) .msg-usage"

# A user of the public tenant of its own (the demo accounts' state is shared by the tests),
# with an empty wallet (the demo accounts hold a credit).
MAKE_USER = """
from accounts import services
from accounts.models import Tenant
services.user_create(
    email="EMAIL", password="PASSWORD", tenant=Tenant.objects.get(kind=Tenant.Kind.PUBLIC),
    display_name="Nell Newcomer", email_verified=True,
)
"""

# What the database holds for a user: conversations, and every user message (superseded too).
WRITTEN = """
import json
from chat.models import Conversation, Message
from spark.tenancy.context import unscoped
with unscoped():
    mine = Conversation.objects.filter(user__email="EMAIL")
    conversations = [str(uuid) for uuid in mine.values_list("uuid", flat=True)]
    said = Message.objects.filter(conversation__in=mine, role="user")
    users = list(said.values_list("content", flat=True))
print(json.dumps({"conversations": conversations, "user_messages": users}))
"""


def make_user(server: LiveServer, email: str) -> None:
    script = MAKE_USER.replace("EMAIL", email).replace("PASSWORD", DEMO_PASSWORD)
    server.manage("shell", "-c", script)


def written(server: LiveServer, email: str) -> dict[str, Any]:
    output = server.manage("shell", "-c", WRITTEN.replace("EMAIL", email))
    return dict(json.loads(output.strip().splitlines()[-1]))


async def open_page(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(viewport=DESKTOP, **options)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


async def test_a_message_refused_for_lack_of_funds_is_not_sent_and_resent_once_funded(
    browser: Any, spark_server: LiveServer
) -> None:
    email = "nell@spark.local"
    make_user(spark_server, email)
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, email, "/chat/new/")

    # An empty wallet, the priced model: the first message of a new chat is refused
    await page.select_option("[data-model]", "demo-plus")
    await expect(page.locator("[data-funds-notice]")).to_be_visible()
    await page.fill("[data-composer-input]", "Tell me about tides")
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    unsent = page.locator(".msg-user.is-unsent")
    await expect(unsent).to_have_count(1, timeout=15000)
    await expect(unsent.locator(".msg-content")).to_have_text("Tell me about tides")
    await expect(unsent.locator(".status-unsent")).to_have_text("Not sent")
    await expect(unsent.locator(".msg-error [data-funds-link]")).to_have_attribute(
        "href", "/billing/wallet/"
    )
    await expect(page.locator(".msg-assistant:visible")).to_have_count(0)
    await page.screenshot(path=screenshot_path("chat-not-sent"))

    # Still "Not sent" after a reload (the page came back from the wallet, say)
    await page.reload()
    await expect(page.locator(".msg-user.is-unsent [data-resend]")).to_be_visible()
    assert len(written(spark_server, email)["conversations"]) == 1

    # Topped up, Resend answers that message: one message, one conversation
    spark_server.manage(
        "wallet_grant", "--email", email, "--amount-usd", "1", "--reason", "browser test"
    )
    await page.click(".msg-user.is-unsent [data-resend]")
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    await expect(page.locator(".msg-user.is-unsent")).to_have_count(0)
    await expect(page.locator(".msg-user")).to_have_count(1)
    await expect(page.locator(".msg-assistant .msg-content")).to_contain_text("You said")
    db = written(spark_server, email)
    assert db["user_messages"] == ["Tell me about tides"]
    assert len(db["conversations"]) == 1
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert db["conversations"] == [conversation_id]
    messages = await page.evaluate(
        "async (id) => (await fetch(`/api/v1/conversations/${id}/messages/`)).json()",
        conversation_id,
    )
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"),
        ("assistant", "complete"),
    ]
    assert errors == []
    await context.close()


async def new_chat(page: Any, server: LiveServer, text: str) -> str:
    """Start a chat without a prompt (the free demo model) by typing; wait for the answer."""
    await page.goto(f"{server.url}/chat/new/")
    await page.fill("[data-composer-input]", text)
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    return page.url.rstrip("/").rsplit("/", 1)[1]


async def clipboard(page: Any) -> str:
    return str(await page.evaluate("navigator.clipboard.readText()"))


async def test_code_blocks_are_highlighted_and_copied_and_an_answer_copies_as_markdown(
    browser: Any, spark_server: LiveServer
) -> None:
    make_user(spark_server, "cody@spark.local")
    context, page, errors = await open_page(
        browser, permissions=["clipboard-read", "clipboard-write"]
    )
    await sign_in(page, spark_server, "cody@spark.local", "/chat/")
    conversation_id = await new_chat(page, spark_server, "Show me some code")
    answer = page.locator(".msg-assistant").last
    stored = await page.evaluate(
        "async (id) => (await fetch(`/api/v1/conversations/${id}/messages/`)).json()",
        conversation_id,
    )
    markdown = stored[-1]["content"]
    code = re.search(r"```python\n(.*?)\n```", markdown, re.S)
    assert code is not None

    # Highlighted by highlight.js, labelled with its language, a copy button in its header
    block = answer.locator(".code-block")
    await expect(block).to_have_count(1)
    await expect(block.locator(".code-lang")).to_have_text("python")
    await expect(
        block.locator("code.hljs .hljs-built_in, code.hljs .hljs-string").first
    ).to_be_visible()
    await page.screenshot(path=screenshot_path("chat-code-block"))

    # The code block's Copy copies the code as written
    await block.locator("[data-copy-code]").click()
    await expect(block.locator("[data-copy-code]")).to_have_text("Copied")
    assert await clipboard(page) == code.group(1)

    # "Copy as Markdown" copies the answer's Markdown source
    await answer.locator(".msg-actions button[aria-label='Copy as Markdown']").click()
    await expect(page.locator("[data-chat-notice]")).to_contain_text("Copied")
    assert await clipboard(page) == markdown

    # "Copy" copies the text as read: no Markdown marks, no button labels
    await answer.locator(".msg-actions button[aria-label='Copy']").click()
    shown = await clipboard(page)
    assert "You said" in shown
    assert "```" not in shown and "**" not in shown and "| characters |" not in shown
    assert code.group(1) in shown
    assert "Copied" not in shown and "\npython\n" not in shown
    assert errors == []
    await context.close()


async def test_the_keyboard_sends_breaks_lines_stops_edits_searches_and_lists_shortcuts(
    browser: Any, spark_server: LiveServer
) -> None:
    make_user(spark_server, "kit@spark.local")
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "kit@spark.local", "/chat/")
    composer = page.locator("[data-composer-input]")

    # Enter sends (the new chat's first message), Shift+Enter breaks the line
    conversation_id = await new_chat(page, spark_server, "First question")
    await composer.click()
    await page.keyboard.type("line one")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("line two")
    await expect(composer).to_have_value("line one\nline two")
    await expect(page.locator(".msg-user")).to_have_count(1)
    await composer.fill("")

    # ↑ in the empty composer edits the last message; Enter sends the edit
    await composer.press("ArrowUp")
    edit = page.locator(".msg-edit-input")
    await expect(edit).to_be_focused()
    await expect(edit).to_have_value("First question")
    await edit.fill("First question, edited")
    await edit.press("Enter")
    await expect(page.locator(".msg-user .msg-content")).to_have_text("First question, edited")
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)

    # Esc stops an answer being written, wherever the focus is
    await composer.fill("Tell me a long story")
    await composer.press("Enter")
    await expect(page.locator(".msg-assistant.is-streaming .msg-content")).to_contain_text(
        "Demo model", timeout=15000
    )
    await page.locator("[data-chat-log]").click(position={"x": 5, "y": 5})
    await page.keyboard.press("Escape")
    stopped = page.locator(".msg-assistant").last.locator(".msg-status")
    await expect(stopped).to_have_text("Stopped", timeout=15000)
    messages = await page.evaluate(
        "async (id) => (await fetch(`/api/v1/conversations/${id}/messages/`)).json()",
        conversation_id,
    )
    assert [m["status"] for m in messages][-1] == "cancelled"
    assert [m["content"] for m in messages if m["role"] == "user"] == [
        "First question, edited",
        "Tell me a long story",
    ]

    # ? opens the shortcuts sheet (not while typing); Esc closes it
    await composer.fill("")
    await composer.type("?")
    await expect(page.locator("[data-shortcuts]")).to_have_count(0)
    await composer.fill("")
    await page.locator("[data-chat-log]").click(position={"x": 5, "y": 5})
    await page.keyboard.press("?")
    sheet = page.locator("dialog[open] [data-shortcuts]")
    await expect(sheet).to_be_visible()
    for what in ("Send the message", "New line", "Stop the answer being written", "New chat"):
        await expect(sheet).to_contain_text(what)
    await expect(sheet.locator(".shortcut-row")).to_have_count(7)
    await page.screenshot(path=screenshot_path("chat-shortcuts"))
    await page.keyboard.press("Escape")
    await expect(page.locator("dialog[open]")).to_have_count(0)
    await page.click("[data-shortcuts-open]")
    await expect(sheet).to_be_visible()
    await page.keyboard.press("Escape")

    # Ctrl+K opens the search (from the composer too); Ctrl+Shift+O starts a new chat
    await composer.click()
    await page.keyboard.press("Control+k")
    await expect(page.locator("[data-search]")).to_be_focused()
    await page.keyboard.type("edited")
    await expect(page.locator("[data-search-results] a").first).to_be_visible()
    await page.keyboard.press("Control+Shift+O")
    await page.wait_for_url(re.compile(r"/chat/new/$"))
    assert errors == []
    await context.close()


# Three conversations of a user, the oldest activity first, each with one exchange.
THREE_CONVERSATIONS = """
import json
from datetime import timedelta
from django.utils import timezone
from accounts import tenancy
from accounts.models import User
from chat import services
from chat.models import Conversation, Message
from spark.tenancy.context import tenant_scope

user = User.objects.get(email="EMAIL")
tenant = tenancy.home_tenant(user)
made = {}
with tenant_scope(tenant):
    for age, (title, words) in enumerate(
        [("Newest chat", "pelicans"), ("Middle chat", "walrus tusks"), ("Old chat", "otters")]
    ):
        conversation = services.conversation_create(user=user, tenant=tenant, title=title)
        Message.objects.create(tenant=tenant, conversation=conversation, role="user", content=words)
        Message.objects.create(
            tenant=tenant, conversation=conversation, role="assistant", content=f"About {words}."
        )
        Conversation.objects.filter(pk=conversation.pk).update(
            last_activity_at=timezone.now() - timedelta(hours=age + 1)
        )
        made[title] = str(conversation.uuid)
print(json.dumps(made))
"""


async def sidebar_titles(page: Any, section: str) -> list[str]:
    rows = page.locator(f"{section} .conversation-row .row-title")
    return [text.strip() for text in await rows.all_inner_texts()]


async def row_action(page: Any, conversation_id: str, action: str) -> None:
    row = page.locator(f"[data-tree] li[data-conversation-id='{conversation_id}']")
    await row.locator(".row-wrap").first.hover()
    await row.locator(".menu-button").first.click()
    await row.locator(f".menu [role=menuitem]:text-is('{action}')").first.click()


async def test_pinned_conversations_head_the_sidebar_and_archived_ones_leave_it(
    browser: Any, spark_server: LiveServer
) -> None:
    email = "pia@spark.local"
    make_user(spark_server, email)
    output = spark_server.manage("shell", "-c", THREE_CONVERSATIONS.replace("EMAIL", email))
    made = json.loads(output.strip().splitlines()[-1])
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, email, f"/chat/{made['Newest chat']}/")
    recent = "[data-tree] .top-level"
    assert await sidebar_titles(page, recent) == ["Newest chat", "Middle chat", "Old chat"]

    # Pin the oldest: it heads the sidebar under "Pinned", and stays there after a reload
    await row_action(page, made["Old chat"], "Pin")
    await expect(page.locator("[data-pinned] .row-title")).to_have_text(["Old chat"])
    assert await sidebar_titles(page, recent) == ["Newest chat", "Middle chat"]
    await page.reload()
    await expect(page.locator("[data-pinned] .row-title")).to_have_text(["Old chat"])
    await expect(page.locator("[data-pinned] .row-pin")).to_have_count(1)

    # Archive the middle one: it leaves the sidebar
    await row_action(page, made["Middle chat"], "Archive")
    await expect(
        page.locator(f"[data-tree] [data-conversation-id='{made['Middle chat']}']")
    ).to_have_count(0)
    assert await sidebar_titles(page, recent) == ["Newest chat"]
    await page.screenshot(path=screenshot_path("chat-pinned"))

    # Search still finds it; it opens, saying it is archived
    await page.fill("[data-search]", "walrus")
    hit = page.locator("[data-search-results] .search-hit")
    await expect(hit.locator(".hit-title")).to_have_text(["Middle chat", "Middle chat"])
    await hit.first.click()
    await page.wait_for_url(re.compile(made["Middle chat"]))
    banner = page.locator("[data-archived-banner]")
    await expect(banner).to_contain_text("This conversation is archived")
    await expect(page.locator(".msg-assistant .msg-content")).to_have_text("About walrus tusks.")
    await expect(
        page.locator(f"[data-tree] [data-conversation-id='{made['Middle chat']}']")
    ).to_have_count(0)

    # The archived list brings it back
    await page.click("[data-archived-open]")
    archived = page.locator("dialog[open] [data-archived-list] .archived-item")
    await expect(archived).to_have_count(1)
    await expect(archived.locator("a")).to_have_text("Middle chat")
    await page.screenshot(path=screenshot_path("chat-archived"))
    await archived.locator("[data-unarchive]").click()
    await expect(page.locator("dialog[open] [data-archived-list]")).to_contain_text(
        "Nothing is archived."
    )
    await page.keyboard.press("Escape")
    await expect(banner).to_have_count(0)
    assert await sidebar_titles(page, recent) == ["Newest chat", "Middle chat"]
    listed = await page.evaluate(
        "async () => (await fetch('/api/v1/conversations/?archived=true')).json()"
    )
    assert listed["results"] == []
    assert errors == []
    await context.close()


async def test_an_answer_is_rated_with_a_reason_and_its_creator_and_staff_see_it(
    browser: Any, spark_server: LiveServer
) -> None:
    make_user(spark_server, "fern@spark.local")
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "fern@spark.local", "/chat/new/?prompt=writing-coach")
    await page.locator("[data-starter]").first.click()
    await page.wait_for_url(re.compile(r"/chat/[0-9a-f-]{36}/$"))
    conversation_id = page.url.rstrip("/").rsplit("/", 1)[1]
    await expect(page.locator(ANSWER_DONE)).to_be_visible(timeout=30000)
    answer = page.locator(".msg-assistant").last
    up = answer.locator("[data-rate=up]")
    down = answer.locator("[data-rate=down]")
    await expect(up).to_have_attribute("aria-pressed", "false")

    # Thumbs down, with a reason
    await down.click()
    await expect(down).to_have_attribute("aria-pressed", "true")
    reason = answer.locator("[data-feedback-form] textarea")
    await expect(reason).to_be_focused()
    await reason.fill("It ignored my tone.")
    await page.screenshot(path=screenshot_path("chat-feedback"))
    await answer.locator("[data-feedback-form] button[type=submit]").click()
    await expect(page.locator("[data-chat-notice]")).to_contain_text("Thank you")
    await expect(answer.locator("[data-feedback-form]")).to_have_count(0)

    async def stored() -> Any:
        rows = await page.evaluate(
            "async (id) => (await fetch(`/api/v1/conversations/${id}/messages/`)).json()",
            conversation_id,
        )
        return rows[-1]["feedback"]

    assert (await stored())["rating"] == "down"
    assert (await stored())["reason"] == "It ignored my tone."

    # Kept after a reload; the other thumb changes it, the same thumb again takes it back
    await page.reload()
    await expect(down).to_have_attribute("aria-pressed", "true")
    await up.click()
    await expect(up).to_have_attribute("aria-pressed", "true")
    await expect(down).to_have_attribute("aria-pressed", "false")
    await answer.locator("[data-feedback-form] button:text-is('Skip')").click()
    await up.click()
    await expect(up).to_have_attribute("aria-pressed", "false")
    assert await stored() is None
    await down.click()
    await answer.locator("[data-feedback-form] textarea").fill("Too long.")
    await answer.locator("[data-feedback-form] textarea").press("Enter")
    await expect(answer.locator("[data-feedback-form]")).to_have_count(0)
    assert (await stored())["reason"] == "Too long."
    prompt = await page.evaluate(
        "async () => (await fetch('/api/v1/prompts/writing-coach/')).json()"
    )
    assert errors == []
    await context.close()

    # The prompt's creator sees the count on its statistics, not the reason
    context, page, errors = await open_page(browser)
    await sign_in(
        page, spark_server, "creator@spark.local", f"/creator/prompts/{prompt['id']}/stats/"
    )
    ratings = page.locator("[data-feedback-stats]")
    await expect(ratings.locator("[data-total=down]")).to_have_text("1")
    await expect(ratings.locator("[data-total=up]")).to_have_text("0")
    await expect(page.locator("body")).not_to_contain_text("Too long.")
    await page.screenshot(path=screenshot_path("prompt-stats-feedback"), full_page=True)
    await context.close()

    # Staff read it in the admin, with its reason
    context, page, errors = await open_page(browser)
    await sign_in(page, spark_server, "admin@spark.local", "/admin/chat/messagefeedback/")
    await expect(page.locator("#result_list")).to_contain_text("Too long.")
    await expect(page.locator("#changelist-filter")).to_contain_text("Bad answer (1)")
    await context.close()
