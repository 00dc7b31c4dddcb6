"""Signing in through the city's identity provider in a real browser: a real OpenID Connect
provider on 127.0.0.1 (app/demo/oidc_provider.py), the demo app configured for it, an
administrator mapping a group, the person signing in and out, and the people who are turned
away; axe-core on every new page, in Swedish and English."""
from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import expect

from app.demo.loader import DEMO_PASSWORD
from app.demo.oidc_provider import CLIENT_ID, CLIENT_SECRET, RunningProvider
from tests.browser.conftest import TIMEOUT_MS

PROVIDER_NAME = "Stadens inloggning"
GROUP = "g-jarva-skribenter"
OFFICE = "Rinkeby-Kista stadsdelsförvaltning"


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory):
    """The provider, and the demo app configured for it, each on a free port."""
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.demo.loader import load_demo
    from app.extensions import db

    running = RunningProvider()
    database = tmp_path_factory.mktemp("oidc-browser") / "demo.sqlite"
    app = create_app({
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "SECRET_KEY": "browser-oidc",
        "AUDIT_WITNESS_PATH": str(database.with_suffix(".witness.jsonl")),
        "OIDC_ISSUER": running.provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": "openid email profile",
        "OIDC_GROUPS_CLAIM": "groups", "OIDC_PROVIDER_NAME": PROVIDER_NAME,
        "OIDC_LINK_BY_EMAIL": False, "ADMIN_CONTACT": "Stadens servicedesk, 08-123 45 67"})
    with app.app_context():
        upgrade()
        load_demo()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="oidc-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", running.provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        running.stop()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def oidc_page(browser, oidc_server):
    base_url, provider = oidc_server
    provider.reset()
    context = browser.new_context(base_url=base_url, locale="sv-SE",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page, provider, base_url
    finally:
        context.close()


def _url(base_url: str, path: str) -> re.Pattern:
    return re.compile("^" + re.escape(base_url + path) + "$")


def _log_in_as_admin(page) -> None:
    page.goto("/login")
    page.get_by_label("E-postadress").fill("admin@demo.lagesbild.se")
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in", exact=True).click()


def _map_the_group_as_admin(page, assert_accessible) -> None:
    _log_in_as_admin(page)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Gruppkopplingar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Gruppkopplingar")
    assert_accessible(page)

    # A role the organisation cannot hold: the error by the field, what was typed kept.
    page.get_by_label("Grupp hos identitetsleverantören").fill(GROUP)
    page.get_by_label("Roll").select_option("reviewer")
    page.get_by_label("Organisation", exact=True).select_option(OFFICE)
    page.get_by_label("Område", exact=True).select_option("Järva")
    page.get_by_role("button", name="Lägg till kopplingen").click()
    expect(page.locator("#role-error")).to_contain_text("kan inte ha rollen")
    expect(page.get_by_label("Grupp hos identitetsleverantören")).to_have_value(GROUP)
    assert_accessible(page)

    page.get_by_label("Roll").select_option("drafter")
    page.get_by_role("button", name="Lägg till kopplingen").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Medlemmar i gruppen {GROUP}")
    # The demo's own mapping (its identity provider's reviewer group), and this one.
    expect(page.locator("table.identity-mappings tbody tr")).to_have_count(2)

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Group mappings")
    assert_accessible(page)
    page.get_by_role("button", name="Svenska").click()
    page.get_by_role("button", name="Logga ut").click()


def test_a_mapped_person_signs_in_through_the_provider_and_out(oidc_page, assert_accessible,
                                                              screenshot):
    page, provider, base_url = oidc_page
    _map_the_group_as_admin(page, assert_accessible)
    provider.person.update(sub="kim-1", email="kim.lund@rinkeby-kista.example.se",
                           name="Kim Lund", groups=[GROUP])

    page.goto("/login")
    assert_accessible(page)
    page.get_by_role("link", name=f"Logga in med {PROVIDER_NAME}").click()

    expect(page).to_have_url(_url(base_url, "/"))
    expect(page.get_by_role("status")).to_contain_text("Välkommen, Kim Lund.")
    header = page.get_by_role("banner")
    expect(header.locator(".user-org")).to_have_text(OFFICE)
    expect(header.locator(".user-roles")).to_have_text("(Skribent – Järva)")
    screenshot(page, "oidc-signed-in")

    page.get_by_role("button", name="Logga ut").click()
    expect(page).to_have_url(_url(base_url, "/logged-out"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Du är utloggad")
    assert_accessible(page)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are logged out")
    assert_accessible(page)
    page.get_by_role("link", name=f"Log out of {PROVIDER_NAME} too").click()
    expect(page.locator("body")).to_have_text("signed out at the provider")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_pages_that_turn_people_away(oidc_page, assert_accessible, language):
    page, provider, base_url = oidc_page
    page.goto("/login")
    if language == "en":
        page.get_by_role("button", name="English").click()
    sign_in = "Logga in med" if language == "sv" else "Log in with"

    # Someone the provider knows, with no mapped group.
    provider.person.update(sub="stranger", email="stranger@example.se", groups=["g-other"])
    page.get_by_role("link", name=f"{sign_in} {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ingen behörighet än" if language == "sv" else "No access yet")
    expect(page.get_by_text("Stadens servicedesk, 08-123 45 67")).to_be_visible()
    assert_accessible(page)

    # A token signed with a key not the provider's.
    provider.sign_with_other_key = True
    page.goto("/login")
    page.get_by_role("link", name=f"{sign_in} {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Inloggningen misslyckades" if language == "sv" else "The sign-in failed")
    assert_accessible(page)
    expect(page.get_by_role("button", name="Logga ut" if language == "sv" else "Log out")
           ).to_have_count(0)


def test_the_pages_reflow_at_320_pixels(oidc_page, assert_accessible):
    page, provider, base_url = oidc_page
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/login")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    _log_in_as_admin(page)
    page.goto("/admin/groups")
    expect(page.get_by_role("heading", level=1)).to_have_text("Gruppkopplingar")
    # What overflows, if anything, to name in the failure.
    wider = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.scrollWidth > e.clientWidth
                && getComputedStyle(e).overflowX === 'visible')
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : ''))""")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, wider
