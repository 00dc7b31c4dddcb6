"""The workflow guards as implemented against the database (app.contributions.policy; the
consolidation's are in tests/periods/test_policy.py), called directly, including situations
the role rules make impossible to reach through the operations."""
from __future__ import annotations

import pytest

from app.contributions import operations as contributions
from app.contributions import policy as contribution_guards
from app.contributions.policy import CONTRIBUTIONS
from app.core.unit_of_work import operation
from app.extensions import db
from app.periods.policy import CONSOLIDATIONS
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
# The rules the page and the operation share
# --------------------------------------------------------------------------------------------

def test_may_exclude_only_the_coordinator_while_the_consolidation_is_open(world):
    contribution = world.contribution()
    assert contribution_guards.may_exclude(world.user("consolidator"), contribution)
    for key in ("drafter", "reviewer", "approver", "auditor", "admin"):
        assert not contribution_guards.may_exclude(world.user(key), contribution)
    contribution.period.consolidation.state = "awaiting_approval"
    assert not contribution_guards.may_exclude(world.user("consolidator"), contribution)
    db.session.rollback()


def test_the_editor_entry_follows_the_definition(world):
    contribution = world.contribution()
    assert contribution_guards.editor_for(world.user("drafter"), contribution).cause == "edit"
    assert contribution_guards.editor_for(world.user("drafter_south"), contribution) is None
    advance(world, "Norr", "reviewed")
    contribution = world.contribution()
    assert contribution_guards.editor_for(world.user("drafter"), contribution) is None
    editor = contribution_guards.editor_for(world.user("consolidator"), contribution)
    assert editor.cause == "consolidation_edit"


def test_require_editor_says_why_not(world):
    from app.core.errors import InvalidTransition, NotAllowed

    contribution = world.contribution()
    section_id = contribution.ordered_sections[0].id
    with pytest.raises(NotAllowed, match="not have a role that may edit") as refused:
        contribution_guards.require_editor(world.user("auditor"), contribution, section_id)
    assert refused.value.details["action"] == "section.edit"
    advance(world, "Norr", "police_review")
    with pytest.raises(InvalidTransition, match="cannot be edited by you") as refused:
        contribution_guards.require_editor(world.user("drafter"), world.contribution(),
                                           section_id, action="section.cross_reference")
    assert refused.value.details == {"action": "section.cross_reference",
                                     "object_type": "section", "object_id": section_id,
                                     "log_refusal": True}
