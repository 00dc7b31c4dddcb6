"""The start page, the period overview, the consolidation page and the workflow page in a real
browser: what the coordinator sees, and no axe-core violations in Swedish or English."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.support import log_in, switch_to_english

COORDINATOR = "samordnare"


def current_period_path(page, live_server) -> str:
    page.goto("/periods")
    link = page.get_by_role("link", name=f"Lägesbild {live_server.current_period}")
    return link.get_attribute("href")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_coordinator_pages_have_no_accessibility_violations(page, live_server, assert_accessible,
                                                            screenshot, language):
    log_in(page, live_server.user(COORDINATOR).email)
    if language == "en":
        switch_to_english(page)
    period = current_period_path(page, live_server)
    pages = {"start": "/", "periods": "/periods", "period": period,
             "consolidation": f"{period}/consolidation", "workflows": "/workflows"}
    for name, path in pages.items():
        response = page.goto(path)
        assert response.status == 200, (path, response.status)
        expect(page.locator("html")).to_have_attribute("lang", language)
        screenshot(page, f"{name}-{language}")
        assert_accessible(page)


@pytest.mark.parametrize("user", ["skribent.rinkeby-kista", "polis.sodermalm", "faststallare",
                                  "revisor"])
def test_other_roles_see_accessible_pages(page, live_server, assert_accessible, user):
    log_in(page, live_server.user(user).email)
    assert_accessible(page)  # the start page
    period = current_period_path(page, live_server)
    page.goto(period)
    assert_accessible(page)
    if user in ("faststallare", "revisor"):
        page.goto(f"{period}/consolidation")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Sammanställningen för {live_server.current_period}")
        assert_accessible(page)


def test_period_overview_shows_every_state_with_text_and_links(page, live_server):
    log_in(page, live_server.user(COORDINATOR).email)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Perioder").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Perioder")
    page.get_by_role("link", name=f"Lägesbild {live_server.current_period}").click()

    matrix = page.locator("table.periods-matrix")
    expect(matrix.locator("tbody tr")).to_have_count(5)
    # Every area's state is named in text, not only marked by colour.
    states = matrix.locator("tbody tr td .state").all_inner_texts()
    assert sorted(states) == sorted(["Utkast", "Polisgranskning", "Återsänd", "Granskad",
                                     "Sammanställd"])
    expect(page.locator("[data-step=reviewed]")).to_have_text(
        re.compile(r"2 av 5 granskade av polisen"))
    matrix.get_by_role("link", name="Järva").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Lägesbild {live_server.current_period} — Järva")


def test_workflow_page_draws_both_workflows_with_a_text_alternative(page, live_server):
    log_in(page, live_server.user("skribent.rinkeby-kista").email)
    page.get_by_role("link", name="Arbetsflöde").click()

    expect(page.get_by_role("img")).to_have_count(2)
    expect(page.locator("svg [data-trigger=submit] text")).to_contain_text("Skicka till polisen")
    who = page.locator("table.periods-who").first
    expect(who.locator("tr[data-role=drafter][data-trigger=submit]")).to_contain_text(
        "Alla avsnitt måste vara ifyllda.")
