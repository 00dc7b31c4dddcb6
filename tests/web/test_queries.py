"""Every role's start page costs the same number of SQL statements at 10 and at 100
contributions in the open period (issue 17): the contributions come with their areas and
periods, the consolidations with their periods' contributions, and who holds the work is
looked up once per role and area."""
from __future__ import annotations

from sqlalchemy import update

from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Consolidation
from tests.factories import SETUP
from tests.periods.test_queries import half_reviewed
from tests.queries import period_with_areas, statements_of

ROLES = ("consolidator", "approver", "auditor", "reviewer", "drafter", "admin")


def close(period_id: int) -> None:
    """The period's consolidation approved (set directly), so the start pages list the same
    number of open periods at both sizes: only the number of areas differs."""
    with operation(SETUP):
        db.session.execute(update(Consolidation).where(Consolidation.period_id == period_id)
                           .values(state="approved"))


def test_every_start_page_does_not_grow_with_the_areas(world, web):
    counts: dict[str, list[int]] = {key: [] for key in ROLES}
    for areas in (10, 100):
        period_id = period_with_areas(areas)
        half_reviewed(period_id)
        for key in ROLES:
            web.log_in_as(key)
            counts[key].append(len(statements_of(lambda: web.client.get("/"))))
            web.log_out()
        close(period_id)
    assert all(small == large for small, large in counts.values()), counts


def settled(period_id: int) -> None:
    """Every contribution of the period consolidated (set directly), so its consolidation is
    the consolidator's to send for approval: her start page checks that guard on it."""
    from app.models import Contribution

    with operation(SETUP):
        db.session.execute(update(Contribution).where(Contribution.period_id == period_id)
                           .values(state="consolidated"))


def test_every_start_page_does_not_grow_with_the_open_periods(world, web):
    """Periods left open pile up work in every area: each start page still costs the same,
    the drafter's too (her contributions' sections, which the submit guard reads, come in one
    query for all), and the consolidator's reads only the consolidations whose guard can
    pass, not every contribution of every open period."""
    counts: dict[str, list[int]] = {key: [] for key in ROLES}
    opened = 0
    for periods in (2, 6):
        while opened < periods:
            opened += 1
            period_id = period_with_areas(0, name=f"öppen period {opened}")
            half_reviewed(period_id)
        settled(period_id)
        for key in ROLES:
            web.log_in_as(key)
            counts[key].append(len(statements_of(lambda: web.client.get("/"))))
            web.log_out()
    assert all(small == large for small, large in counts.values()), counts
