"""Signing in and out in a real browser, by mouse and by keyboard, with axe-core checks."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.demo.loader import DEMO_PASSWORD

DRAFTER = "skribent.rinkeby-kista"


def url(live_server, path: str) -> re.Pattern:
    return re.compile("^" + re.escape(live_server.url + path) + "$")


def focused(page) -> dict:
    """What has the keyboard focus: tag, id, class and text."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
                text: (el.textContent || '').trim(), href: el.getAttribute('href')};
    }""")


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()


def test_drafter_logs_in_sees_their_contribution_and_logs_out(page, live_server, screenshot):
    drafter = live_server.user(DRAFTER)

    page.goto("/")
    expect(page).to_have_url(url(live_server, "/login?next=%2F"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    expect(page.get_by_role("status")).to_contain_text("Logga in för att se sidan.")
    screenshot(page, "login")

    page.get_by_label("E-postadress").fill(drafter.email)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()

    expect(page).to_have_url(url(live_server, "/"))
    expect(page).to_have_title("Mina uppgifter – Lägesbild")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina uppgifter")
    expect(page.get_by_role("status")).to_contain_text(f"Välkommen, {drafter.name}.")
    header = page.get_by_role("banner")
    expect(header.locator(".user-name")).to_have_text(drafter.name)
    expect(header.locator(".user-org")).to_have_text("Rinkeby-Kista stadsdelsförvaltning")
    expect(header.locator(".user-roles")).to_have_text("(Skribent – Järva)")

    rows = page.locator("table.tasks tbody tr")
    expect(rows).to_have_count(1)  # Järva only: the other areas are not theirs
    row = rows.first
    expect(row.get_by_role("rowheader")).to_have_text(
        f"Lägesbild {live_server.current_period} — Järva")
    expect(row.locator(".state")).to_have_text("Utkast")
    # The local topics are still empty, so it cannot go to the police yet.
    expect(row.locator("li.action")).to_have_text(["Redigera texterna"])
    screenshot(page, "start")

    page.get_by_role("button", name="Logga ut").click()

    expect(page).to_have_url(url(live_server, "/login"))
    expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(url(live_server, "/login?next=%2F"))


def test_reviewer_sees_the_contribution_waiting_for_the_police(page, live_server):
    log_in(page, live_server.user("polis.sodermalm").email)

    row = page.locator("table.tasks tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("rowheader")).to_have_text(
        f"Lägesbild {live_server.current_period} — Södermalm")
    expect(row.locator(".state")).to_have_text("Polisgranskning")
    expect(row.locator("li.action")).to_have_text(["Godkänn", "Skicka tillbaka"])


def test_wrong_password_shows_the_error(page, live_server, screenshot, assert_accessible):
    email = live_server.user(DRAFTER).email

    log_in(page, email, password="fel-losenord")

    expect(page).to_have_url(url(live_server, "/login"))
    expect(page.get_by_role("alert")).to_have_text("Fel e-postadress eller lösenord.")
    expect(page.get_by_label("E-postadress")).to_have_value(email)
    expect(page.get_by_label("Lösenord")).to_have_value("")
    expect(page.get_by_role("button", name="Logga ut")).to_have_count(0)
    screenshot(page, "login-error")
    assert_accessible(page)


def test_login_by_keyboard_only(page, live_server):
    drafter = live_server.user(DRAFTER)
    page.goto("/login")

    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(focused(page))
        if order[-1]["id"] == "email":
            break
    assert order[0]["cls"] == "skip-link"
    assert order[-1]["id"] == "email", order
    page.keyboard.type(drafter.email)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(url(live_server, "/"))
    expect(page.locator(".user-name")).to_have_text(drafter.name)

    # Out again by keyboard: Tab to the sign-out button and press it.
    for _ in range(25):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "Logga ut":
            break
    assert focused(page)["text"] == "Logga ut"
    page.keyboard.press("Enter")
    expect(page).to_have_url(url(live_server, "/login"))


@pytest.mark.parametrize("signed_in", [False, True], ids=["login-page", "start-page"])
def test_skip_link_is_the_first_focusable_element_and_jumps_to_main(page, live_server,
                                                                     signed_in):
    if signed_in:
        log_in(page, live_server.user(DRAFTER).email)
        expect(page).to_have_url(url(live_server, "/"))
    else:
        page.goto("/login")
    skip_link = page.get_by_role("link", name="Hoppa till innehållet")

    page.keyboard.press("Tab")

    assert focused(page) == {"tag": "a", "id": "", "cls": "skip-link",
                             "text": "Hoppa till innehållet", "href": "#main"}
    box = skip_link.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, "the focused skip link must be on screen"
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "main"


@pytest.mark.parametrize("user", [None, DRAFTER, "polis.sodermalm", "samordnare", "revisor"])
def test_pages_have_no_accessibility_violations(page, live_server, assert_accessible, user):
    if user is None:
        page.goto("/login")
    else:
        log_in(page, live_server.user(user).email)
        expect(page).to_have_url(url(live_server, "/"))
    assert_accessible(page)


def test_error_page_has_no_accessibility_violations(page, assert_accessible):
    response = page.goto("/finns-inte")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte (404)")
    assert_accessible(page)


def test_the_browser_refuses_inline_script_on_our_pages(page, live_server):
    """The content security policy is in force: a script smuggled into a page as markup would
    not run (the pages need none of their own)."""
    page.goto("/login")
    with pytest.raises(Exception, match="Content Security Policy"):
        page.add_script_tag(content="window.injected = true")
    assert page.evaluate("typeof window.injected") == "undefined"
