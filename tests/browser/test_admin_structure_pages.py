"""The administrator's topics and periods pages in a real browser: no axe-core violations on
any of them in Swedish or English (a refused form included), reflow at 320 px, and a period
opened from the browser with carry-forward.

These tests change the demo's structure (a topic retired, a period opened), so they run on a
server of their own (this module's `live_server`), never the one the other browser tests share.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import serve_demo
from tests.browser.support import log_in, switch_to_english

ADMIN = "admin"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The demo on a server of this module's own (see the module's docstring)."""
    yield from serve_demo(tmp_path_factory.mktemp("browser-admin"), "admin-live-server")


def first_link(page, path: str, pattern: str) -> str:
    page.goto(path)
    return page.locator(f"a[href*='{pattern}']").first.get_attribute("href")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_admin_structure_page_is_accessible(page, live_server, assert_accessible,
                                                  screenshot, language):
    log_in(page, live_server.user(ADMIN).email)
    if language == "en":
        switch_to_english(page)
    expect(page.get_by_role("link", name=re.compile(
        "Prioriterade områden och perioder|Topics and periods"))).to_be_visible()
    rename = first_link(page, "/admin/topics", "/rename")
    retire = first_link(page, "/admin/topics", "/retire")
    deadlines = first_link(page, "/admin/periods", "/deadlines")
    pages = {"topics": "/admin/topics", "rename": rename, "retire": retire,
             "periods": "/admin/periods", "open-period": "/admin/periods/new",
             "deadlines": deadlines}
    for name, path in pages.items():
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        screenshot(page, f"admin-{name}-{language}")
        assert_accessible(page)

    # A refused form: the message by its field, still accessible, what was typed kept.
    page.goto("/admin/periods/new")
    page.locator("#field-name").fill("felaktig period")
    for field, day in (("drafting_deadline", "2031-02-10"), ("review_deadline", "2031-02-01"),
                       ("consolidation_deadline", "2031-02-24"),
                       ("approval_deadline", "2031-02-28")):
        page.locator(f"#field-{field}").fill(day)
    page.locator("form.adm-form button[type=submit]").click()
    review = page.locator("#field-review_deadline")
    expect(review).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-review_deadline-error")).to_be_visible()
    expect(page.locator("#field-name")).to_have_value("felaktig period")
    screenshot(page, f"admin-open-period-error-{language}")
    assert_accessible(page)

    page.goto(rename)
    # Submitted as it stands, the topic's own title: refused, nothing to change.
    page.locator("form.adm-form button[type=submit]").click()
    expect(page.locator("#field-title")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


def test_the_pages_reflow_at_320_pixels(page, live_server):
    log_in(page, live_server.user(ADMIN).email)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/admin/topics", "/admin/periods", "/admin/periods/new"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)


def test_an_admin_opens_a_period_with_carry_forward_and_retires_a_topic(page, live_server,
                                                                        assert_accessible):
    log_in(page, live_server.user(ADMIN).email)
    page.goto("/admin/topics")
    page.locator("a[href$='/retire']").last.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ur bruk?")
    page.get_by_role("button", name="Ta det prioriterade området ur bruk").click()
    expect(page.locator(".flash-success")).to_contain_text("borttaget ur bruk")
    assert_accessible(page)

    page.locator(".adm-subnav").get_by_role("link", name="Perioder").click()
    page.get_by_role("link", name="Öppna en period").click()
    page.get_by_label("Periodens namn").fill("mars 2027")
    page.get_by_label("Sista dag för skrivandet").fill("2027-03-10")
    page.get_by_label("Sista dag för granskningen").fill("2027-03-17")
    page.get_by_label("Sista dag för sammanställningen").fill("2027-03-24")
    page.get_by_label("Sista dag för fastställelsen").fill("2027-03-26")
    page.get_by_label("Låt varje områdes utkast börja med dess senast fastställda texter").check()
    page.get_by_role("button", name="Öppna perioden").click()
    expect(page.locator(".flash-success")).to_contain_text("mars 2027 är öppnad")
    expect(page.locator(".flash-info")).to_contain_text("Senast fastställda texter överförda")
    expect(page.locator("tbody tr").first).to_contain_text("mars 2027")
    assert_accessible(page)
