"""The search page through the test client: the field, hits with period, area and topic
linking to their section, the same access as the contribution page, bad input answered on
the page (never a 500), both languages."""
from __future__ import annotations

import re

import pytest

from app.contributions import operations as contributions
from tests.contributions.support import page, text_of, use_english
from tests.factories import USERS, run
from tests.search.test_query import write


@pytest.fixture
def written(world):
    write(world, "Norr", "drafter", "Trefasen och narkotikahandeln")
    write(world, "Söder", "drafter_south", "Trefasen och ungdomsgården")
    return world


def hit_links(html: str) -> list[str]:
    return re.findall(r'<h2 class="search-hit-title"><a href="([^"]+)"', html)


def test_the_header_has_a_search_field_that_leads_to_the_page(web, world):
    web.log_in_as("drafter")
    html = page(web, "/")
    assert 'role="search"' in html and 'action="/search"' in html
    assert '<label for="header-search-query" class="search-visually-hidden">Sök i texterna' \
        in html
    html = page(web, "/search")
    assert "<h1>Sök</h1>" in html and '<label for="search-query">Ord att söka efter' in html
    assert 'role="status"' not in html  # nothing searched, nothing announced


def test_hits_name_period_area_and_topic_and_link_to_the_section(web, written):
    web.log_in_as("reviewer")
    html = page(web, "/search?q=narkotikahandeln")
    sections = written.sections("Norr")
    contribution_id = written.contribution("Norr").id
    assert hit_links(html) == [f"/contributions/{contribution_id}#section-{s.id}"
                               for s in sections]
    text = text_of(html)
    assert f"{len(sections)} träffar för ”narkotikahandeln”." in text
    assert f"<title>Sök: narkotikahandeln ({len(sections)} träffar) – Lägesbild</title>" in html
    assert "Period: januari 2030 · Område: Norr" in text
    assert sections[0].topic.heading in text
    assert "<mark>narkotikahandeln</mark>" in html
    # The link's target exists on the contribution page.
    assert f'id="section-{sections[0].id}"' in page(web, hit_links(html)[0].split("#")[0])


@pytest.mark.parametrize("key", sorted(USERS))
def test_the_page_shows_what_the_contribution_page_lets_each_role_read(web, written, key):
    web.log_in_as(key)
    links = hit_links(page(web, "/search?q=trefasen"))
    readable = {area for area in ("Norr", "Söder")
                if web.client.get(f"/contributions/{written.contribution(area).id}")
                .status_code == 200}
    assert {link.split("#")[0] for link in links} == {
        f"/contributions/{written.contribution(area).id}" for area in readable}


def test_a_reviewer_of_another_area_finds_nothing_of_this_areas_drafts(web, written):
    web.log_in_as("reviewer_south")
    html = page(web, "/search?q=narkotikahandeln")
    assert hit_links(html) == []
    assert "Inga texter eller anmärkningar som du får läsa matchar ”narkotikahandeln”." \
        in text_of(html)


def test_remarks_are_found_with_their_section(web, written):
    first = written.sections("Norr")[0]
    contribution_id = written.contribution("Norr").id
    run(written, "drafter", contributions.transition, contribution_id, "submit")
    run(written, "reviewer", contributions.transition, contribution_id, "return",
        remarks=[contributions.RemarkInput("Beskriv kameraövervakningen.", first.id)])
    web.log_in_as("drafter2")
    html = page(web, "/search?q=kameraövervakningen")
    assert hit_links(html) == [f"/contributions/{contribution_id}#section-{first.id}"]
    assert "Anmärkning · Period: januari 2030 · Område: Norr" in text_of(html)


@pytest.mark.parametrize("query, message", [
    ('"*(', "Skriv minst ett ord (bokstäver eller siffror) att söka efter."),
    ("x" * 201, "Söktexten är för lång: högst 200 tecken."),
    (" ".join(f"ord{i}" for i in range(11)), "Sök efter högst 10 ord åt gången."),
])
def test_bad_input_is_answered_on_the_page(web, written, query, message):
    web.log_in_as("reviewer")
    response = web.client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<p class="error-message" id="search-message">{message}</p>' in html
    assert 'aria-invalid="true"' in html


@pytest.mark.parametrize("query", ["NEAR(", '"', "'; --", "<script>alert(1)</script>",
                                   "trefasen*", "%", "🙂"])
def test_hostile_queries_never_fail_and_are_shown_escaped(web, written, query):
    web.log_in_as("reviewer")
    response = web.client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_a_nul_character_is_refused_before_the_database(web, written):
    web.log_in_as("reviewer")
    response = web.client.get("/search", query_string={"q": "trefasen\x00"})
    assert response.status_code == 400


@pytest.mark.parametrize("value", ["0", "-1", "abc", "99999999999", "2"])
def test_a_bad_page_number_shows_a_page_of_hits(web, written, value):
    web.log_in_as("reviewer")
    response = web.client.get("/search", query_string={"q": "trefasen", "page": value})
    assert response.status_code == 200
    assert hit_links(response.get_data(as_text=True))


def test_many_hits_come_in_pages_with_links(web, written, monkeypatch):
    import app.search.routes as routes
    from app.search.query import search

    monkeypatch.setattr(routes, "search", lambda actor, q, page: search(actor, q, page, 2))
    web.log_in_as("auditor")
    html = page(web, "/search?q=trefasen")
    assert len(hit_links(html)) == 2
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert "Sida 1 av" in text_of(html)


def test_signed_out_visitors_are_sent_to_log_in(web, written):
    response = web.client.get("/search?q=trefasen")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_page_in_english(web, written):
    use_english(web)
    web.log_in_as("reviewer")
    html = page(web, "/search?q=trefasen")
    text = text_of(html)
    assert '<html lang="en">' in html
    assert f"{len(written.sections('Norr'))} hits for “trefasen”." in text
    assert "Period: januari 2030 · Area: Norr" in text
    assert "No texts or remarks you may read match “zzz”." in text_of(
        page(web, "/search?q=zzz"))
