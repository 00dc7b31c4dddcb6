"""A remark's thread in a real browser (issue 15, item 2): the drafter of the demo's returned
contribution follows the start page's count to the open remarks, answers the police's remark
(an empty answer is refused at its box first), and the police reviewer, in English, sees the
answer and marks the remark resolved; axe-core finds nothing on each page state.

Answering and resolving change the demo, so this module has a server of its own.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import TIMEOUT_MS, serve_demo
from tests.browser.support import log_in, switch_to_english

DRAFTER = "skribent.skarholmen"  # the demo's returned contribution is Skärholmen's
REVIEWER = "polis.skarholmen"
REMARK = "Beskriv vilka resultat insatserna har gett hittills."
ANSWER = "Resultaten från höstens insatser finns nu i texten."


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """The demo on a server of this module's own (see the module's docstring)."""
    yield from serve_demo(tmp_path_factory.mktemp("browser-threads"), "threads-live-server")


def remark_item(page):
    return page.locator("li.contrib-remark").filter(
        has=page.locator(".contrib-remark-text", has_text=REMARK))


def test_a_thread_answered_and_resolved(page, browser, live_server, assert_accessible,
                                        screenshot):
    # The drafter: from the start page's count to the list of open remarks.
    log_in(page, live_server.user(DRAFTER).email)
    page.get_by_role("link", name="1 öppen anmärkning").click()
    expect(page.get_by_role("heading", name="1 öppen anmärkning")).to_be_visible()
    listing = page.locator("#open-remarks")
    expect(listing).to_contain_text(REMARK)
    expect(listing).to_contain_text("inget svar ännu")
    assert_accessible(page)
    listing.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"#section-\d+$"))

    # An empty answer is refused at its box, which keeps focus and says why.
    thread = remark_item(page)
    thread.get_by_role("button", name="Skicka svaret").click()
    box = remark_item(page).get_by_label("Ditt svar på anmärkningen")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()
    expect(remark_item(page).locator(".contrib-thread-error")).to_have_text(
        "Skriv ett svar innan du skickar det.")
    assert_accessible(page)

    box.fill(ANSWER)
    remark_item(page).get_by_role("button", name="Skicka svaret").click()
    expect(page.get_by_role("status")).to_contain_text("Ditt svar har lagts till")
    expect(remark_item(page).locator(".contrib-reply-text")).to_have_text(ANSWER)
    expect(remark_item(page).locator(".contrib-remark-status")).to_have_text(
        "Öppen, besvarad")
    expect(page.locator("#open-remarks")).to_contain_text("besvarad")
    # The drafter did not write the remark: only its author may resolve it.
    expect(page.get_by_role("button", name="Markera anmärkningen som åtgärdad")).to_have_count(0)
    screenshot(page, "remark-thread-answered")
    assert_accessible(page)
    contribution_url = page.url.split("#")[0]

    # The police reviewer who wrote it, in English: sees the answer and resolves it.
    context = browser.new_context(base_url=live_server.url, locale="sv-SE",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    police = context.new_page()
    try:
        log_in(police, live_server.user(REVIEWER).email)
        switch_to_english(police)
        police.goto(contribution_url)
        expect(police.locator("#open-remarks")).to_contain_text("1 open remark")
        expect(remark_item(police).locator(".contrib-remark-status")).to_have_text(
            "Open, answered")
        expect(remark_item(police).locator(".contrib-reply-text")).to_have_text(ANSWER)
        assert_accessible(police)

        remark_item(police).get_by_role("button", name="Mark the remark resolved").click()

        expect(police.get_by_role("status")).to_contain_text("The remark is marked resolved.")
        expect(remark_item(police).locator(".contrib-remark-status")).to_contain_text(
            "Resolved by")
        expect(police.locator("#open-remarks")).to_have_count(0)
        expect(remark_item(police).get_by_role("button")).to_have_count(0)
        screenshot(police, "remark-thread-resolved")
        assert_accessible(police)
    finally:
        context.close()

    # Back in Swedish, the drafter's page says the same.
    page.goto(contribution_url)
    expect(remark_item(page).locator(".contrib-remark-status")).to_contain_text(
        "Markerad som åtgärdad av")
    expect(page.locator("#open-remarks")).to_have_count(0)
    assert_accessible(page)
