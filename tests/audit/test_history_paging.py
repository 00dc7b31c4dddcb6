"""The auditors' history of a contribution is paged (app.core.paging) and shows each
section's newest revisions, with the others compared by number: a long history stays a small
page of the same statements; a bad page link is refused with a message."""
from __future__ import annotations

import re

from app.audit.history import HISTORY_PAGE_SIZE, NEWEST_REVISIONS
from tests.contributions.support import page, text_of
from tests.queries import many_edits, statements_of


def link(html: str, label: str) -> str:
    found = re.search(r'<a href="([^"]+)"[^>]*>' + label + "</a>", html)
    assert found, label
    return found.group(1).replace("&amp;", "&")


def test_the_history_pages_and_shows_the_newest_revisions(web, world):
    contribution_id = many_edits(world, HISTORY_PAGE_SIZE + 10)
    web.log_in_as("auditor")
    first = page(web, f"/audit/contributions/{contribution_id}")
    text = text_of(first)
    assert f"ändring {HISTORY_PAGE_SIZE + 10}." in text and "ändring 1." not in text
    assert (f"De {NEWEST_REVISIONS} nyaste av {HISTORY_PAGE_SIZE + 10} versioner." in text)
    assert f'name="from" min="1" max="{HISTORY_PAGE_SIZE + 10}"' in first
    older = page(web, link(first, "Äldre"))
    oldest = page(web, link(first, "Äldsta"))
    assert 'data-action="section.edit"' in older or "Text ändrad" in text_of(older)
    assert text_of(older) != text
    assert link(oldest, "Nyare") and "Äldre</a>" not in oldest
    # Any two revisions still compare, by number.
    compared = page(web, f"/audit/sections/{world.sections()[0].id}/compare?from=1&to=2")
    assert "[borttaget: 1. ] [tillagt: 2. ]" in text_of(compared)


def test_a_bad_page_link_is_refused_with_a_message(web, world):
    contribution_id = many_edits(world, 2)
    web.log_in_as("auditor")
    for cursor in ("abc", "0", "1~2"):
        html = page(web, f"/audit/contributions/{contribution_id}?before={cursor}", 400)
        assert "Sidlänken är inte giltig (before)." in text_of(html)


def test_a_long_history_is_a_page_of_bounded_size_and_queries(web, world):
    contribution_id = many_edits(world, HISTORY_PAGE_SIZE + 5)
    web.log_in_as("auditor")
    path = f"/audit/contributions/{contribution_id}"
    short, short_size = len(statements_of(lambda: web.client.get(path))), len(page(web, path))
    many_edits(world, 4 * HISTORY_PAGE_SIZE)
    long, long_size = len(statements_of(lambda: web.client.get(path))), len(page(web, path))
    assert short == long, (short, long)
    assert long_size < 1.1 * short_size and long_size < 200_000, (short_size, long_size)
