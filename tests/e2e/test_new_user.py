"""What a new user trips on, in a real browser: every page fits a phone, a tablet and a
laptop without sideways scrolling, as each demo role; the phone drawer closes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import LiveServer, screenshot_path, sign_in

pytestmark = pytest.mark.browser

WIDTHS = (360, 768, 1280)
EVERYONE = [
    "/chat/",
    "/chat/new/?prompt=writing-coach",
    "/prompts/",
    "/creator/prompts/",
    "/creator/prompts/new/",
    "/my-usage",
    "/settings/",
    "/settings/api-keys/",
    "/settings/provider-keys/",
    "/settings/alter-egos/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/sessions/",
]
ROLES = {
    "user@spark.local": [*EVERYONE, "/billing/wallet/"],
    "manager@acme.example": [*EVERYONE, "/billing/team/"],
    "creator@spark.local": [*EVERYONE, "/billing/earnings/", "/billing/wallet/"],
    "admin@spark.local": [*EVERYONE, "/billing/platform/", "/billing/wallet/"],
}
VISITOR = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


async def _overflowing(page: Any, server: LiveServer, paths: list[str]) -> list[str]:
    wide = []
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 800})
        for path in paths:
            response = await page.goto(f"{server.url}{path}")
            assert response.status == 200, path
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            if scroll > width:
                wide.append(f"{path} at {width}px: {scroll}px")
    return wide


@pytest.mark.parametrize("email", list(ROLES))
async def test_every_page_fits_phone_tablet_and_laptop_as_each_role(
    browser: Any, spark_server: LiveServer, email: str
) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await sign_in(page, spark_server, email, "/settings/")
    assert await _overflowing(page, spark_server, ROLES[email]) == []
    await context.close()


async def test_every_visitor_page_fits(browser: Any, spark_server: LiveServer) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": 800})
    page = await context.new_page()
    assert await _overflowing(page, spark_server, VISITOR) == []
    await context.close()


async def test_the_phone_menu_opens_and_closes_by_esc_the_close_button_and_a_tap_outside(
    browser: Any, spark_server: LiveServer
) -> None:
    context = await browser.new_context(viewport={"width": 360, "height": 760})
    page = await context.new_page()
    await sign_in(page, spark_server, "manager@acme.example", "/settings/")
    bar = page.locator(".topbar")
    assert await page.locator("[data-back-to-chat]").is_visible()
    for close in ("Escape", "[data-nav-close]", "scrim"):
        await page.click("[data-nav-toggle]")
        assert await page.locator("[data-nav='team_billing']").is_visible()
        if close == "Escape":
            await page.keyboard.press("Escape")
        elif close == "scrim":
            await page.mouse.click(10, 400)
        else:
            await page.click(close)
        assert "nav-open" not in (await bar.get_attribute("class") or "")
    await page.click("[data-nav-toggle]")
    await page.screenshot(path=screenshot_path("nav-drawer-phone"))
    await context.close()
