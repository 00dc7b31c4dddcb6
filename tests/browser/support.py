"""What the browser tests do the same way: sign in to the demo and switch to English."""
from __future__ import annotations

from playwright.sync_api import expect

from app.demo.loader import DEMO_PASSWORD


def log_in(page, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the signed-in header."""
    page.goto("/login")
    page.get_by_label("E-postadress").fill(email)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator(".user-name")).to_be_visible()


def switch_to_english(page) -> None:
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
