"""The history tab is paged by key (app.core.paging): the newest page first, older pages,
the oldest page, and a bad page link refused with a message. A page stays the same size and
costs the same statements however long the history; only its own edits get a diff."""
from __future__ import annotations

import re

from app.contributions.presenters import HISTORY_PAGE_SIZE
from tests.contributions.support import page, text_of
from tests.queries import many_edits, statements_of


def seqs_shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="contrib-event"[^>]* data-seq="(\d+)"', html)]


def link(html: str, label: str) -> str:
    found = re.search(r'<a href="([^"]+)"[^>]*>' + label + "</a>", html)
    assert found, label
    return found.group(1).replace("&amp;", "&")


def test_the_history_pages_from_the_newest_to_the_oldest(web, world):
    contribution_id = many_edits(world, HISTORY_PAGE_SIZE + 10)
    web.log_in_as("drafter")
    first = page(web, f"/contributions/{contribution_id}/history")
    shown = seqs_shown(first)
    # The newest 50 events, oldest first on the page: the last edit's text, not the first's.
    assert len(shown) == HISTORY_PAGE_SIZE and shown == sorted(shown)
    assert f"{HISTORY_PAGE_SIZE + 10}." in text_of(first)
    assert "Nyaste" not in first and "Nyare" not in first  # already the first page
    older = page(web, link(first, "Äldre"))
    assert seqs_shown(older) and max(seqs_shown(older)) < min(shown)
    assert "Äldre</a>" not in older  # the rest fits on the second page
    oldest = page(web, link(first, "Äldsta"))  # the oldest full page, from the first event
    assert min(seqs_shown(oldest)) == min(seqs_shown(older))
    assert len(seqs_shown(oldest)) == HISTORY_PAGE_SIZE and "Äldre</a>" not in oldest
    back = page(web, link(older, "Nyare"))
    assert seqs_shown(back) == shown
    assert seqs_shown(page(web, link(older, "Nyaste"))) == shown


def test_a_bad_page_link_is_refused_with_a_message(web, world):
    contribution_id = many_edits(world, 3)
    web.log_in_as("drafter")
    for cursor in ("abc", "0", "-5", "1~2", "9" * 30, "１２"):
        html = page(web, f"/contributions/{contribution_id}/history?before={cursor}", 400)
        assert "Sidlänken är inte giltig (before). Börja om från första sidan." in text_of(html)
    html = page(web, f"/contributions/{contribution_id}/history?after=x", 400)
    assert "Sidlänken är inte giltig (after)." in text_of(html)


def test_a_page_link_past_the_end_shows_the_oldest_page(web, world):
    contribution_id = many_edits(world, 3)
    web.log_in_as("drafter")
    everything = seqs_shown(page(web, f"/contributions/{contribution_id}/history"))
    html = page(web, f"/contributions/{contribution_id}/history?before=1")
    assert seqs_shown(html) == everything and len(everything) >= 3


def test_a_long_history_is_a_page_of_bounded_size_and_queries(web, world):
    contribution_id = many_edits(world, HISTORY_PAGE_SIZE + 5)
    web.log_in_as("drafter")
    path = f"/contributions/{contribution_id}/history"
    short = statements_of(lambda: web.client.get(path))
    short_size = len(page(web, path))
    many_edits(world, 4 * HISTORY_PAGE_SIZE)
    long = statements_of(lambda: web.client.get(path))
    long_size = len(page(web, path))
    assert len(short) == len(long), (len(short), len(long))
    assert long_size < 1.1 * short_size and long_size < 200_000, (short_size, long_size)
