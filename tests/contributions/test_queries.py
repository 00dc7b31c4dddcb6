"""The police reviewer's contribution page costs the same number of SQL statements however
many sections the contribution has (issue 17): last period's approved texts are read in one
query for every section, not once per section, and the sections come with their topics."""
from __future__ import annotations

from datetime import date

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Contribution
from tests.factories import SETUP, advance, fill_sections, run
from tests.queries import statements_of


def test_the_reviewers_page_does_not_grow_with_the_sections(world, web):
    small = advance(world, "Norr", "police_review").id
    with operation(SETUP):
        for number in range(4, 24):  # twenty more city-wide topics: 24 sections
            admin.create_topic(SETUP, f"Tema {number}", number=number)
        world.period_id = admin.create_period(
            SETUP, "februari 2030", drafting_deadline=date(2030, 2, 10),
            review_deadline=date(2030, 2, 17), consolidation_deadline=date(2030, 2, 24),
            approval_deadline=date(2030, 2, 28)).id
    fill_sections(world)
    large = world.contribution().id
    run(world, "drafter", contributions.transition, large, "submit")
    assert len(db.session.get(Contribution, large).sections) == 24
    web.log_in_as("reviewer")
    counts = [len(statements_of(lambda c=c: web.client.get(f"/contributions/{c}")))
              for c in (small, large)]
    assert counts[0] == counts[1], counts
