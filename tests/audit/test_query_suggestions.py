"""The audit log's filter form lists no contribution or user wholesale: the auditor searches,
then chooses among at most SUGGESTIONS suggestions found on the server (no JavaScript
needed); only auditors get suggestions, and a search is checked like any free text."""
from __future__ import annotations

import re

from app.audit.query import SUGGESTIONS, suggest_contributions, suggest_users
from app.extensions import db
from app.models import User
from tests.contributions.support import page, text_of
from tests.factories import head_seq
from tests.queries import period_with_areas


def the_form(html: str) -> str:
    return re.search(r'<form method="get" action="/audit/" class="audit-filters">.*?</form>',
                     html, flags=re.S).group(0)


def suggestions(html: str) -> str:
    return "".join(re.findall(r'<section aria-labelledby="suggest-.*?</section>', html,
                              flags=re.S))


def test_the_form_lists_no_contribution_and_no_user(web, world):
    web.log_in_as("auditor")
    form = the_form(page(web, "/audit/"))
    assert 'id="f-contribution-search"' in form and 'id="f-user-search"' in form
    assert "januari 2030 — Norr" not in form and "@example.se" not in form


def test_search_then_choose_a_contribution(web, world):
    web.log_in_as("auditor")
    html = page(web, "/audit/?contribution_search=januari+norr")
    assert "Välj ett bidrag" in html
    chosen = re.search(r'<a href="([^"]+)">januari 2030 — Norr</a>', html)
    assert chosen and "Söder" not in suggestions(html)
    filtered = page(web, chosen.group(1).replace("&amp;", "&"))
    contribution = world.contribution("Norr")
    assert f'name="contribution" value="{contribution.id}"' in filtered
    assert "Valt: januari 2030 — Norr" in text_of(filtered)


def test_search_then_choose_a_user(web, world):
    web.log_in_as("auditor")
    html = page(web, "/audit/?user_search=reviewer_south")
    chosen = re.search(r'<a href="([^"]+)">Reviewer South \(reviewer_south@example.se\)</a>',
                       html)
    assert chosen and "reviewer@example.se" not in suggestions(html)
    filtered = page(web, chosen.group(1).replace("&amp;", "&"))
    assert f'name="user" value="{world.users["reviewer_south"]}"' in filtered


def test_a_search_without_a_match_says_so(web, world):
    web.log_in_as("auditor")
    assert "Inget matchar ”Atlantis”." in text_of(page(web, "/audit/?user_search=Atlantis"))


def test_suggestions_are_few_however_many_contributions(world):
    period_with_areas(SUGGESTIONS + 15)
    assert len(suggest_contributions("område")) == SUGGESTIONS
    assert suggest_contributions("  ") == [] and suggest_users("") == []
    assert suggest_users("%") == []  # a wildcard is a character like any other


def test_only_auditors_get_suggestions(web, world):
    for key in ("reviewer", "consolidator", "admin"):
        web.log_in_as(key)
        response = web.client.get("/audit/?user_search=drafter&contribution_search=norr")
        assert response.status_code == 403
        html = response.get_data(as_text=True)
        assert "drafter@example.se" not in html and "januari 2030 — Norr" not in html
        web.log_out()


def test_a_bad_search_changes_nothing_and_says_why(web, world):
    web.log_in_as("auditor")
    before = head_seq()
    html = page(web, "/audit/?user_search=" + "x" * 101, 400)
    assert "Sök på högst 100 tecken." in text_of(html)
    response = web.client.get("/audit/?contribution_search=19121212-1212")
    assert response.status_code == 400
    db.session.rollback()
    assert head_seq() == before  # nothing recorded, not even the read
    assert db.session.get(User, world.users["auditor"]) is not None
