"""Errors where they happened, in a real browser: the message at its field, the field
aria-invalid and focused, the text kept, the page at its own address, so that the language
switch works after a validation error (it gave 405 at a /transition/ address); axe-core on
each, in Swedish and English.

Nothing here changes the shared demo: every form sent is refused.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.support import log_in, switch_to_english

PERSONNUMMER = "811228-9874"
REVIEWER, REVIEWED_AREA = "polis.sodermalm", "Södermalm"
DRAFTER = "skribent.rinkeby-kista"
SECTION = "1. Riktat arbete mot avgränsade platser och utsatta områden"


def open_contribution(page, live_server, area: str) -> str:
    title = f"Lägesbild {live_server.current_period} — {area}"
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return page.url


def assert_error_at(page, box, message: str) -> None:
    """The box is in error, described by a message that says `message`, and has the focus."""
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()
    described = box.get_attribute("aria-describedby").split()
    texts = [page.locator(f"#{element_id}").inner_text() for element_id in described]
    assert any(message in text for text in texts), texts


def test_a_personnummer_in_a_remark_is_at_its_box_and_the_language_switch_works(
        page, live_server, assert_accessible, screenshot):
    log_in(page, live_server.user(REVIEWER).email)
    address = open_contribution(page, live_server, REVIEWED_AREA)
    box = page.locator("textarea[name^='remark_section_']").last
    box.fill(f"Personen {PERSONNUMMER} nämns.")
    page.get_by_label("Allmän anmärkning").fill("Komplettera.")

    page.locator("#review-heading ~ button", has_text="Skicka tillbaka").click()

    expect(page).to_have_url(re.compile(re.escape(address) + "(#.*)?$"))
    assert_error_at(page, box, "ser ut som ett personnummer")
    expect(box).to_have_value(f"Personen {PERSONNUMMER} nämns.")
    expect(page.get_by_label("Allmän anmärkning")).to_have_value("Komplettera.")
    expect(page.locator("#error-summary")).to_contain_text("Ingenting ändrades")
    screenshot(page, "field-error-remark")
    assert_accessible(page)

    switch_to_english(page)  # was 405 "Method not allowed" at the /transition/ address

    expect(page.get_by_role("heading", level=1)).to_contain_text(REVIEWED_AREA)
    expect(page.get_by_role("heading", level=2, name="City-wide topics")).to_be_visible()
    expect(page.locator("[aria-invalid='true']")).to_have_count(0)  # shown once
    assert_accessible(page)


def test_a_missing_remark_in_english_is_at_the_general_remark(page, live_server,
                                                              assert_accessible):
    log_in(page, live_server.user(REVIEWER).email)
    switch_to_english(page)
    open_contribution(page, live_server, REVIEWED_AREA)

    page.locator("#review-heading ~ button", has_text="Return for changes").click()

    box = page.get_by_label("General remark")
    assert_error_at(page, box, "At least one remark is required.")
    expect(page.locator("#error-summary a[href='#remark-general']")).to_be_visible()
    assert_accessible(page)
    page.reload()
    expect(page.locator("#error-summary")).to_have_count(0)


def test_the_editor_keeps_the_text_at_its_own_address(page, live_server, assert_accessible,
                                                      screenshot):
    log_in(page, live_server.user(DRAFTER).email)
    open_contribution(page, live_server, "Järva")
    page.get_by_role("link", name=f"Redigera {SECTION}").click()
    editor = page.url
    box = page.get_by_label(f"Text för ”{SECTION}”")
    # A textarea drops a leading line break: an empty text gets no blank first line.
    original = box.input_value()
    typed = (original + "\n" if original else "") + f"Kontakt: {PERSONNUMMER}."
    box.fill(typed)

    page.get_by_role("button", name="Spara").click()

    expect(page).to_have_url(editor)
    assert_error_at(page, box, "Inget sparades")
    expect(box).to_have_value(typed)
    screenshot(page, "field-error-editor")
    assert_accessible(page)

    switch_to_english(page)
    expect(page.get_by_role("button", name="Save")).to_be_visible()
    assert_accessible(page)


def test_the_consolidation_page_opens_the_box_in_error(page, live_server, assert_accessible):
    log_in(page, live_server.user("samordnare").email)
    page.goto("/periods")
    period = page.get_by_role("link", name=f"Lägesbild {live_server.current_period}")
    consolidation = period.get_attribute("href") + "/consolidation"
    page.goto(consolidation)
    reason = page.locator("details.periods-reason").filter(has_text="Undanta…").first
    reason.locator("summary").click()
    box = reason.locator("textarea")
    box.fill(f"Gäller {PERSONNUMMER}.")

    reason.get_by_role("button").click()

    expect(page).to_have_url(re.compile(re.escape(consolidation) + "(#.*)?$"))
    expect(box).to_have_value(f"Gäller {PERSONNUMMER}.")  # the box, opened again
    assert_error_at(page, box, "personnummer")
    assert_accessible(page)
    switch_to_english(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("consolidation")
