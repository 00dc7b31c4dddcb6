"""The consolidation workflow's guards as implemented against the database (app.periods.policy),
called directly, including situations the role rules make impossible to reach through the
operations."""
from __future__ import annotations

from datetime import date

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Period
from app.periods import policy as consolidation_guards
from tests import flow
from tests.factories import SETUP, advance, run


def test_all_contributions_settled(world):
    consolidation = world.period().consolidation
    consolidator = world.user("consolidator")
    message = consolidation_guards.all_contributions_settled(consolidator, consolidation)
    assert message.endswith("Not yet: Norr, Söder")

    advance(world, "Norr", "consolidated")
    consolidation = world.period().consolidation
    assert consolidation_guards.all_contributions_settled(consolidator, consolidation).endswith(
        "Not yet: Söder")

    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id, "Saknas")
    assert consolidation_guards.all_contributions_settled(world.user("consolidator"),
                                            world.period().consolidation) is None


def test_not_consolidator(world):
    advance(world, "Norr", "reviewed")
    section = world.sections()[0]
    run(world, "consolidator2", contributions.edit_section, section.id, "Ny formulering",
        section.version)
    run(world, "consolidator", flow.consolidate, world.contribution().id)
    consolidation = world.period().consolidation

    assert "consolidated" in consolidation_guards.not_consolidator(world.user("consolidator"),
                                                                   consolidation)
    assert "edited texts" in consolidation_guards.not_consolidator(world.user("consolidator2"),
                                                       consolidation)
    assert consolidation_guards.not_consolidator(world.user("approver"), consolidation) is None
    assert (consolidation_guards.not_consolidator(SETUP, consolidation)
            == "Only a person may approve.")

    consolidation.submitted_by_id = world.users["approver2"]
    assert "submitted" in consolidation_guards.not_consolidator(world.user("approver2"),
                                                                consolidation)
    db.session.rollback()


def test_not_consolidator_looks_only_at_this_period(world):
    """Consolidating in another period does not bar approving this one."""
    advance(world, "Norr", "consolidated")
    with operation(SETUP):
        other = admin.create_period(SETUP, "februari 2030", drafting_deadline=date(2030, 2, 1),
                                    review_deadline=date(2030, 2, 2),
                                    consolidation_deadline=date(2030, 2, 3),
                                    approval_deadline=date(2030, 2, 4))
        other_id = other.id
    other_consolidation = db.session.get(Period, other_id).consolidation
    assert consolidation_guards.not_consolidator(world.user("consolidator"),
                                                 other_consolidation) is None


def test_the_guard_in_sql_says_what_the_guard_says(world):
    """contributions_settled_in_sql (what the start page asks the database first) agrees with
    all_contributions_settled on every mix of states and exclusions of the period's two
    contributions (set directly: the rule is what is compared, not the flow)."""
    import itertools

    from sqlalchemy import select, update

    from app.models import Consolidation, Contribution

    period_id = world.period().id
    ids = [world.contribution(area).id for area in ("Norr", "Söder")]
    kinds = [("draft", None), ("reviewed", None), ("consolidated", None), ("draft", "Saknas"),
             ("consolidated", "Saknas")]
    for mix in itertools.product(kinds, repeat=2):
        with operation(SETUP):
            for contribution_id, (state, reason) in zip(ids, mix, strict=True):
                db.session.execute(update(Contribution).where(Contribution.id == contribution_id)
                                   .values(state=state, excluded_reason=reason))
        db.session.expire_all()
        consolidation = world.period().consolidation
        by_guard = consolidation_guards.all_contributions_settled(
            world.user("consolidator"), consolidation) is None
        in_sql = db.session.scalar(select(Consolidation.id).where(
            Consolidation.period_id == period_id,
            consolidation_guards.contributions_settled_in_sql())) is not None
        assert by_guard == in_sql, mix
