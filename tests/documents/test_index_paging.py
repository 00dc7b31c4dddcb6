"""The documents index is paged by period (app.core.paging, newest approval deadline first):
a city's index stays a few periods a page however many periods have passed."""
from __future__ import annotations

import re
from datetime import date

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.documents.routes import PERIODS_PER_PAGE
from tests.contributions.support import page, text_of
from tests.factories import SETUP


def more_periods(count: int) -> list[str]:
    """`count` more periods, a month apart after the world's January 2030; their names."""
    names = []
    with operation(SETUP):
        for month in range(2, count + 2):
            names.append(f"månad {month:02d} 2030")
            admin.create_period(SETUP, names[-1], drafting_deadline=date(2030, month, 10),
                                review_deadline=date(2030, month, 17),
                                consolidation_deadline=date(2030, month, 24),
                                approval_deadline=date(2030, month, 27))
    return names


def periods_shown(html: str) -> list[str]:
    return re.findall(r'<h2 id="period-\d+">Lägesbild ([^<]+)</h2>', html)


def link(html: str, label: str) -> str:
    found = re.search(r'<a href="([^"]+)"[^>]*>' + label + "</a>", html)
    assert found, label
    return found.group(1).replace("&amp;", "&")


def test_the_index_pages_through_the_periods(web, world):
    names = ["januari 2030", *more_periods(PERIODS_PER_PAGE + 2)]
    newest_first = list(reversed(names))
    web.log_in_as("consolidator")
    first = page(web, "/documents/")
    assert periods_shown(first) == newest_first[:PERIODS_PER_PAGE]
    assert 'aria-label="Sidor med perioder"' in first and "Nyare" not in first
    older = page(web, link(first, "Äldre"))
    assert periods_shown(older) == newest_first[PERIODS_PER_PAGE:2 * PERIODS_PER_PAGE]
    oldest = page(web, link(first, "Äldsta"))
    assert periods_shown(oldest)[-1] == "januari 2030"
    assert periods_shown(page(web, link(older, "Nyare"))) == periods_shown(first)


def test_one_page_has_no_paging_controls(web, world):
    web.log_in_as("drafter")
    html = page(web, "/documents/")
    assert periods_shown(html) == ["januari 2030"] and "Sidor med perioder" not in html


def test_a_bad_page_link_is_refused_with_a_message(web, world):
    web.log_in_as("consolidator")
    for cursor in ("2030-13-01~1", "2030-01-31", "x~1", "2030-01-31~0", "2030-01-31~1~2"):
        html = page(web, f"/documents/?before={cursor}", 400)
        assert "Sidlänken är inte giltig (before)." in text_of(html)
