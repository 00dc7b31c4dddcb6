"""The contribution pages in a real browser: reading, editing and saving a section, the
conflict page with two people editing one section, the history; axe-core on each, in Swedish
and English.

These tests share the demo server with the other browser tests, so each one puts back any
text it changed (Järva's city-wide texts stay filled and its local topics stay empty).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.demo.loader import DEMO_PASSWORD
from tests.browser.conftest import TIMEOUT_MS

DRAFTER = "skribent.rinkeby-kista"
OTHER_DRAFTER = "skribent.spanga-tensta"
SECTION = "1. Riktat arbete mot avgränsade platser och utsatta områden"


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina uppgifter")


def to_english(page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def open_jarva(page, live_server) -> None:
    title = f"Lägesbild {live_server.current_period} — Järva"
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def open_editor(page) -> None:
    page.get_by_role("link", name=f"Redigera {SECTION}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Redigera ”{SECTION}”")


def section_box(page):
    return page.get_by_label(f"Text för ”{SECTION}”")


def put_back(page, text: str) -> None:
    """Save `text` in the open editor again, leaving the demo as it was."""
    open_editor(page)
    section_box(page).fill(text)
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("sparades")


def test_drafter_reads_edits_and_saves_a_section(page, live_server, screenshot,
                                                 assert_accessible):
    log_in(page, live_server.user(DRAFTER).email)
    open_jarva(page, live_server)
    expect(page.locator(".contrib-state .state")).to_have_text("Utkast")
    # The local topics are still empty: the page says which, and offers no submit button.
    expect(page.locator("#empty-sections li")).to_have_count(4)
    expect(page.get_by_role("button", name="Skicka till polisen")).to_have_count(0)
    screenshot(page, "contribution-draft")
    assert_accessible(page)

    # The demo's cross-reference is a link shown beside the text, not a sentence in it.
    expect(page.locator(".contrib-handled-in").first).to_contain_text("Hanteras inom")
    open_editor(page)
    original = section_box(page).input_value()
    assert "Arbetet hanteras" not in original
    screenshot(page, "contribution-editor")
    assert_accessible(page)
    section_box(page).fill(original + "\n- Trygghetsvandring i Tensta i mars.")
    page.get_by_role("button", name="Spara").click()

    expect(page.get_by_role("status")).to_have_text(f"Texten för ”{SECTION}” sparades.")
    section = page.locator("section.contrib-section").filter(
        has=page.get_by_role("heading", name=SECTION))
    expect(section.locator("li")).to_have_text(["Trygghetsvandring i Tensta i mars."])
    expect(page).to_have_url(re.compile(r"/contributions/\d+#section-\d+$"))

    put_back(page, original)


def test_leaving_the_editor_with_unsaved_changes_asks_first(page, live_server):
    log_in(page, live_server.user(DRAFTER).email)
    open_jarva(page, live_server)
    open_editor(page)
    section_box(page).press("End")
    section_box(page).type(" ändrat")
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="Avbryt").click()
    page.wait_for_timeout(300)

    assert dialogs == ["beforeunload"]
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Redigera ”{SECTION}”")


def test_two_drafters_edit_one_section_and_nothing_typed_is_lost(browser, live_server,
                                                                  screenshot,
                                                                  assert_accessible):
    contexts = [browser.new_context(base_url=live_server.url, locale="sv-SE",
                                    viewport={"width": 1280, "height": 900}) for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        for page in (first, second):
            page.set_default_timeout(TIMEOUT_MS)
        log_in(first, live_server.user(DRAFTER).email)
        log_in(second, live_server.user(OTHER_DRAFTER).email)
        for page in (first, second):
            open_jarva(page, live_server)
            open_editor(page)
        original = section_box(first).input_value()

        # A textarea drops a leading line break: an empty text gets no blank first line.
        lead = original + "\n" if original else ""
        section_box(first).fill(lead + "- Från Rinkeby-Kista.")
        first.get_by_role("button", name="Spara").click()
        expect(first.get_by_role("status")).to_contain_text("sparades")

        mine = lead + "- Från Spånga-Tensta."
        section_box(second).fill(mine)
        second.get_by_role("button", name="Spara").click()

        expect(second.get_by_role("heading", level=1)).to_have_text(
            "Någon annan har sparat texten")
        expect(second.locator("#saved-text")).to_contain_text("Från Rinkeby-Kista.")
        expect(second.locator(".contrib-diff ins")).to_have_text(
            "Tillagt: Spånga-Tensta. (slut på tillägg)")
        expect(second.locator(".contrib-diff del")).to_have_text(
            "Borttaget: Rinkeby-Kista. (slut på borttagning)")
        box = second.get_by_label(f"Din text för ”{SECTION}”")
        expect(box).to_have_value(mine)
        screenshot(second, "contribution-conflict")
        assert_accessible(second)

        box.fill(lead + "- Från Rinkeby-Kista.\n- Från Spånga-Tensta.")
        second.once("dialog", lambda dialog: dialog.accept())  # leaving by saving is fine
        second.get_by_role("button", name="Spara min text").click()
        expect(second.get_by_role("status")).to_contain_text("sparades")
        section = second.locator("section.contrib-section").filter(
            has=second.get_by_role("heading", name=SECTION))
        expect(section.locator("li")).to_have_text(["Från Rinkeby-Kista.",
                                                    "Från Spånga-Tensta."])

        put_back(second, original)
    finally:
        for context in contexts:
            context.close()


def test_history_tab(page, live_server, screenshot, assert_accessible):
    log_in(page, live_server.user(DRAFTER).email)
    open_jarva(page, live_server)
    page.get_by_role("link", name="Historik").click()

    expect(page.get_by_role("heading", level=2, name="Historik")).to_be_visible()
    events = page.locator("li.contrib-event")
    edits = events.filter(has_text="Text ändrad")
    expect(edits.first).to_contain_text("Rinkeby-Kista stadsdelsförvaltning")
    screenshot(page, "contribution-history")
    assert_accessible(page)


@pytest.mark.parametrize("user,area", [("polis.sodermalm", "Södermalm"),
                                       ("skribent.skarholmen", "Skärholmen"),
                                       ("samordnare", "Farsta")])
def test_pages_of_other_states_are_accessible(page, live_server, assert_accessible, screenshot,
                                             user, area):
    """The reviewer's return form, a returned contribution's remarks, the coordinator's
    reopen and exclude forms."""
    log_in(page, live_server.user(user).email)
    page.get_by_role("link", name=f"Lägesbild {live_server.current_period} — {area}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(area)
    screenshot(page, f"contribution-{user.split('.')[0]}")
    assert_accessible(page)


@pytest.mark.parametrize("where", ["contribution", "editor", "history", "conflict"])
def test_pages_in_english_are_accessible(page, live_server, assert_accessible, screenshot,
                                         where):
    log_in(page, live_server.user(DRAFTER).email)
    to_english(page)
    page.get_by_role("link", name=f"Lägesbild {live_server.current_period} — Järva").click()
    expect(page.get_by_role("heading", level=2, name="City-wide topics")).to_be_visible()
    if where == "editor":
        page.get_by_role("link", name=f"Edit {SECTION}").click()
        expect(page.get_by_role("button", name="Save")).to_be_visible()
    elif where == "history":
        page.get_by_role("link", name="History").click()
        expect(page.get_by_role("heading", level=2, name="History")).to_be_visible()
    elif where == "conflict":
        page.get_by_role("link", name=f"Edit {SECTION}").click()
        box = page.get_by_label(f"Text for “{SECTION}”")
        original = box.input_value()
        # Post with an old version, as a second person would after someone else saved.
        page.locator("input[name=expected_version]").evaluate("e => e.value = '0'")
        box.fill(original + " (en)")
        page.get_by_role("button", name="Save").click()
        # Who saved it last depends on the tests run before on the shared demo: someone else,
        # or this drafter (tests/contributions/test_editor.py tells the two apart exactly).
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile("^(Someone else saved this text|You saved this text elsewhere)$"))
        screenshot(page, "contribution-conflict-en")
    assert_accessible(page)
