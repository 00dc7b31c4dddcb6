"""The administrators' pages for people in a real browser: every page (and a form showing its
errors) without axe-core violations in Swedish and English, and the whole life of an account
as a new administrator would try it: create, grant a reviewer role for an area, issue a link,
the user chooses a password and signs in, the administrator deactivates them and their open
session stops at its next request."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import log_in, switch_to_english

ADMIN = "admin"
NEW_PASSWORD = "tre gröna äpplen i en skål"


def first_link(page, pattern: str) -> str:
    return page.locator(f"a[href^='{pattern}']").first.get_attribute("href")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_admin_people_page_is_accessible(page, live_server, assert_accessible,
                                               screenshot, language):
    log_in(page, live_server.user(ADMIN).email)
    if language == "en":
        switch_to_english(page)
    assert_accessible(page)  # the start page, with the admin links
    page.goto("/admin/users")
    user_page = first_link(page, "/admin/users/")
    page.goto("/admin/organisations")
    organisation_page = first_link(page, "/admin/organisations/")
    page.goto("/admin/areas")
    area_page = first_link(page, "/admin/areas/")
    paths = {"admin": "/admin/", "users": "/admin/users", "users-search": "/admin/users?q=polis",
             "user-new": "/admin/users/new", "user": user_page,
             "organisations": "/admin/organisations", "organisation": organisation_page,
             "areas": "/admin/areas", "area": area_page, "password": "/account/password",
             "reset-invalid": "/password-reset/not-a-token"}
    for name, path in paths.items():
        response = page.goto(path)
        assert response.status in (200, 400), (path, response.status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        screenshot(page, f"admin-{name}-{language}")
        assert_accessible(page)

    # A refused form: the summary, the message beside the field, the focus on it.
    page.goto("/admin/users/new")
    page.locator("#new-name").fill("Dubbel Post")
    page.locator("#new-email").fill(live_server.user(ADMIN).email)
    page.locator("#new-organisation").select_option(index=1)
    page.locator("form.form button[type=submit]").click()
    expect(page.locator("#new-email")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-email")).to_be_focused()
    expect(page.locator("#new-email-error")).to_be_visible()
    expect(page.locator(".admin-error-summary a[href='#new-email']")).to_be_visible()
    expect(page.locator("#new-name")).to_have_value("Dubbel Post")
    screenshot(page, f"admin-user-new-error-{language}")
    assert_accessible(page)

    # At 320 px nothing needs scrolling sideways.
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/admin/users", user_page, "/admin/areas"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


def test_an_account_from_creation_to_deactivation(browser, page, live_server,
                                                  assert_accessible):
    log_in(page, live_server.user(ADMIN).email)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Administration").click()
    page.get_by_role("link", name="Användare", exact=True).click()
    page.get_by_role("link", name="Ny användare").click()
    page.get_by_label("Namn").fill("Petra Polis")
    page.get_by_label("E-postadress").fill("petra.polis@demo.lagesbild.se")
    police = page.locator("#new-organisation option", has_text="Polis").first.get_attribute(
        "value")
    page.get_by_label("Organisation").select_option(police)
    page.get_by_role("button", name="Skapa kontot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Petra Polis")
    petra = page.url

    # A reviewer role for an area that police serves.
    page.locator("#grant-role").select_option("reviewer")
    areas = [a for a in page.locator("#grant-area option").all_inner_texts() if a and "(" not in a]
    granted = None
    for area in areas:
        page.locator("#grant-role").select_option("reviewer")
        page.locator("#grant-area").select_option(label=area)
        page.get_by_role("button", name="Ge rollen").click()
        if page.locator(".flash-success").count():
            granted = area
            break
    assert granted, "no area that the police organisation serves"
    expect(page.locator(".admin-roles")).to_contain_text(granted)

    page.get_by_role("button", name="Skapa en länk för att välja lösenord").click()
    link = page.locator("#reset-link-value").input_value()
    assert "/password-reset/" in link
    assert_accessible(page)

    # The new user, in a browser of her own, chooses a password and signs in.
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    user_page = context.new_page()
    try:
        user_page.goto(link.replace("http://127.0.0.1:5000", live_server.url))
        assert_accessible(user_page)
        user_page.get_by_label("Nytt lösenord").fill(NEW_PASSWORD)
        user_page.get_by_role("button", name="Spara lösenordet").click()
        expect(user_page.locator(".flash-success")).to_contain_text("Ditt nya lösenord")
        log_in(user_page, "petra.polis@demo.lagesbild.se", NEW_PASSWORD)
        expect(user_page.locator(".user-roles")).to_contain_text(granted)

        # The administrator deactivates her: her next request finds her signed out. (The
        # page is reloaded first: her new password made the one drawn before it stale.)
        page.goto(petra)
        page.get_by_role("button", name="Inaktivera").click()
        expect(page.locator(".flash-success")).to_contain_text("är inaktiverad")
        user_page.goto("/")
        expect(user_page).to_have_url(re.compile(r"/login"))
        expect(user_page.get_by_role("status").first).to_contain_text("Logga in")
    finally:
        context.close()
