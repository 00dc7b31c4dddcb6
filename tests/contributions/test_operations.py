"""Service tests for app.contributions.operations: editing sections and moving a contribution
through its workflow, with the audit trail, area scope, roles, separation of duties, rounds,
stale versions and the text rules."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.contributions.operations import RemarkInput
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, StaleVersion
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, Remark, Section, SectionRevision
from tests import flow
from tests.factories import (
    SETUP,
    advance,
    data_of,
    events_since,
    fill_sections,
    head_seq,
    run,
)
from tests.support import assert_security_event, refused

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------




def luhn_check_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


# A Luhn-valid personnummer (10 digits), computed here rather than copied from anywhere.
PNR_DIGITS = "850709317" + luhn_check_digit("850709317")
PNR_DASHED = f"{PNR_DIGITS[:6]}-{PNR_DIGITS[6:]}"


def stored_anywhere(needle: str) -> list[str]:
    """Every place in the content and audit tables where `needle` occurs."""
    places = []
    for table, column in ((AuditEvent, AuditEvent.data), (SectionRevision, SectionRevision.text),
                          (Section, Section.text), (Remark, Remark.text)):
        for value in db.session.scalars(select(column)):
            if needle in (value or ""):
                places.append(f"{table.__tablename__}: {value[:80]!r}")
    return places


def first_section(world, area: str = "Norr") -> Section:
    return world.sections(area)[0]


# --------------------------------------------------------------------------------------------
# Editing sections
# --------------------------------------------------------------------------------------------


def test_edit_section_stores_text_revision_and_one_event(world):
    section = first_section(world)
    section_id, version = section.id, section.version
    before = head_seq()

    run(world, "drafter", contributions.edit_section, section_id, "- Läget är lugnt.  \r\n",
        version)

    section = db.session.get(Section, section_id)
    assert section.text == "- Läget är lugnt."  # normalised: CRLF, trailing spaces
    assert section.version == version + 1
    assert section.updated_by_id == world.users["drafter"]
    [revision] = section.revisions
    assert (revision.number, revision.text, revision.cause, revision.round) == \
        (1, "- Läget är lugnt.", "edit", 1)
    assert revision.author_id == world.users["drafter"]

    [event] = events_since(before)
    assert event.action == "section.edit"
    assert (event.object_type, event.object_id) == ("section", str(section_id))
    assert event.actor_id == world.users["drafter"]
    assert event.actor_organisation == "Norra stadsdelsförvaltningen"
    data = data_of(event)
    assert data["revision_id"] == revision.id
    assert data["revision_number"] == 1
    assert data["section_version"] == section.version
    assert data["contribution_id"] == section.contribution_id
    assert data["characters"] == len("- Läget är lugnt.")
    assert data["text_sha256"] == contributions.text_fingerprint("- Läget är lugnt.")
    assert data["previous_text_sha256"] == contributions.text_fingerprint("")
    # The audit event records a fingerprint, not the text itself.
    assert "Läget" not in event.data
    assert verify_chain().ok


def test_second_edit_numbers_the_next_revision(world):
    section_id = first_section(world).id
    run(world, "drafter", contributions.edit_section, section_id, "Första", 1)
    run(world, "drafter2", contributions.edit_section, section_id, "Andra", 2)

    section = db.session.get(Section, section_id)
    assert [(r.number, r.text, r.author_id) for r in section.revisions] == [
        (1, "Första", world.users["drafter"]),
        (2, "Andra", world.users["drafter2"]),
    ]
    assert section.text == "Andra"
    assert section.version == 3


def test_saving_unchanged_text_writes_no_revision_and_no_event(world):
    section_id = first_section(world).id
    run(world, "drafter", contributions.edit_section, section_id, "Samma text", 1)
    before = head_seq()

    run(world, "drafter", contributions.edit_section, section_id, "Samma text \n\n", 2)

    section = db.session.get(Section, section_id)
    assert section.version == 2
    assert len(section.revisions) == 1
    assert events_since(before) == []


def test_edit_with_stale_version_is_refused_and_changes_nothing(world):
    section_id = first_section(world).id
    run(world, "drafter", contributions.edit_section, section_id, "Version två", 1)

    error, events = refused(world, "drafter2", StaleVersion, contributions.edit_section,
                            section_id, "Skriver över", 1)

    assert error.details["expected_version"] == 1
    assert error.details["current_version"] == 2
    assert events == []
    section = db.session.get(Section, section_id)
    assert section.text == "Version två"
    assert len(section.revisions) == 1


def test_a_failing_audit_write_rolls_back_the_edit(world, monkeypatch):
    section_id = first_section(world).id

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(contributions, "record_event", broken)
    before = head_seq()
    with pytest.raises(RuntimeError):
        run(world, "drafter", contributions.edit_section, section_id, "Ny text", 1)

    section = db.session.get(Section, section_id)
    assert (section.text, section.version) == ("", 1)
    assert section.revisions == []
    assert events_since(before) == []


# --------------------------------------------------------------------------------------------
# Text rules through the service
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    pytest.param("x" * 20_001, id="too-long"),
    pytest.param("före\x00efter", id="nul"),
    pytest.param("före\x07efter", id="control-char"),
    pytest.param("före\u202eefter", id="bidi-override"),
    pytest.param(b"f\xf6re", id="invalid-utf8-bytes"),
    pytest.param("Personen " + PNR_DASHED + " greps.", id="personnummer-dashed"),
    pytest.param("Personen " + PNR_DIGITS + " greps.", id="personnummer-digits"),
])
def test_forbidden_text_is_refused_and_stores_nothing(world, text):
    section_id = first_section(world).id

    error, events = refused(world, "drafter", InvalidInput, contributions.edit_section,
                            section_id, text, 1)

    assert error.details["field"] == "text"
    assert events == []
    section = db.session.get(Section, section_id)
    assert (section.text, section.version, section.revisions) == ("", 1, [])


def test_exactly_the_limit_is_accepted(world):
    section_id = first_section(world).id
    run(world, "drafter", contributions.edit_section, section_id, "x" * 20_000, 1)
    assert len(db.session.get(Section, section_id).text) == 20_000


def test_personnummer_reaches_neither_database_nor_audit_trail(world):
    assert PNR_DIGITS[:6] == "850709" and len(PNR_DIGITS) == 10
    section_id = first_section(world).id
    attempts = [
        # A drafter's section text.
        ("drafter", contributions.edit_section, (section_id, f"Se {PNR_DASHED}.", 1), {}),
        # Someone without access to the area: refused (and logged) before the text is read.
        ("drafter_south", contributions.edit_section, (section_id, f"Se {PNR_DASHED}.", 1),
         {}),
    ]
    for key, function, args, kwargs in attempts:
        with pytest.raises((InvalidInput, NotAllowed)) as info:
            run(world, key, function, *args, **kwargs)
        assert PNR_DIGITS[6:] not in str(info.value)
        assert PNR_DIGITS[6:] not in json.dumps(info.value.details, default=str)

    # A reviewer's remark and a consolidator's reason.
    advance(world, "Norr", "police_review")
    contribution_id = world.contribution().id
    with pytest.raises(InvalidInput):
        run(world, "reviewer", flow.return_with_remarks, contribution_id,
            [RemarkInput(f"Stryk {PNR_DIGITS}", section_id)])
    assert world.contribution().state == "police_review"
    run(world, "reviewer", flow.approve, contribution_id)
    with pytest.raises(InvalidInput):
        run(world, "consolidator", flow.reopen, contribution_id,
            f"Gäller {PNR_DASHED}")
    with pytest.raises(InvalidInput):
        run(world, "consolidator", contributions.exclude, contribution_id,
            f"Gäller {PNR_DASHED}")
    assert world.contribution().state == "reviewed"
    assert world.contribution().excluded_reason is None

    assert stored_anywhere(PNR_DIGITS) == []
    assert stored_anywhere(PNR_DASHED) == []
    assert stored_anywhere(PNR_DIGITS[6:]) == []
    assert verify_chain().ok


# --------------------------------------------------------------------------------------------
# Transitions: state, remarks and exactly one audit event together
# --------------------------------------------------------------------------------------------

TRANSITION_CASES = [
    # start state, actor, trigger, kwargs, expected state
    ("draft", "drafter", "submit", {}, "police_review"),
    ("police_review", "drafter", "withdraw", {}, "draft"),
    ("police_review", "reviewer", "approve", {}, "reviewed"),
    ("police_review", "reviewer", "return", {"remarks": [RemarkInput("Mer om skolan.")]},
     "returned"),
    ("returned", "drafter", "resubmit", {"unanswered_confirmed": True}, "police_review"),
    ("reviewed", "consolidator", "consolidate", {}, "consolidated"),
    ("reviewed", "consolidator", "reopen", {"reason": "Siffrorna saknas."}, "returned"),
    ("consolidated", "consolidator", "reopen", {"reason": "Siffrorna saknas."}, "returned"),
]


@pytest.mark.parametrize(("start", "key", "trigger", "kwargs", "expected"), [
    pytest.param(*case, id=f"{case[0]}-{case[2]}") for case in TRANSITION_CASES])
def test_transition_changes_state_and_writes_one_event(world, start, key, trigger, kwargs,
                                                       expected):
    advance(world, "Norr", start)
    if start == "draft":
        fill_sections(world)
    contribution = world.contribution()
    contribution_id, version, round_before = contribution.id, contribution.version, \
        contribution.round
    remarks_before = len(contribution.remarks)
    before = head_seq()

    run(world, key, contributions.transition, contribution_id, trigger,
        expected_version=version, **kwargs)

    contribution = world.contribution()
    assert contribution.state == expected
    assert contribution.version == version + 1
    [event] = events_since(before)
    assert event.action == f"contribution.{trigger}"
    assert (event.from_state, event.to_state) == (start, expected)
    assert (event.object_type, event.object_id) == ("contribution", str(contribution_id))
    assert event.actor_id == world.users[key]
    data = data_of(event)
    assert data["area"] == "Norr"
    assert data["period"] == "januari 2030"
    assert data["round"] == round_before
    assert data["version"] == contribution.version
    new_remarks = contribution.remarks[remarks_before:]
    assert data["reason"] == kwargs.get("reason")
    if "reason" in kwargs:
        [remark] = new_remarks
        assert (remark.trigger, remark.text, remark.section_id) == \
            (trigger, kwargs["reason"], None)
        assert data["remarks"] == []
    else:
        assert len(new_remarks) == len(kwargs.get("remarks", ()))
        assert data["remarks"] == [
            {"remark_id": r.id, "section_id": r.section_id, "text": r.text} for r in new_remarks]
    assert contribution.round == round_before + (1 if trigger in ("return", "reopen") else 0)
    assert verify_chain().ok


def test_submit_records_submitter_and_review_records_reviewer(world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution()
    assert contribution.submitted_by_id == world.users["drafter"]
    assert contribution.submitted_at is not None
    assert contribution.reviewed_by_id == world.users["reviewer"]
    run(world, "consolidator", flow.consolidate, contribution.id)
    assert world.contribution().consolidated_by_id == world.users["consolidator"]


def test_submit_with_an_empty_section_is_refused_and_changes_nothing(world):
    sections = world.sections()
    for section in sections[:-1]:
        run(world, "drafter", contributions.edit_section, section.id, "Text", section.version)
    empty_heading = world.sections()[-1].topic.heading
    contribution_id = world.contribution().id

    error, events = refused(world, "drafter", InvalidTransition, flow.submit,
                            contribution_id)

    assert empty_heading in error.message
    # A precondition that is not met is not a security matter: no event at all.
    assert events == []
    assert world.contribution().state == "draft"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "contribution.submit")) == 0


def test_whitespace_only_section_counts_as_empty(world):
    fill_sections(world)
    section = first_section(world)
    run(world, "drafter", contributions.edit_section, section.id, "  \n\t\n", section.version)
    assert first_section(world).text == ""
    with pytest.raises(InvalidTransition):
        run(world, "drafter", flow.submit, world.contribution().id)
    assert world.contribution().state == "draft"


def test_transition_with_stale_version_is_refused_and_changes_nothing(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution()
    stale = contribution.version - 1

    error, events = refused(world, "reviewer", StaleVersion, flow.approve,
                            contribution.id, expected_version=stale)

    assert error.details == {"expected_version": stale,
                             "current_version": contribution.version}
    assert events == []
    assert world.contribution().state == "police_review"


def test_unknown_trigger_is_bad_input(world):
    fill_sections(world)
    error, events = refused(world, "drafter", InvalidInput, contributions.transition,
                            world.contribution().id, "to_approved")
    assert events == []
    assert world.contribution().state == "draft"


def test_the_system_only_finalize_cannot_be_fired_by_a_user(world):
    advance(world, "Norr", "consolidated")
    contribution_id = world.contribution().id
    error, events = refused(world, "consolidator", NotAllowed, contributions.transition,
                            contribution_id, "finalize")
    assert_security_event(events, "security.permission_denied", world.users["consolidator"],
                          "contribution.finalize", "contribution", contribution_id)
    assert world.contribution().state == "consolidated"


# --------------------------------------------------------------------------------------------
# Area scope and roles
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "start", "action"), [
    ("drafter_south", "draft", "edit"),
    ("drafter_south", "draft", "submit"),
    ("drafter_south", "returned", "resubmit"),
    ("reviewer_south", "police_review", "approve"),
    ("reviewer_south", "police_review", "return"),
])
def test_other_areas_users_are_refused_and_logged(world, key, start, action):
    advance(world, "Norr", start)
    if start == "draft":
        fill_sections(world)
    contribution = world.contribution()
    section = contribution.ordered_sections[0]
    if action == "edit":
        call = (contributions.edit_section, section.id, "Från Söder", section.version)
        attempted, object_type, object_id = "section.edit", "section", section.id
    else:
        kwargs = {"remarks": [RemarkInput("Nej.")]} if action == "return" else {}
        call = (contributions.transition, contribution.id, action)
        attempted, object_type, object_id = \
            f"contribution.{action}", "contribution", contribution.id

    if action == "return":
        error, events = refused(world, key, NotAllowed, *call, **kwargs)
    else:
        error, events = refused(world, key, NotAllowed, *call)

    assert_security_event(events, "security.permission_denied", world.users[key], attempted,
                          object_type, object_id)
    assert world.contribution().state == start


def test_own_area_is_still_open_to_the_south_users(world):
    """The scope test above is not passing merely because Söder users can do nothing."""
    contribution = advance(world, "Söder", "reviewed")
    assert contribution.state == "reviewed"
    assert contribution.reviewed_by_id == world.users["reviewer_south"]


@pytest.mark.parametrize(("key", "start", "action"), [
    ("drafter", "police_review", "approve"),
    ("drafter", "police_review", "return"),
    ("drafter", "reviewed", "consolidate"),
    ("drafter", "reviewed", "reopen"),
    ("reviewer", "draft", "submit"),
    ("reviewer", "police_review", "withdraw"),
    ("reviewer", "returned", "resubmit"),
    ("reviewer", "draft", "edit"),
    ("reviewer", "reviewed", "consolidate"),
    ("consolidator", "draft", "submit"),
    ("consolidator", "police_review", "approve"),
    ("approver", "police_review", "approve"),
    ("approver", "reviewed", "consolidate"),
    ("auditor", "draft", "edit"),
    ("auditor", "draft", "submit"),
    ("auditor", "police_review", "approve"),
    ("auditor", "police_review", "return"),
    ("auditor", "reviewed", "consolidate"),
    ("auditor", "reviewed", "reopen"),
    ("auditor", "reviewed", "exclude"),
    ("admin", "draft", "edit"),
    ("admin", "returned", "edit"),
    ("admin", "draft", "submit"),
    ("admin", "police_review", "approve"),
    ("admin", "reviewed", "edit"),
    ("admin", "reviewed", "exclude"),
])
def test_wrong_role_is_refused_and_logged(world, key, start, action):
    advance(world, "Norr", start)
    if start == "draft":
        fill_sections(world)
    contribution = world.contribution()
    section = contribution.ordered_sections[0]
    text_before = section.text
    if action == "edit":
        call = (contributions.edit_section, section.id, "Ändrad av fel roll", section.version)
        kwargs = {}
        attempted, object_type, object_id = "section.edit", "section", section.id
    elif action == "exclude":
        call = (contributions.exclude, contribution.id, "Utanför uppdraget")
        kwargs = {}
        attempted, object_type, object_id = "contribution.exclude", "contribution", \
            contribution.id
    else:
        call = (contributions.transition, contribution.id, action)
        kwargs = {"return": {"remarks": [RemarkInput("Nej.")]},
                  "reopen": {"reason": "Därför."}}.get(action, {})
        attempted, object_type, object_id = \
            f"contribution.{action}", "contribution", contribution.id

    error, events = refused(world, key, NotAllowed, *call, **kwargs)

    assert_security_event(events, "security.permission_denied", world.users[key], attempted,
                          object_type, object_id)
    assert world.contribution().state == start
    assert first_section(world).text == text_before


@pytest.mark.parametrize(("key", "start", "action"), [
    ("reviewer", "draft", "approve"),
    ("reviewer", "reviewed", "return"),
    ("drafter", "police_review", "submit"),
    ("drafter", "reviewed", "withdraw"),
    ("drafter", "police_review", "resubmit"),
    ("consolidator", "draft", "consolidate"),
    ("consolidator", "police_review", "reopen"),
    ("consolidator", "consolidated", "consolidate"),
    ("drafter", "police_review", "edit"),
    ("drafter", "reviewed", "edit"),
    ("consolidator", "draft", "edit"),
    ("consolidator", "police_review", "edit"),
])
def test_wrong_state_is_refused_and_logged(world, key, start, action):
    advance(world, "Norr", start)
    contribution = world.contribution()
    section = contribution.ordered_sections[0]
    text_before = section.text
    if action == "edit":
        call = (contributions.edit_section, section.id, "För sent", section.version)
        kwargs = {}
        attempted, object_type, object_id = "section.edit", "section", section.id
    else:
        call = (contributions.transition, contribution.id, action)
        kwargs = {"return": {"remarks": [RemarkInput("Nej.")]},
                  "reopen": {"reason": "Därför."}}.get(action, {})
        attempted, object_type, object_id = \
            f"contribution.{action}", "contribution", contribution.id

    error, events = refused(world, key, InvalidTransition, *call, **kwargs)

    assert_security_event(events, "security.transition_refused", world.users[key], attempted,
                          object_type, object_id)
    assert world.contribution().state == start
    assert first_section(world).text == text_before


def test_deactivated_user_loses_every_role(world):
    fill_sections(world)
    with operation(SETUP):
        world.user("drafter").active = False
    contribution_id = world.contribution().id
    error, events = refused(world, "drafter", NotAllowed, flow.submit, contribution_id)
    assert_security_event(events, "security.permission_denied", world.users["drafter"],
                          "contribution.submit", "contribution", contribution_id)


# --------------------------------------------------------------------------------------------
# Separation of duties
# --------------------------------------------------------------------------------------------


def test_withdraw_only_by_the_submitter(world):
    advance(world, "Norr", "police_review")
    contribution_id = world.contribution().id

    error, events = refused(world, "drafter2", NotAllowed, flow.withdraw,
                            contribution_id)
    assert_security_event(events, "security.permission_denied", world.users["drafter2"],
                          "contribution.withdraw", "contribution", contribution_id)
    assert world.contribution().state == "police_review"

    run(world, "drafter", flow.withdraw, contribution_id)
    assert world.contribution().state == "draft"


def test_any_drafter_of_the_area_may_resubmit(world):
    advance(world, "Norr", "returned")
    contribution_id = world.contribution().id
    run(world, "drafter2", flow.resubmit, contribution_id)
    contribution = world.contribution()
    assert contribution.state == "police_review"
    assert contribution.submitted_by_id == world.users["drafter2"]


# No legitimate user can hold both the drafter role (district office only) and the reviewer
# role (police only): see admin.ROLE_ORGANISATION_KINDS and test_admin. The server-side guard
# is still the last line of defence, so these tests put the conflicting facts into the
# database directly, as an import or a later change of the role rules could.


def test_reviewer_recorded_as_submitter_cannot_review(world):
    advance(world, "Norr", "police_review")
    with operation(SETUP):
        world.contribution().submitted_by_id = world.users["reviewer"]
    contribution_id = world.contribution().id

    for trigger, kwargs in (("approve", {}), ("return", {"remarks": [RemarkInput("Nej.")]})):
        error, events = refused(world, "reviewer", NotAllowed, contributions.transition,
                                contribution_id, trigger, **kwargs)
        data = assert_security_event(events, "security.permission_denied",
                                     world.users["reviewer"], f"contribution.{trigger}",
                                     "contribution", contribution_id)
        assert "submitted" in data["reason"]
    assert world.contribution().state == "police_review"

    run(world, "reviewer2", flow.approve, contribution_id)
    assert world.contribution().state == "reviewed"


def test_reviewer_who_edited_in_this_round_cannot_review(world):
    advance(world, "Norr", "police_review")
    section = first_section(world)
    with operation(SETUP):
        contributions.add_revision(section, "Polisens egen formulering", "edit",
                                   world.user("reviewer"))
    contribution_id = world.contribution().id

    error, events = refused(world, "reviewer", NotAllowed, flow.approve,
                            contribution_id)
    data = assert_security_event(events, "security.permission_denied", world.users["reviewer"],
                                 "contribution.approve", "contribution", contribution_id)
    assert "edited" in data["reason"]

    run(world, "reviewer2", flow.approve, contribution_id)
    assert world.contribution().state == "reviewed"


def test_an_edit_in_an_earlier_round_does_not_bar_review(world):
    advance(world, "Norr", "police_review")
    with operation(SETUP):
        contributions.add_revision(first_section(world), "Gammal formulering", "edit",
                                   world.user("reviewer"))
    contribution_id = world.contribution().id
    run(world, "reviewer2", flow.return_with_remarks, contribution_id,
        [RemarkInput("Ta bort polisens formulering.")])
    section = first_section(world)
    run(world, "drafter", contributions.edit_section, section.id, "Ny formulering",
        section.version)
    run(world, "drafter", flow.resubmit, contribution_id)

    run(world, "reviewer", flow.approve, contribution_id)

    contribution = world.contribution()
    assert (contribution.state, contribution.round) == ("reviewed", 2)
    assert contribution.reviewed_by_id == world.users["reviewer"]


# --------------------------------------------------------------------------------------------
# Return with remarks, rounds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("remarks", [
    pytest.param([], id="none"),
    pytest.param([RemarkInput("")], id="empty"),
    pytest.param([RemarkInput("   \n\t ")], id="blank"),
])
def test_return_requires_remarks(world, remarks):
    advance(world, "Norr", "police_review")
    contribution_id = world.contribution().id
    error, events = refused(world, "reviewer", InvalidInput, flow.return_with_remarks,
                            contribution_id, remarks)
    assert "remark" in error.message
    assert events == []
    contribution = world.contribution()
    assert (contribution.state, contribution.round, contribution.remarks) == \
        ("police_review", 1, [])


def test_return_stores_general_and_per_section_remarks(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution()
    contribution_id = contribution.id
    s1, s2 = contribution.ordered_sections[:2]
    before = head_seq()

    run(world, "reviewer", flow.return_with_remarks, contribution_id, [
        RemarkInput("Helheten behöver kortas."),
        RemarkInput("Ange källan.", section_id=s1.id),
        RemarkInput("  ", section_id=s2.id),  # an empty box: not a remark
    ])

    contribution = world.contribution()
    assert contribution.state == "returned"
    assert contribution.round == 2
    assert contribution.reviewed_by_id is None
    stored = [(r.text, r.section_id, r.trigger, r.round, r.author_id)
              for r in contribution.remarks]
    assert stored == [
        ("Helheten behöver kortas.", None, "return", 1, world.users["reviewer"]),
        ("Ange källan.", s1.id, "return", 1, world.users["reviewer"]),
    ]
    [event] = events_since(before)
    assert event.action == "contribution.return"
    assert data_of(event)["remarks"] == [
        {"remark_id": r.id, "section_id": r.section_id, "text": r.text}
        for r in contribution.remarks]


def test_remark_on_a_section_of_another_contribution_is_refused(world):
    advance(world, "Norr", "police_review")
    foreign_section_id = first_section(world, "Söder").id
    contribution_id = world.contribution().id

    error, events = refused(world, "reviewer", InvalidInput, flow.return_with_remarks,
                            contribution_id,
                            [RemarkInput("Fel avsnitt", section_id=foreign_section_id)])

    assert events == []
    assert world.contribution().state == "police_review"
    assert db.session.scalar(select(func.count()).select_from(Remark)) == 0


def test_a_second_round_after_return(world):
    advance(world, "Norr", "returned")
    contribution_id = world.contribution().id
    section = first_section(world)

    # The drafter edits in the new round and resubmits.
    run(world, "drafter", contributions.edit_section, section.id, "Kompletterad text",
        section.version)
    revision = first_section(world).revisions[-1]
    assert (revision.round, revision.text) == (2, "Kompletterad text")
    before = head_seq()
    run(world, "drafter", flow.resubmit, contribution_id)
    [event] = events_since(before)
    assert (event.action, event.from_state, event.to_state) == \
        ("contribution.resubmit", "returned", "police_review")
    assert data_of(event)["round"] == 2

    # The reviewer who returned round 1 reviews round 2.
    run(world, "reviewer", flow.approve, contribution_id)
    contribution = world.contribution()
    assert (contribution.state, contribution.round) == ("reviewed", 2)
    assert contribution.reviewed_by_id == world.users["reviewer"]
    assert [r.round for r in contribution.remarks] == [1]
    assert verify_chain().ok


def test_resubmit_requires_every_section_filled(world):
    advance(world, "Norr", "returned")
    section = first_section(world)
    run(world, "drafter", contributions.edit_section, section.id, "", section.version)
    error, events = refused(world, "drafter", InvalidTransition, flow.resubmit,
                            world.contribution().id)
    assert section.topic.heading in error.message
    assert events == []


# --------------------------------------------------------------------------------------------
# Consolidator: wording, reopen, exclude / include
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["reviewed", "consolidated"])
def test_consolidator_wording_edit_is_a_consolidation_edit(world, start):
    advance(world, "Norr", start)
    section = first_section(world)
    section_id, version = section.id, section.version
    before = head_seq()

    run(world, "consolidator", contributions.edit_section, section_id, "Stramare formulering",
        version)

    section = db.session.get(Section, section_id)
    assert section.text == "Stramare formulering"
    revision = section.revisions[-1]
    assert (revision.cause, revision.author_id) == \
        ("consolidation_edit", world.users["consolidator"])
    [event] = events_since(before)
    assert event.action == "section.consolidation_edit"
    assert data_of(event)["revision_id"] == revision.id
    assert world.contribution().state == start  # wording edits do not move the workflow


@pytest.mark.parametrize("reason", [None, "", "   \n "])
def test_reopen_requires_a_reason(world, reason):
    advance(world, "Norr", "consolidated")
    error, events = refused(world, "consolidator", InvalidInput, flow.reopen,
                            world.contribution().id, reason)
    assert events == []
    assert world.contribution().state == "consolidated"


def test_reopen_starts_a_new_round_for_the_drafters(world):
    advance(world, "Norr", "consolidated")
    contribution_id = world.contribution().id
    run(world, "consolidator", flow.reopen, contribution_id, "Uppgifterna är gamla.")

    contribution = world.contribution()
    assert (contribution.state, contribution.round) == ("returned", 2)
    assert contribution.reviewed_by_id is None
    assert contribution.consolidated_by_id is None
    [remark] = contribution.remarks
    assert (remark.trigger, remark.text, remark.round) == ("reopen", "Uppgifterna är gamla.", 1)
    # The drafter may edit again.
    section = first_section(world)
    run(world, "drafter", contributions.edit_section, section.id, "Nya uppgifter",
        section.version)
    assert first_section(world).text == "Nya uppgifter"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_exclude_requires_a_reason(world, reason):
    contribution_id = world.contribution().id
    error, events = refused(world, "consolidator", InvalidInput, contributions.exclude,
                            contribution_id, reason)
    assert events == []
    assert world.contribution().excluded_reason is None


def test_exclude_and_include(world):
    contribution_id = world.contribution().id
    version = world.contribution().version
    before = head_seq()

    run(world, "consolidator", contributions.exclude, contribution_id, "  Inget underlag. ",
        expected_version=version)

    contribution = world.contribution()
    assert contribution.excluded_reason == "Inget underlag."
    assert contribution.excluded_by_id == world.users["consolidator"]
    assert contribution.state == "draft"
    [event] = events_since(before)
    assert event.action == "contribution.exclude"
    assert (event.from_state, event.to_state) == ("draft", "draft")
    assert data_of(event)["reason"] == "Inget underlag."

    # Excluding twice is refused.
    error, events = refused(world, "consolidator", InvalidTransition, contributions.exclude,
                            contribution_id, "Igen")
    assert events == []

    before = head_seq()
    run(world, "consolidator", contributions.include, contribution_id)
    contribution = world.contribution()
    assert (contribution.excluded_reason, contribution.excluded_by_id) == (None, None)
    [event] = events_since(before)
    assert event.action == "contribution.include"
    assert data_of(event)["reason"] is None

    # Including what is not excluded is refused.
    error, events = refused(world, "consolidator", InvalidTransition, contributions.include,
                            contribution_id)
    assert events == []
    assert verify_chain().ok


def test_exclude_with_stale_version_is_refused(world):
    contribution = world.contribution()
    error, events = refused(world, "consolidator", StaleVersion, contributions.exclude,
                            contribution.id, "Inget underlag.",
                            expected_version=contribution.version + 1)
    assert error.details["current_version"] == contribution.version
    assert events == []
