"""Service tests for app.periods.operations: submitting the period's consolidation for
approval, approving it (which approves and locks every consolidated contribution) and
returning it, with roles, separation of duties and the audit trail."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, StaleVersion
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, Consolidation, Section
from app.periods import operations as consolidations
from tests import flow
from tests.factories import SETUP, advance, data_of, events_since, head_seq, run
from tests.support import assert_security_event, refused

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------



def consolidation(world) -> Consolidation:
    return world.period().consolidation



def ready_for_approval(world, south: str = "exclude") -> int:
    """Norr consolidated; Söder consolidated too, or excluded while still a draft.
    Returns the consolidation id, still open."""
    advance(world, "Norr", "consolidated")
    if south == "exclude":
        run(world, "consolidator", contributions.exclude, world.contribution("Söder").id,
            "Inget bidrag denna period.")
    else:
        advance(world, "Söder", "consolidated")
    return consolidation(world).id


def awaiting_approval(world, south: str = "exclude") -> int:
    consolidation_id = ready_for_approval(world, south)
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    return consolidation_id


def grant(world, key: str, role: str) -> None:
    with operation(SETUP):
        admin.grant_role(SETUP, world.user(key), role)


# --------------------------------------------------------------------------------------------
# Submit for approval
# --------------------------------------------------------------------------------------------


def test_period_starts_with_an_open_consolidation(world):
    c = consolidation(world)
    assert (c.state, c.version, c.submitted_by_id, c.approved_by_id) == ("open", 1, None, None)


@pytest.mark.parametrize(("norr", "south", "missing"), [
    ("draft", "draft", ["Norr", "Söder"]),
    ("consolidated", "draft", ["Söder"]),
    ("consolidated", "police_review", ["Söder"]),
    ("consolidated", "reviewed", ["Söder"]),
    ("reviewed", "consolidated", ["Norr"]),
])
def test_submit_for_approval_waits_for_every_contribution(world, norr, south, missing):
    advance(world, "Norr", norr)
    advance(world, "Söder", south)
    consolidation_id = consolidation(world).id

    error, events = refused(world, "consolidator", InvalidTransition,
                            flow.submit_for_approval, consolidation_id)

    named = error.message.split("Not yet:")[1]
    assert sorted(a.strip() for a in named.split(",")) == missing
    assert events == []  # an unmet precondition is not a security event
    assert consolidation(world).state == "open"


def test_submit_for_approval_needs_at_least_one_consolidated(world):
    for area in ("Norr", "Söder"):
        run(world, "consolidator", contributions.exclude, world.contribution(area).id,
            "Inget underlag.")
    error, events = refused(world, "consolidator", InvalidTransition,
                            flow.submit_for_approval, consolidation(world).id)
    assert "At least one" in error.message
    assert events == []


@pytest.mark.parametrize("south", ["exclude", "consolidate"])
def test_submit_for_approval(world, south):
    consolidation_id = ready_for_approval(world, south)
    version = consolidation(world).version
    before = head_seq()

    run(world, "consolidator", flow.submit_for_approval, consolidation_id,
        expected_version=version)

    c = consolidation(world)
    assert c.state == "awaiting_approval"
    assert c.version == version + 1
    assert c.submitted_by_id == world.users["consolidator"]
    assert c.submitted_at is not None
    [event] = events_since(before)
    assert event.action == "consolidation.submit_for_approval"
    assert (event.from_state, event.to_state) == ("open", "awaiting_approval")
    assert (event.object_type, event.object_id) == ("consolidation", str(consolidation_id))
    data = data_of(event)
    assert data["period"] == "januari 2030"
    assert data["version"] == c.version
    assert data["remarks"] == [] and data["approved_contributions"] == []
    assert verify_chain().ok


def test_reopened_contribution_blocks_submission_again(world):
    consolidation_id = ready_for_approval(world)
    run(world, "consolidator", flow.reopen, world.contribution("Norr").id,
        "Polisens siffror har ändrats.")
    error, events = refused(world, "consolidator", InvalidTransition,
                            flow.submit_for_approval, consolidation_id)
    assert "Norr" in error.message and "Söder" not in error.message.split("Not yet:")[1]


# --------------------------------------------------------------------------------------------
# Approve
# --------------------------------------------------------------------------------------------


def test_approve_finalizes_every_consolidated_contribution(world):
    consolidation_id = awaiting_approval(world, south="consolidate")
    ids = {area: world.contribution(area).id for area in ("Norr", "Söder")}
    versions = {area: world.contribution(area).version for area in ("Norr", "Söder")}
    before = head_seq()

    run(world, "approver", flow.approve_consolidation, consolidation_id)

    c = consolidation(world)
    assert c.state == "approved"
    assert c.approved_by_id == world.users["approver"]
    assert c.approved_at is not None
    for area in ids:
        contribution = world.contribution(area)
        assert contribution.state == "approved"
        assert contribution.version == versions[area] + 1
    events = events_since(before)
    assert [e.action for e in events] == [
        "contribution.finalize", "contribution.finalize", "consolidation.approve"]
    finalize = {int(e.object_id): e for e in events[:2]}
    assert set(finalize) == set(ids.values())
    for event in finalize.values():
        assert (event.from_state, event.to_state) == ("consolidated", "approved")
        assert event.actor_id == world.users["approver"]
        assert data_of(event)["consolidation_id"] == consolidation_id
    approve = events[-1]
    assert (approve.from_state, approve.to_state) == ("awaiting_approval", "approved")
    assert sorted(data_of(approve)["approved_contributions"]) == sorted(ids.values())
    assert verify_chain().ok


@pytest.mark.parametrize("south_state", ["draft", "reviewed", "consolidated"])
def test_approve_leaves_excluded_contributions_as_they_were(world, south_state):
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", south_state)
    south_id = world.contribution("Söder").id
    run(world, "consolidator", contributions.exclude, south_id, "Sent inkommet.")
    south_version = world.contribution("Söder").version
    consolidation_id = consolidation(world).id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    before = head_seq()

    run(world, "approver", flow.approve_consolidation, consolidation_id)

    south = world.contribution("Söder")
    assert (south.state, south.version, south.excluded_reason) == \
        (south_state, south_version, "Sent inkommet.")
    assert world.contribution("Norr").state == "approved"
    events = events_since(before)
    finalized = [e for e in events if e.action == "contribution.finalize"]
    assert [e.object_id for e in finalized] == [str(world.contribution("Norr").id)]
    assert data_of(events[-1])["approved_contributions"] == [world.contribution("Norr").id]


@pytest.mark.parametrize(("key", "expected"), [
    ("drafter", InvalidTransition),
    ("consolidator", InvalidTransition),
])
def test_approved_contributions_can_no_longer_be_edited(world, key, expected):
    consolidation_id = awaiting_approval(world)
    run(world, "approver", flow.approve_consolidation, consolidation_id)
    section = world.sections("Norr")[0]
    section_id, version, text = section.id, section.version, section.text

    error, events = refused(world, key, expected, contributions.edit_section, section_id,
                            "Ändrat efter fastställelse", version)

    assert_security_event(events, "security.transition_refused", world.users[key],
                          "section.edit", "section", section_id)
    section = db.session.get(Section, section_id)
    assert (section.text, section.version) == (text, version)


@pytest.mark.parametrize(("key", "trigger", "kwargs"), [
    ("consolidator", "reopen", {"reason": "För sent?"}),
    ("consolidator", "consolidate", {}),
    ("drafter", "submit", {}),
])
def test_approved_contributions_cannot_move(world, key, trigger, kwargs):
    consolidation_id = awaiting_approval(world)
    run(world, "approver", flow.approve_consolidation, consolidation_id)
    contribution_id = world.contribution("Norr").id

    error, events = refused(world, key, InvalidTransition, contributions.transition,
                            contribution_id, trigger, **kwargs)

    assert_security_event(events, "security.transition_refused", world.users[key],
                          f"contribution.{trigger}", "contribution", contribution_id)
    assert world.contribution("Norr").state == "approved"


def test_approved_contribution_cannot_be_excluded(world):
    consolidation_id = awaiting_approval(world)
    run(world, "approver", flow.approve_consolidation, consolidation_id)
    error, events = refused(world, "consolidator", InvalidTransition, contributions.exclude,
                            world.contribution("Norr").id, "Efterhand")
    assert "not open" in error.message
    assert events == []
    assert world.contribution("Norr").excluded_reason is None


def test_approved_consolidation_is_final(world):
    consolidation_id = awaiting_approval(world)
    run(world, "approver", flow.approve_consolidation, consolidation_id)
    for key, function, args in (
        ("approver2", flow.return_consolidation, (["Ändra"],)),
        ("approver2", flow.approve_consolidation, ()),
        ("consolidator", flow.submit_for_approval, ()),
    ):
        error, events = refused(world, key, InvalidTransition, function, consolidation_id,
                                *args)
        assert [e.action for e in events] == ["security.transition_refused"]
    assert consolidation(world).state == "approved"


# --------------------------------------------------------------------------------------------
# Return
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("remarks", [[], [""], ["   \n"]], ids=["none", "empty", "blank"])
def test_return_requires_remarks(world, remarks):
    consolidation_id = awaiting_approval(world)
    error, events = refused(world, "approver", InvalidInput,
                            flow.return_consolidation, consolidation_id, remarks)
    assert events == []
    assert consolidation(world).state == "awaiting_approval"


def test_return_reopens_the_consolidation_with_remarks(world):
    consolidation_id = awaiting_approval(world)
    before = head_seq()

    run(world, "approver", flow.return_consolidation, consolidation_id,
        ["Sammanfattningen saknas.", "  "])

    c = consolidation(world)
    assert c.state == "open"
    [remark] = c.remarks
    assert (remark.text, remark.trigger, remark.contribution_id, remark.author_id) == \
        ("Sammanfattningen saknas.", "return", None, world.users["approver"])
    [event] = events_since(before)
    assert event.action == "consolidation.return"
    assert (event.from_state, event.to_state) == ("awaiting_approval", "open")
    assert data_of(event)["remarks"] == [{"remark_id": remark.id,
                                          "text": "Sammanfattningen saknas."}]
    # Contributions are untouched, and the consolidator can work again.
    assert world.contribution("Norr").state == "consolidated"
    run(world, "consolidator", flow.reopen, world.contribution("Norr").id,
        "Sammanfattningen ska skrivas om.")
    assert world.contribution("Norr").state == "returned"


def test_return_refuses_a_personnummer_in_the_remarks(world):
    consolidation_id = awaiting_approval(world)
    nine = "760312457"
    total = sum((p // 10 + p % 10) for p in (int(ch) * (2 - i % 2) for i, ch in enumerate(nine)))
    number = nine + str((10 - total % 10) % 10)
    error, events = refused(world, "approver", InvalidInput,
                            flow.return_consolidation, consolidation_id,
                            [f"Gäller {number[:6]}-{number[6:]}"])
    assert number[6:] not in error.message
    assert events == []
    assert not any(number[6:] in e.data for e in db.session.scalars(select(AuditEvent)))


# --------------------------------------------------------------------------------------------
# While awaiting approval, the consolidation is frozen
# --------------------------------------------------------------------------------------------


def test_consolidate_reopen_edit_exclude_refused_while_awaiting_approval(world):
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "reviewed")
    south_id, north_id = world.contribution("Söder").id, world.contribution("Norr").id
    run(world, "consolidator", contributions.exclude, south_id, "Kom in för sent.")
    consolidation_id = consolidation(world).id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    section = world.sections("Norr")[0]

    attempts = [
        (InvalidTransition, flow.consolidate, (south_id,), {}),
        (InvalidTransition, flow.reopen, (north_id, "Fel siffror"), {}),
        (InvalidTransition, flow.reopen, (south_id, "Fel siffror"), {}),
        (InvalidTransition, contributions.include, (south_id,), {}),
        (InvalidTransition, contributions.exclude, (north_id, "Ändå inte"), {}),
        (InvalidTransition, contributions.edit_section,
         (section.id, "Ny formulering", section.version), {}),
    ]
    for error_type, function, args, kwargs in attempts:
        error, events = refused(world, "consolidator", error_type, function, *args, **kwargs)
        if function is contributions.edit_section:
            assert [e.action for e in events] == ["security.transition_refused"]
        else:
            assert events == []  # the consolidation_open precondition: not a security event
            assert "not open" in error.message

    assert world.contribution("Norr").state == "consolidated"
    assert world.contribution("Söder").state == "reviewed"
    assert world.contribution("Söder").excluded_reason == "Kom in för sent."


# --------------------------------------------------------------------------------------------
# Roles and separation of duties
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "trigger"), [
    ("consolidator", "approve"),
    ("consolidator", "return"),
    ("drafter", "approve"),
    ("reviewer", "approve"),
    ("auditor", "approve"),
    ("auditor", "return"),
    ("admin", "approve"),
])
def test_only_approvers_approve_or_return(world, key, trigger):
    consolidation_id = awaiting_approval(world)
    kwargs = {"remarks": ["Nej."]} if trigger == "return" else {}
    error, events = refused(world, key, NotAllowed, consolidations.transition,
                            consolidation_id, trigger, **kwargs)
    assert_security_event(events, "security.permission_denied", world.users[key],
                          f"consolidation.{trigger}", "consolidation", consolidation_id)
    assert consolidation(world).state == "awaiting_approval"


@pytest.mark.parametrize("key", ["approver", "drafter", "reviewer", "auditor", "admin"])
def test_only_the_consolidator_submits_for_approval(world, key):
    consolidation_id = ready_for_approval(world)
    error, events = refused(world, key, NotAllowed, flow.submit_for_approval,
                            consolidation_id)
    assert_security_event(events, "security.permission_denied", world.users[key],
                          "consolidation.submit_for_approval", "consolidation",
                          consolidation_id)
    assert consolidation(world).state == "open"


def test_approve_an_open_consolidation_is_a_wrong_state(world):
    consolidation_id = ready_for_approval(world)
    error, events = refused(world, "approver", InvalidTransition, flow.approve_consolidation,
                            consolidation_id)
    assert_security_event(events, "security.transition_refused", world.users["approver"],
                          "consolidation.approve", "consolidation", consolidation_id)
    assert world.contribution("Norr").state == "consolidated"


def test_stale_consolidation_version_is_refused(world):
    consolidation_id = awaiting_approval(world)
    stale = consolidation(world).version - 1
    error, events = refused(world, "approver", StaleVersion, flow.approve_consolidation,
                            consolidation_id, expected_version=stale)
    assert error.details["current_version"] == stale + 1
    assert events == []
    assert world.contribution("Norr").state == "consolidated"


@pytest.mark.parametrize("scenario", ["consolidated", "submitted", "edited wording"])
@pytest.mark.parametrize("trigger", ["approve", "return"])
def test_nobody_approves_a_consolidation_they_worked_on(world, scenario, trigger):
    """consolidator2 also holds the approver role (a legitimate grant for the city office)."""
    grant(world, "consolidator2", "approver")
    advance(world, "Norr", "reviewed")
    north_id = world.contribution("Norr").id
    if scenario == "edited wording":
        section = world.sections("Norr")[0]
        run(world, "consolidator2", contributions.edit_section, section.id,
            "Samordnarens formulering", section.version)
    run(world, "consolidator2" if scenario == "consolidated" else "consolidator",
        flow.consolidate, north_id)
    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id,
        "Inget underlag.")
    consolidation_id = consolidation(world).id
    run(world, "consolidator2" if scenario == "submitted" else "consolidator",
        flow.submit_for_approval, consolidation_id)
    kwargs = {"remarks": ["Nej."]} if trigger == "return" else {}

    error, events = refused(world, "consolidator2", NotAllowed, consolidations.transition,
                            consolidation_id, trigger, **kwargs)

    data = assert_security_event(events, "security.permission_denied",
                                 world.users["consolidator2"], f"consolidation.{trigger}",
                                 "consolidation", consolidation_id)
    assert scenario.split()[0] in data["reason"]
    assert consolidation(world).state == "awaiting_approval"
    assert world.contribution("Norr").state == "consolidated"

    # Someone who took no part may.
    run(world, "approver", consolidations.transition, consolidation_id, trigger, **kwargs)
    assert consolidation(world).state == ("approved" if trigger == "approve" else "open")


def test_consolidator_with_approver_role_who_took_no_part_may_approve(world):
    grant(world, "consolidator2", "approver")
    consolidation_id = awaiting_approval(world)
    run(world, "consolidator2", flow.approve_consolidation, consolidation_id)
    assert consolidation(world).state == "approved"
    assert world.contribution("Norr").state == "approved"


def test_return_then_resubmit_then_approve_full_cycle(world):
    consolidation_id = awaiting_approval(world)
    run(world, "approver", flow.return_consolidation, consolidation_id,
        ["Justera rubriken."])
    section = world.sections("Norr")[0]
    run(world, "consolidator", contributions.edit_section, section.id, "Justerad rubrik",
        section.version)
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver", flow.approve_consolidation, consolidation_id)

    assert consolidation(world).state == "approved"
    assert world.contribution("Norr").state == "approved"
    assert world.sections("Norr")[0].text == "Justerad rubrik"
    actions = [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "consolidation")
        .order_by(AuditEvent.seq))]
    assert actions == ["consolidation.submit_for_approval", "consolidation.return",
                       "consolidation.submit_for_approval", "consolidation.approve"]
    assert verify_chain().ok
