"""The period's overview and its consolidation page cost the same number of SQL statements at
10 and at 100 contributions (issue 17): contributions come with their areas, periods and
sections in a fixed number of queries (app.contributions.loading)."""
from __future__ import annotations

from sqlalchemy import update

from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Contribution
from tests.factories import SETUP
from tests.queries import period_with_areas, statements_of


def half_reviewed(period_id: int) -> None:
    """Every other contribution of the period in state "reviewed", so that the pages evaluate
    the consolidator's triggers and guards on each row too (set directly: only the number of
    statements is measured here, the flow has its own tests)."""
    with operation(SETUP):
        db.session.execute(update(Contribution).where(
            Contribution.period_id == period_id, Contribution.id % 2 == 0)
            .values(state="reviewed"))


def test_the_overview_and_the_consolidation_do_not_grow_with_the_areas(world, web):
    periods = []
    for areas in (10, 100):
        periods.append(period_with_areas(areas))
        half_reviewed(periods[-1])
    counts: dict[str, list[int]] = {}
    for key in ("consolidator", "approver", "auditor"):
        web.log_in_as(key)
        for period_id in periods:
            for page in ("", "/consolidation"):
                counts.setdefault(f"{key} {page or 'overview'}", []).append(len(statements_of(
                    lambda p=period_id, page=page: web.client.get(f"/periods/{p}{page}"))))
        web.log_out()
    assert all(small == large for small, large in counts.values()), counts
