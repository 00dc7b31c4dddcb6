"""The search in a real browser on the demo data: from the header's field to the hits, the
count announced, no axe-core violations in Swedish or English, reflow at 320 px, and a police
reviewer of another area finding nothing of Järva's texts."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_period_pages import log_in, switch_to_english

JARVA_REVIEWER = "polis.jarva"
OTHER_REVIEWER = "polis.sodermalm"
LABELS = {"sv": {"field": "Sök i texterna", "button": "Sök", "area": "Område: Järva",
                 "hits": r"\d+ träff(ar)? för ”Trefas”\.", "none": "Inga texter"},
          "en": {"field": "Search the texts", "button": "Search", "area": "Area: Järva",
                 "hits": r"\d+ hits? for “Trefas”\.", "none": "No texts"}}


def search_from_the_header(page, words: str, language: str) -> None:
    labels = LABELS[language]
    header = page.locator("header")
    header.get_by_label(labels["field"]).fill(words)
    header.get_by_role("button", name=labels["button"], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_reviewer_finds_her_areas_texts_from_the_header(page, live_server, assert_accessible,
                                                          screenshot, language):
    log_in(page, live_server.user(JARVA_REVIEWER).email)
    if language == "en":
        switch_to_english(page)
    assert_accessible(page)  # the start page, with the header's field
    search_from_the_header(page, "Trefas", language)
    labels = LABELS[language]
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(labels["hits"]))
    hits = page.locator(".search-hit")
    expect(hits.first).to_be_visible()
    for meta in hits.locator(".search-hit-meta").all_inner_texts():
        assert labels["area"] in meta
    expect(hits.first.locator("mark").first).to_have_text(re.compile(r"^Trefas", re.I))
    screenshot(page, f"search-{language}")
    assert_accessible(page)

    # The hit leads to its section on the contribution page.
    link = hits.first.get_by_role("link")
    anchor = link.get_attribute("href").split("#")[1]
    link.click()
    expect(page.locator(f"#{anchor}")).to_be_visible()

    # Bad input: a message on the page, announced, the field marked.
    page.goto("/search?q=%22*NEAR%28")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"\w"))
    page.goto('/search?q=%22*%28')
    expect(page.locator("#search-query")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_reviewer_of_another_area_finds_nothing_of_jarvas_texts(page, live_server,
                                                                  assert_accessible, language):
    log_in(page, live_server.user(OTHER_REVIEWER).email)
    if language == "en":
        switch_to_english(page)
    search_from_the_header(page, "Trefas", language)
    expect(page.get_by_role("status")).to_contain_text(LABELS[language]["none"])
    expect(page.locator(".search-hit")).to_have_count(0)
    assert_accessible(page)


def test_the_search_page_reflows_at_320_px(page, live_server):
    log_in(page, live_server.user(JARVA_REVIEWER).email)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in ("/", "/search", "/search?q=Trefas", "/search?q=" + "x" * 201):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (path, width)
