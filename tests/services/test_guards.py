"""The workflow guards as implemented against the database (app.contributions.policy and
app.periods.policy), called
directly, including situations the role rules make impossible to reach through the services."""
from __future__ import annotations

from datetime import date

import pytest

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.contributions import policy as contribution_guards
from app.contributions.policy import CONTRIBUTIONS
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Period
from app.periods import policy as consolidation_guards
from app.periods.policy import CONSOLIDATIONS
from tests import flow
from tests.factories import SETUP, advance, fill_sections, run
from workflows import CONSOLIDATION, CONTRIBUTION, KNOWN_GUARDS


def _guards_named_in(definition: dict) -> set[str]:
    named = {g for t in definition["transitions"] for g in t.get("guards", ())}
    named |= {g for e in definition["editors"].values() for g in e.get("guards", ())}
    return named


def test_implementations_cover_exactly_the_known_guards():
    assert set(CONTRIBUTIONS.guards) | set(CONSOLIDATIONS.guards) == set(KNOWN_GUARDS)


def test_every_guard_the_definitions_name_is_implemented():
    assert _guards_named_in(CONTRIBUTION) == set(CONTRIBUTIONS.guards)
    assert _guards_named_in(CONSOLIDATION) == set(CONSOLIDATIONS.guards)
    named = _guards_named_in(CONTRIBUTION) | _guards_named_in(CONSOLIDATION)
    assert named == set(KNOWN_GUARDS)  # and none is declared without being used


def test_guard_check_for_dispatches_by_name_with_the_actor(world):
    check = CONTRIBUTIONS.guard_check(world.user("drafter"))
    contribution = world.contribution()
    assert check("all_sections_filled", contribution).startswith("Every section")
    assert check("consolidation_open", contribution) is None
    with pytest.raises(KeyError):
        check("no_such_guard", contribution)


# --------------------------------------------------------------------------------------------
# Contribution guards
# --------------------------------------------------------------------------------------------


def test_all_sections_filled_names_the_empty_ones(world):
    sections = world.sections()
    run(world, "drafter", contributions.edit_section, sections[0].id, "Text", 1)
    message = contribution_guards.all_sections_filled(world.user("drafter"), world.contribution())
    headings = [s.topic.heading for s in world.sections()]
    assert headings[0] not in message
    assert all(h in message for h in headings[1:])
    fill_sections(world)
    drafter = world.user("drafter")
    assert contribution_guards.all_sections_filled(drafter, world.contribution()) is None


def test_is_submitter(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution()
    assert contribution_guards.is_submitter(world.user("drafter"), contribution) is None
    assert contribution_guards.is_submitter(world.user("drafter2"), contribution) is not None
    assert contribution_guards.is_submitter(SETUP, contribution) is not None


def test_not_submitter_or_editor_refuses_the_submitter(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution()
    reviewer = world.user("reviewer")
    assert contribution_guards.not_submitter_or_editor(reviewer, contribution) is None
    contribution.submitted_by_id = reviewer.id  # not committed: the guard reads the object
    assert "submitted" in contribution_guards.not_submitter_or_editor(reviewer, contribution)
    db.session.rollback()


def test_not_submitter_or_editor_refuses_an_editor_of_this_round_only(world):
    advance(world, "Norr", "police_review")
    with operation(SETUP):
        contributions.add_revision(world.sections()[1], "Polisens text", "edit",
                                   world.user("reviewer"))
    contribution = world.contribution()
    reviewer, reviewer2 = world.user("reviewer"), world.user("reviewer2")

    assert "edited" in contribution_guards.not_submitter_or_editor(reviewer, contribution)
    assert contribution_guards.not_submitter_or_editor(reviewer2, contribution) is None

    # In the next round the old edit no longer counts.
    contribution.round += 1
    assert contribution_guards.not_submitter_or_editor(reviewer, contribution) is None
    db.session.rollback()


def test_not_submitter_or_editor_refuses_a_system_actor(world):
    advance(world, "Norr", "police_review")
    assert contribution_guards.not_submitter_or_editor(SETUP, world.contribution()) == \
        "Only a person may review."


def test_consolidation_open(world):
    contribution = world.contribution()
    assert contribution_guards.consolidation_open(world.user("consolidator"), contribution) is None
    contribution.period.consolidation.state = "awaiting_approval"
    assert "not open" in contribution_guards.consolidation_open(world.user("consolidator"),
                                                                contribution)
    db.session.rollback()


# --------------------------------------------------------------------------------------------
# Consolidation guards
# --------------------------------------------------------------------------------------------


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
    assert "edited wording" in consolidation_guards.not_consolidator(world.user("consolidator2"),
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
