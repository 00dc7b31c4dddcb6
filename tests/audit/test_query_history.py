"""A contribution's history for auditors: every event and revision, comparison of any two
revisions, the contribution "as of" a moment, and the provenance of what was approved."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.audit import history
from app.contributions import operations as contributions
from app.core.clock import frozen_at
from app.core.diff import apply
from app.core.errors import NotAllowed, NotFound
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, SectionRevision
from tests import flow
from tests.factories import advance, run
from tests.queries import counted_statements, many_edits

T0 = datetime(2030, 1, 2, 8, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def edit(world, key: str, section_id: int, text: str, moment: datetime) -> None:
    section = next(s for s in world.sections() if s.id == section_id)
    with frozen_at(moment):
        run(world, key, contributions.edit_section, section_id, text, section.version)


def fire(world, key: str, trigger: str, moment: datetime, **kw) -> None:
    with frozen_at(moment):
        run(world, key, contributions.transition, world.contribution().id, trigger, **kw)


@pytest.fixture
def story(world):
    """Norr's contribution through the whole flow, at known moments: drafted, returned by
    the police, fixed, approved by the police, reworded by the coordinator, consolidated and
    approved with the period's consolidation. Söder is consolidated alongside."""
    sections = [s.id for s in world.sections()]
    first, second = sections[0], sections[1]
    for index, section_id in enumerate(sections):
        edit(world, "drafter", section_id, f"Första utkastet {index}.", at(1 + index / 10))
    fire(world, "drafter", "submit", at(2))
    fire(world, "reviewer", "return", at(3),
         remarks=[contributions.RemarkInput("Beskriv insatserna.", first)])
    edit(world, "drafter2", first, "Första utkastet 0. Insatserna har gett resultat.", at(4))
    fire(world, "drafter", "resubmit", at(5), unanswered_confirmed=True)
    fire(world, "reviewer", "approve", at(6))
    edit(world, "consolidator", second, "Omformulerat av samordnaren.", at(7))
    fire(world, "consolidator", "consolidate", at(8))
    with frozen_at(at(8.5)):
        advance(world, "Söder", "consolidated")
    consolidation_id = world.period().consolidation.id
    with frozen_at(at(9)):
        run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    with frozen_at(at(10)):
        run(world, "approver", flow.approve_consolidation, consolidation_id)
    return {"first": first, "second": second, "sections": sections}


def as_auditor(world, function, *args):
    auditor = world.user("auditor")
    with operation(auditor):
        return function(auditor, *args)


def revision_current_at(section_id: int, moment: datetime) -> SectionRevision | None:
    """The oracle: straight from the table, the newest revision saved by `moment`."""
    return db.session.scalars(
        select(SectionRevision).where(SectionRevision.section_id == section_id,
                                      SectionRevision.created_at <= moment)
        .order_by(SectionRevision.number.desc()).limit(1)).first()


def test_history_has_every_event_and_every_revision(world, story):
    contribution_id = world.contribution().id
    view = as_auditor(world, history.contribution_history, contribution_id)
    stored = db.session.scalars(select(AuditEvent.seq).where(
        AuditEvent.contribution_id == contribution_id,
        AuditEvent.action != "audit.view").order_by(AuditEvent.seq)).all()
    assert [e.seq for e in view.events] == stored
    actions = [e.action for e in view.events]
    for action in ("contribution.submit", "contribution.return", "contribution.resubmit",
                   "contribution.approve", "section.consolidation_edit",
                   "contribution.consolidate", "contribution.finalize"):
        assert action in actions
    first = next(s for s in view.sections if s.id == story["first"])
    assert [(r.number, r.author_name, r.cause) for r in first.revisions] == [
        (1, "Drafter", "edit"), (2, "Drafter2", "edit")]


@pytest.mark.parametrize("hours", [0.5, 1.0, 1.05, 3.5, 4, 6.5, 7, 7.5, 11])
def test_as_of_shows_the_revision_current_at_that_moment(world, story, hours):
    moment = at(hours)
    view = as_auditor(world, history.contribution_as_of, world.contribution().id, moment)
    for section, revision in view.sections:
        expected = revision_current_at(section.id, moment)
        if expected is None:
            assert revision is None
        else:
            assert revision is not None and revision.id == expected.id
            assert revision.text == expected.text


@pytest.mark.parametrize("hours,state", [(2.5, "police_review"), (3.5, "returned"),
                                         (6.5, "reviewed"), (8.2, "consolidated"),
                                         (11, "approved")])
def test_as_of_shows_the_state_then(world, story, hours, state):
    view = as_auditor(world, history.contribution_as_of, world.contribution().id, at(hours))
    assert view.state == state and view.existed


def test_as_of_before_the_contribution_existed(world, story):
    view = as_auditor(world, history.contribution_as_of, world.contribution().id,
                      datetime(2000, 1, 1, tzinfo=UTC))
    assert not view.existed and view.state is None
    assert all(revision is None for _section, revision in view.sections)


def test_compare_any_two_revisions(world, story):
    view = as_auditor(world, history.compare_revisions, story["first"], 1, 2)
    assert view.changed
    assert apply(view.segments, "before") == "Första utkastet 0."
    assert apply(view.segments, "after") == "Första utkastet 0. Insatserna har gett resultat."
    assert any(s.op == "insert" and "resultat" in s.text for s in view.segments)
    backwards = as_auditor(world, history.compare_revisions, story["first"], 2, 1)
    assert any(s.op == "delete" and "resultat" in s.text for s in backwards.segments)
    same = as_auditor(world, history.compare_revisions, story["first"], 1, 1)
    assert not same.changed


def test_compare_refuses_unknown_revisions_and_sections(world, story):
    with pytest.raises(NotFound):
        as_auditor(world, history.compare_revisions, story["first"], 1, 9)
    with pytest.raises(NotFound):
        as_auditor(world, history.compare_revisions, 99_999, 1, 2)


def test_provenance_names_the_approved_revisions_and_who_did_what(world, story):
    view = as_auditor(world, history.provenance, world.contribution().id)
    assert view.approved
    assert view.finalized.actor_name == "Approver"
    assert view.consolidation_approved.actor_name == "Approver"
    assert view.consolidation_approved.occurred_at == at(10)
    assert view.reviewed.actor_name == "Reviewer" and view.reviewed.occurred_at == at(6)
    assert view.consolidated.actor_name == "Consolidator"
    assert view.consolidated.occurred_at == at(8)
    assert [s.occurred_at for s in view.submissions] == [at(2), at(5)]
    assert view.returns[0].data["remarks"][0]["text"] == "Beskriv insatserna."
    assert view.drafters == ["Drafter", "Drafter2"]
    by_id = {s.section.id: s for s in view.sections}
    for section in world.sections():
        approved = by_id[section.id].approved
        assert approved.text == section.text  # locked since: the approved text is current
        assert by_id[section.id].approved_version == section.version
    first, second = by_id[story["first"]], by_id[story["second"]]
    assert first.approved.number == 2 and first.reviewed.number == 2
    assert not first.changed_after_review
    # The coordinator's rewording after the police review is shown, with its diff.
    assert second.changed_after_review and view.changed_after_review
    assert second.reviewed.number == 1 and second.approved.number == 2
    assert [r.author_name for r in second.consolidation_edits] == ["Consolidator"]
    assert apply(second.segments, "before") == second.reviewed.text
    assert apply(second.segments, "after") == "Omformulerat av samordnaren."


def test_provenance_of_a_contribution_not_yet_approved(world):
    advance(world, "Norr", "reviewed")
    view = as_auditor(world, history.provenance, world.contribution().id)
    assert not view.approved and view.finalized is None
    assert view.reviewed.actor_name == "Reviewer"
    assert not view.changed_after_review


def test_history_pages_are_for_auditors_only_and_logged(world, story):
    contribution_id = world.contribution().id
    for function, args in ((history.contribution_history, (contribution_id,)),
                           (history.provenance, (contribution_id,)),
                           (history.contribution_as_of, (contribution_id, at(5))),
                           (history.compare_revisions, (story["first"], 1, 2))):
        for key in ("admin", "approver", "drafter"):
            with pytest.raises(NotAllowed), operation(world.user(key)):
                function(world.user(key), *args)
        before = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()))
        as_auditor(world, function, *args)
        logged = db.session.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
        assert [e.action for e in logged] == ["audit.view"]
        assert logged[0].contribution_id == contribution_id


@pytest.mark.parametrize("function", ["provenance", "as_of"])
def test_provenance_and_as_of_read_the_same_however_long_the_history(world, function):
    """Norr's first section saved 3 times, Söder's 30 times, both reviewed by the police: the
    same statements, and only the revisions shown are read (the first, the reviewed and the
    approved; the one current at the moment)."""
    for area, key, edits in (("Norr", "drafter", 3), ("Söder", "drafter_south", 30)):
        many_edits(world, edits, area, key)
        advance(world, area, "reviewed")

    def read(area: str):
        contribution_id = world.contribution(area).id
        db.session.remove()
        with counted_statements() as statements:
            if function == "as_of":
                view = as_auditor(world, history.contribution_as_of, contribution_id,
                                  datetime.now(UTC) + timedelta(hours=1))
                shown = view.sections
            else:
                view = as_auditor(world, history.provenance, contribution_id)
                shown = [(item.section, item.reviewed) for item in view.sections]
        return shown, len(statements)

    (_short, short), (shown, long) = read("Norr"), read("Söder")
    assert short == long
    section, revision = max(shown, key=lambda pair: pair[0].revision_count)
    newest = db.session.scalars(select(SectionRevision).where(
        SectionRevision.section_id == section.id)
        .order_by(SectionRevision.number.desc())).first()
    assert section.revision_count == newest.number >= 30
    assert (revision.number, revision.text) == (newest.number, newest.text)
    assert len(section.revisions) <= 2  # the first and the reviewed, not all 30
