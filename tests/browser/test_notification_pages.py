"""The notification pages in a real browser on the demo data: a user chooses the daily
digest and switches reminders off from her own menu; the administrator reads the outbox;
axe-core finds no violations on either page, in Swedish and English, and the outbox reflows
at 320 px wide (nothing to scroll sideways)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import log_in, switch_to_english

ADMIN = "admin"
DRAFTER = "skribent.rinkeby-kista"


def wider_than_the_window(page) -> list[str]:
    """The elements that reach past the window's right edge (none, when the page reflows)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName.toLowerCase() + '.' + e.className)""")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_user_chooses_the_digest_and_switches_reminders_off(page, live_server,
                                                              assert_accessible, screenshot,
                                                              language):
    log_in(page, live_server.user(DRAFTER).email)
    if language == "en":
        switch_to_english(page)
    names = {"sv": ("Ditt konto", "Aviseringar", "Ett meddelande om dagen",
                    "Påminn mig", "Spara", "Dina val för aviseringar är sparade."),
             "en": ("Your account", "Notifications", "One message a day", "Remind me",
                    "Save", "Your notification preferences are saved.")}[language]
    menu, title, digest, reminders, save, saved = names
    page.get_by_role("navigation", name=menu).get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert_accessible(page)
    page.get_by_label(digest).check()
    page.get_by_label(reminders).uncheck()
    page.get_by_role("button", name=save).click()
    expect(page.get_by_role("status")).to_have_text(saved)
    expect(page.get_by_label(digest)).to_be_checked()
    expect(page.get_by_label(reminders)).not_to_be_checked()
    assert_accessible(page)
    screenshot(page, f"notification-preferences-{language}")
    page.set_viewport_size({"width": 320, "height": 640})
    assert wider_than_the_window(page) == []
    # Back as it was, for the other tests on the same demo data.
    page.get_by_label(reminders).check()
    page.get_by_role("radio").first.check()
    page.get_by_role("button", name=save).click()
    expect(page.get_by_role("status")).to_have_text(saved)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_admin_reads_the_outbox(page, live_server, assert_accessible, screenshot,
                                    language):
    log_in(page, live_server.user(ADMIN).email)
    if language == "en":
        switch_to_english(page)
    title, caption = {"sv": ("Utkorg", "Meddelanden, nyaste först"),
                      "en": ("Outbox", "Messages, newest first")}[language]
    page.get_by_role("navigation", name="Huvudmeny" if language == "sv" else "Main menu") \
        .get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    table = page.get_by_role("table", name=caption)
    expect(table).to_be_visible()
    assert table.get_by_role("row").count() > 1  # the demo's handoffs are queued
    assert_accessible(page)
    screenshot(page, f"notification-outbox-{language}")
    page.set_viewport_size({"width": 320, "height": 640})
    assert wider_than_the_window(page) == []
    assert_accessible(page)
    screenshot(page, f"notification-outbox-320-{language}")


def test_the_outbox_is_not_for_others(page, live_server):
    log_in(page, live_server.user(DRAFTER).email)
    expect(page.get_by_role("link", name="Utkorg")).to_have_count(0)
    response = page.goto("/admin/outbox")
    assert response.status == 403
