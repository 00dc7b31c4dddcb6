"""The period list and a period's overview: who sees what, states told in text, progress,
exclusions, links only where the user may read the contribution, both languages."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.unit_of_work import operation
from app.models import AuditEvent
from tests.factories import PASSWORD, SETUP, advance, run


def open_period(name: str, first: date):
    with operation(SETUP):
        return admin.create_period(SETUP, name, drafting_deadline=first,
                                   review_deadline=first.replace(day=first.day + 1),
                                   consolidation_deadline=first.replace(day=first.day + 2),
                                   approval_deadline=first.replace(day=first.day + 3)).id


def page(web, path: str, status: int = 200) -> str:
    response = web.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def matrix_rows(html: str) -> dict[str, str]:
    """area name -> the state named in that row."""
    rows = re.findall(r'<tr data-area="([^"]+)" data-state="([^"]+)">', html)
    return dict(rows)


def contribution_link(contribution_id: int) -> str:
    return f'href="/contributions/{contribution_id}"'


def test_signed_out_users_are_sent_to_log_in(web, world):
    for path in ("/periods", f"/periods/{world.period_id}"):
        response = web.client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_a_user_without_roles_is_refused_and_it_is_logged(web, world, audit_events):
    with operation(SETUP):
        admin.create_user(SETUP, email="nobody@example.se", name="Nobody",
                          organisation_name="Stadsledningskontoret", password=PASSWORD)
    web.log_in("nobody@example.se")

    assert "Perioder" not in page(web, "/")
    html = page(web, "/periods", 403)
    assert "Du har ingen roll som får se perioderna." in html
    page(web, f"/periods/{world.period_id}", 403)
    assert [e.data for e in audit_events("security.permission_denied")][-1].count("period.view")


def test_list_shows_periods_newest_first_with_their_consolidation_state(web, world):
    later = open_period("februari 2030", date(2030, 2, 10))
    web.log_in_as("drafter")

    html = page(web, "/periods")

    assert "<h1>Perioder</h1>" in html
    assert html.index("Lägesbild februari 2030") < html.index("Lägesbild januari 2030")
    assert f'href="/periods/{later}"' in html and f'href="/periods/{world.period_id}"' in html
    assert '<span class="state state-open">Öppen</span>' in html
    assert "Utkast: 2" in html
    # The main menu offers the page.
    assert '<a href="/periods" aria-current="page">Perioder</a>' in html


def test_overview_names_each_areas_state_counts_and_progress(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")

    html = page(web, f"/periods/{world.period_id}")

    assert "<h1>Lägesbild januari 2030</h1>" in html
    assert matrix_rows(html) == {"Norr": "reviewed", "Söder": "draft"}
    # The state is in text (the visually hidden name and the last column), not colour alone.
    assert '<span class="periods-sr">Granskad</span>' in html
    assert '<span class="state state-reviewed">Granskad</span>' in html
    assert '<td data-count="reviewed">1</td>' in html
    assert '<td data-count="draft">1</td>' in html
    assert "1 av 2 granskade av polisen" in html
    assert "1 av 2 skickade till polisen" in html
    assert "0 av 2 sammanställda" in html
    assert "Teckenförklaring" in html
    assert "2030" in html and "Sista dagar" in html
    assert f'href="/periods/{world.period_id}/consolidation"' in html


def test_drafters_see_every_state_but_links_only_into_their_own_area(web, world):
    web.log_in_as("drafter")

    html = page(web, f"/periods/{world.period_id}")

    assert set(matrix_rows(html)) == {"Norr", "Söder"}
    assert contribution_link(world.contribution("Norr").id) in html
    assert contribution_link(world.contribution("Söder").id) not in html
    # The consolidation page is the city office's: no link to it.
    assert "/consolidation" not in html


@pytest.mark.parametrize("key, links", [("reviewer_south", {"Söder"}),
                                        ("auditor", {"Norr", "Söder"}),
                                        ("approver", {"Norr", "Söder"}),
                                        ("admin", set())])
def test_links_follow_who_may_read_the_contribution(web, world, key, links):
    web.log_in_as(key)

    html = page(web, f"/periods/{world.period_id}")

    for area in ("Norr", "Söder"):
        assert (contribution_link(world.contribution(area).id) in html) == (area in links), area


def test_excluded_area_is_marked_with_its_reason(web, world):
    advance(world, "Norr", "consolidated")
    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id,
        "Inget bidrag denna period <b>alls</b>.")
    web.log_in_as("auditor")

    html = page(web, f"/periods/{world.period_id}")

    assert "Undantaget från sammanställningen:" in html
    assert "Inget bidrag denna period &lt;b&gt;alls&lt;/b&gt;." in html  # escaped
    assert "Områden undantagna från sammanställningen: 1" in html
    # Progress counts only the areas taken into the consolidation.
    assert "1 av 1 sammanställda" in html


def test_unknown_period_is_404(web, world):
    web.log_in_as("consolidator")
    assert "Det finns ingen period 999." in page(web, "/periods/999", 404)


def test_overview_in_english(web, world):
    advance(world, "Söder", "police_review")
    web.log_in_as("reviewer")
    web.client.post("/language", data={"lang": "en", "next": "/",
                                       "csrf_token": web.csrf_token("/")})

    html = page(web, f"/periods/{world.period_id}")
    listing = page(web, "/periods")

    assert '<html lang="en">' in html
    assert "Areas and states" in html and "Police review" in html
    assert "0 of 2 reviewed by the police" in html and "1 of 2 submitted to the police" in html
    assert "Legend:" in html and "Områden" not in html
    assert "Every period, newest first" in listing
    assert '<a href="/periods" aria-current="page">Periods</a>' in listing


def test_reading_the_overview_changes_nothing(web, world, db_session):
    web.log_in_as("drafter")
    db_session.rollback()
    before = db_session.scalars(select(AuditEvent)).all()
    page(web, f"/periods/{world.period_id}")
    page(web, "/periods")
    db_session.rollback()
    assert len(db_session.scalars(select(AuditEvent)).all()) == len(before)
