"""Issue 13's "Done when", tried in chromium as a new administrator would on `make demo`: the
demo app configured for the demo's own OpenID Connect provider (app/demo/oidc_provider.py, as
`make demo` runs them). The admin creates a user and grants a reviewer role for an area; the
user signs in with a local password, then through the provider with a group the demo maps;
the admin deactivates them and their open session stops at its next request; a period is
opened from the browser with carry-forward. And axe-core on every admin page (every GET route
of the admin blueprints and every page of ADMIN_PAGES) in Swedish and English, 0 violations,
none scrolling sideways at 320 px.

The walk changes the demo (a user, a period), so the module has a server of its own.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.admin.routes import ADMIN_PAGES
from app.demo.loader import SEED_AREA, SEED_POLICE
from app.demo.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO_PEOPLE,
    DEMO_PROVIDER_NAME,
    RunningProvider,
)
from tests.browser.conftest import TIMEOUT_MS, serve_demo
from tests.browser.support import log_in, switch_to_english

ADMIN = "admin"
KIM = DEMO_PEOPLE["kim"]
KIM_PASSWORD = "sju blå koltrastar sjunger"
ADMIN_BLUEPRINTS = ("admin", "admin_structure")
# Pages that are not under /admin but that the administration hands people to.
ACCOUNT_PAGES = ("account.password", "account.reset_password")


@pytest.fixture(scope="module")
def demo_provider():
    running = RunningProvider(people=DEMO_PEOPLE)
    yield running.provider
    running.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, demo_provider):
    """The demo on a server of this module's own, signing in through the demo provider with
    the settings `make demo` gives it (tests/demo/test_oidc_provider.py checks those)."""
    yield from serve_demo(tmp_path_factory.mktemp("browser-walk"), "walk-live-server", {
        "OIDC_ISSUER": demo_provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_SCOPES": "openid email profile",
        "OIDC_GROUPS_CLAIM": "groups", "OIDC_PROVIDER_NAME": DEMO_PROVIDER_NAME,
        "OIDC_LINK_BY_EMAIL": True})


def admin_page_paths(app) -> dict[str, str]:
    """Every admin page: each GET route of the admin blueprints, of ADMIN_PAGES and the
    account pages the administration hands out, with a real object of the demo for each id
    in its URL (so a page added later is checked without anyone listing it here)."""
    from app.admin import operations as admin
    from app.core.unit_of_work import operation
    from app.extensions import db
    from app.models import Area, Organisation, Period, Topic, User

    endpoints = {endpoint for endpoint, _title, _text in ADMIN_PAGES} | set(ACCOUNT_PAGES)
    with app.app_context():
        administrator = db.session.scalar(select(User).where(User.email.like("admin@%")))
        reviewer = db.session.scalar(select(User).where(User.email.like("polis.jarva@%")))
        with operation(administrator):
            token, _ = admin.issue_reset_link(administrator, reviewer)
        values = {
            "user_id": reviewer.id,
            "organisation_id": db.session.scalar(select(Organisation.id).order_by(
                Organisation.id)),
            "area_id": db.session.scalar(select(Area.id).order_by(Area.id)),
            "topic_id": db.session.scalar(select(Topic.id).where(Topic.active).order_by(
                Topic.id)),
            "period_id": db.session.scalar(select(Period.id).order_by(Period.id.desc())),
            "token": token,
        }
        paths = {}
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or not (
                    rule.endpoint.split(".")[0] in ADMIN_BLUEPRINTS or rule.endpoint in endpoints):
                continue
            missing = set(rule.arguments) - set(values)
            assert not missing, f"{rule.rule}: no demo object for {missing}; add one here"
            with app.test_request_context():
                from flask import url_for

                paths[rule.endpoint] = url_for(rule.endpoint, **{
                    name: values[name] for name in rule.arguments})
        db.session.remove()
    paths["account.reset_password (refused)"] = "/password-reset/not-a-token"
    paths["admin.users (searched)"] = "/admin/users?q=polis"
    return paths


def test_every_admin_blueprint_route_is_in_the_list(live_server):
    paths = admin_page_paths(live_server.app)
    assert {endpoint for endpoint, _title, _text in ADMIN_PAGES} <= set(paths)
    assert {"admin.index", "admin.user", "admin_structure.move_deadlines",
            "identity.group_mappings", "notifications.outbox"} <= set(paths)


def _no_sideways_scroll(page, path: str) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        page.wait_for_function("window.innerWidth === 320")
        wider = page.evaluate("""() => [...document.querySelectorAll('*')]
            .filter(e => e.getBoundingClientRect().right > 321 || e.scrollWidth > 321)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                             + (e.className ? '.' + e.className : ''))""")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width, wider)
    finally:
        page.set_viewport_size({"width": 1280, "height": 800})


@pytest.mark.parametrize("language", ["sv", "en"])
def test_every_admin_page_is_accessible_and_reflows(page, live_server, assert_accessible,
                                                    language):
    paths = admin_page_paths(live_server.app)
    log_in(page, live_server.user(ADMIN).email)
    if language == "en":
        switch_to_english(page)
    for name, path in paths.items():
        response = page.goto(path)
        expected = 400 if name.endswith("(refused)") else 200
        assert response.status == expected, (name, path, response.status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
        _no_sideways_scroll(page, path)


def _url(base_url: str, path: str) -> re.Pattern:
    return re.compile("^" + re.escape(base_url + path) + r"(\?.*)?$")


def test_the_done_when_walk(browser, page, live_server, demo_provider, assert_accessible,
                            screenshot):
    # The admin creates Kim Lund in the Järva police ...
    log_in(page, live_server.user(ADMIN).email)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Administration").click()
    page.get_by_role("link", name="Användare", exact=True).click()
    page.get_by_role("link", name="Ny användare").click()
    page.get_by_label("Namn").fill(KIM["name"])
    page.get_by_label("E-postadress").fill(KIM["email"])
    page.get_by_label("Organisation").select_option(label=SEED_POLICE)
    page.get_by_role("button", name="Skapa kontot").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(KIM["name"])
    kim_admin_page = page.url

    # ... grants her the reviewer role for Järva ...
    page.locator("#grant-role").select_option("reviewer")
    page.locator("#grant-area").select_option(label=SEED_AREA)
    page.get_by_role("button", name="Ge rollen").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(".admin-roles")).to_contain_text(SEED_AREA)
    assert_accessible(page)

    # ... and gives her a link to choose a password.
    page.get_by_role("button", name="Skapa en länk för att välja lösenord").click()
    link = page.locator("#reset-link-value").input_value()
    assert "/password-reset/" in link

    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(TIMEOUT_MS)
    kim = context.new_page()
    try:
        # Kim chooses a password and signs in with it.
        kim.goto("/password-reset/" + link.rpartition("/password-reset/")[2])
        kim.get_by_label("Nytt lösenord").fill(KIM_PASSWORD)
        kim.get_by_role("button", name="Spara lösenordet").click()
        expect(kim.locator(".flash-success")).to_contain_text("Ditt nya lösenord")
        log_in(kim, KIM["email"], KIM_PASSWORD)
        expect(kim.locator(".user-roles")).to_have_text(f"(Granskare (polis) – {SEED_AREA})")
        kim.get_by_role("button", name="Logga ut").click()

        # Then through the demo's identity provider: its page, her name, back signed in,
        # her account taken over (her e-mail is verified there) and her group's role kept.
        kim.goto("/login")
        kim.get_by_role("link", name=f"Logga in med {DEMO_PROVIDER_NAME}").click()
        expect(kim.get_by_role("heading", level=1)).to_have_text(DEMO_PROVIDER_NAME)
        expect(kim.get_by_text("Endast för demo och test")).to_be_visible()
        kim.get_by_role("button", name=KIM["name"]).click()
        expect(kim).to_have_url(_url(live_server.url, "/"))
        expect(kim.get_by_role("status").first).to_contain_text(f"Välkommen, {KIM['name']}.")
        expect(kim.locator(".user-org")).to_have_text(SEED_POLICE)
        expect(kim.locator(".user-roles")).to_have_text(f"(Granskare (polis) – {SEED_AREA})")
        screenshot(kim, "walk-signed-in-through-the-provider")

        # The admin deactivates her (the page drawn again: her new password changed the
        # account since): her open session ends at its next request ...
        page.goto(kim_admin_page)
        page.get_by_role("button", name="Inaktivera").click()
        expect(page.locator(".flash-success")).to_contain_text("är inaktiverad")
        kim.goto("/")
        expect(kim).to_have_url(re.compile(r"/login"))
        expect(kim.locator(".user-name")).to_have_count(0)

        # ... and no route signs her in again: not the provider, not her password.
        kim.get_by_role("link", name=f"Logga in med {DEMO_PROVIDER_NAME}").click()
        kim.get_by_role("button", name=KIM["name"]).click()
        expect(kim.get_by_role("heading", level=1)).to_have_text("Inloggningen misslyckades")
        kim.goto("/login")
        kim.get_by_label("E-postadress").fill(KIM["email"])
        kim.get_by_label("Lösenord").fill(KIM_PASSWORD)
        kim.get_by_role("button", name="Logga in", exact=True).click()
        expect(kim.locator(".user-name")).to_have_count(0)
    finally:
        context.close()

    # A period opened from the browser, carrying each area's latest approved texts forward.
    page.goto("/admin/")
    page.locator("main").get_by_role("link", name="Perioder", exact=True).click()
    page.get_by_role("link", name="Öppna en period").click()
    page.get_by_label("Periodens namn").fill("april 2027")
    page.get_by_label("Sista dag för skrivandet").fill("2027-04-09")
    page.get_by_label("Sista dag för granskningen").fill("2027-04-16")
    page.get_by_label("Sista dag för sammanställningen").fill("2027-04-23")
    page.get_by_label("Sista dag för fastställelsen").fill("2027-04-27")
    page.get_by_label("Låt varje områdes utkast börja med dess senast fastställda texter").check()
    page.get_by_role("button", name="Öppna perioden").click()
    expect(page.locator(".flash-success")).to_contain_text("april 2027 är öppnad")
    expect(page.locator(".flash-info")).to_contain_text("Senast fastställda texter överförda")
    expect(page.locator("tbody tr").first).to_contain_text("april 2027")
    assert_accessible(page)
