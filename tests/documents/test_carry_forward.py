"""Carry-forward: a new period's empty draft sections start from the last approved texts."""
from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.admin import structure
from app.contributions import operations as contributions
from app.core.errors import InvalidTransition, NotAllowed
from app.core.unit_of_work import operation
from app.documents.carry_forward import (
    carry_forward,
    changes_since_last_approved,
    last_approved_contribution,
    previous_approved_text,
)
from app.documents.cross_references import set_cross_reference
from app.extensions import db
from app.models import AuditEvent, Contribution, Period, Section, Topic
from tests import flow
from tests.documents.support import approve_period
from tests.factories import SETUP, data_of, events_since, head_seq, run

NEXT = "februari 2030"


def _open_next_period(with_carry_forward: bool = False) -> int:
    """As the period pages do it: create the period and (optionally) carry forward, in one
    operation."""
    with operation(SETUP):
        period = admin.create_period(
            SETUP, NEXT, drafting_deadline=date(2030, 2, 10), review_deadline=date(2030, 2, 17),
            consolidation_deadline=date(2030, 2, 24), approval_deadline=date(2030, 2, 28))
        if with_carry_forward:
            carry_forward(SETUP, period.id)
        return period.id


def _contribution(period_id: int, world, area="Norr") -> Contribution:
    return db.session.scalar(select(Contribution).where(
        Contribution.period_id == period_id, Contribution.area_id == world.areas[area]))


@pytest.fixture
def approved(world):
    approve_period(world)
    return world


def test_carry_forward_at_period_creation_fills_every_area(approved):
    world = approved
    period_id = _open_next_period(with_carry_forward=True)
    for area in ("Norr", "Söder"):
        old = {s.topic_id: s.text for s in world.sections(area)}
        new = _contribution(period_id, world, area)
        assert new.state == "draft"
        for section in new.sections:
            assert section.text == old[section.topic_id]
            assert [(r.number, r.cause, r.author_id) for r in section.revisions] == [
                (1, "carry_forward", None)]
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "contribution.carry_forward").order_by(AuditEvent.seq)).all()
    assert [e.area_id for e in events] == [world.areas["Norr"], world.areas["Söder"]]
    data = json.loads(events[0].data)
    assert data["from_contribution_id"] == world.contribution("Norr").id
    assert data["from_period"] == "januari 2030" and len(data["sections"]) == 4


def test_only_empty_sections_of_drafts_are_filled(approved):
    world = approved
    period_id = _open_next_period()
    norr = _contribution(period_id, world)
    written = norr.ordered_sections[0]
    run(world, "drafter", contributions.edit_section, written.id, "Ny text.", written.version)
    result = run(world, "drafter", carry_forward, period_id)  # a drafter: own area only
    assert result.filled == {"Norr": 3}
    norr = _contribution(period_id, world)
    assert norr.ordered_sections[0].text == "Ny text."
    assert [r.cause for r in norr.ordered_sections[0].revisions] == ["edit"]
    assert all(s.text for s in _contribution(period_id, world, "Norr").sections)
    assert not any(s.text for s in _contribution(period_id, world, "Söder").sections)
    # Again: nothing left to fill.
    again = run(world, "consolidator", carry_forward, period_id)
    assert again.skipped["Norr"] == "no empty section to fill" and again.filled == {"Söder": 4}


def test_not_into_a_contribution_past_draft(approved):
    world = approved
    period_id = _open_next_period(with_carry_forward=True)
    norr = _contribution(period_id, world)
    run(world, "drafter", flow.submit, norr.id)
    with pytest.raises(InvalidTransition, match="only into a draft"):
        run(world, "consolidator", carry_forward, period_id, world.areas["Norr"])


def test_nothing_to_carry_without_an_approved_period(world):
    result = run(world, "consolidator", carry_forward, world.period_id)
    assert result.filled == {}
    assert result.skipped == {"Norr": "no approved lägesbild before this period",
                              "Söder": "no approved lägesbild before this period"}


@pytest.mark.parametrize("key", ["reviewer", "approver", "auditor"])
def test_who_may_not_carry_forward(approved, key):
    period_id = _open_next_period()
    with pytest.raises(NotAllowed):
        run(approved, key, carry_forward, period_id)


def test_a_drafter_may_not_carry_forward_for_another_area(approved):
    period_id = _open_next_period()
    with pytest.raises(NotAllowed):
        run(approved, "drafter", carry_forward, period_id, approved.areas["Söder"])


def test_the_reviewer_sees_the_diff_against_last_periods_approved_text(approved):
    world = approved
    period_id = _open_next_period(with_carry_forward=True)
    section = _contribution(period_id, world).ordered_sections[0]
    old_text = section.text
    assert previous_approved_text(section) == old_text
    assert [s.op for s in changes_since_last_approved(section)] == ["equal"]
    run(world, "drafter", contributions.edit_section, section.id,
        old_text.replace("enligt plan", "snabbare än planerat"), section.version)
    section = _contribution(period_id, world).ordered_sections[0]
    changes = [(s.op, s.text) for s in changes_since_last_approved(section)]
    assert ("delete", "enligt plan. ") in changes
    assert ("insert", "snabbare än planerat. ") in changes
    assert [r.cause for r in section.revisions] == ["carry_forward", "edit"]


def test_no_previous_text_in_the_first_period(world):
    section = world.sections()[0]
    assert previous_approved_text(section) is None
    assert changes_since_last_approved(section) is None
    assert last_approved_contribution(world.areas["Norr"], world.period()) is None


def test_cross_references_are_carried_forward(world):
    sections = world.sections()
    run(world, "drafter", set_cross_reference, sections[0].id, sections[-1].topic_id,
        sections[0].version)
    approve_period(world)
    period_id = _open_next_period(with_carry_forward=True)
    first = _contribution(period_id, world).ordered_sections[0]
    assert first.handled_in_topic_id == sections[-1].topic_id


def test_cli_carry_forward(approved, runner):
    _open_next_period()
    result = runner.invoke(args=["documents", "carry-forward", "--period", NEXT])
    assert result.exit_code == 0, result.output
    assert "Norr: 4 sections start from the last approved texts." in result.output
    result = runner.invoke(args=["documents", "carry-forward", "--period", NEXT, "--area",
                                 "Norr"])
    assert "Norr: nothing carried forward (no empty section to fill)." in result.output
    result = runner.invoke(args=["documents", "carry-forward", "--period", "okänd"])
    assert result.exit_code == 1 and "Unknown period" in result.output
    assert db.session.scalar(select(Period).where(Period.name == NEXT)) is not None


# --- the local topics of the last approved contribution ------------------------------------

def _local_titles(contribution: Contribution) -> list[str]:
    return [s.heading for s in contribution.ordered_sections if s.topic.scope == "local"]


def test_carry_forward_takes_the_local_topics_of_the_last_approved_contribution(world):
    # A topic the area had when Norr was approved, but not in its approved lägesbild (as an
    # import's topics become the area's): the next draft does not get it.
    with operation(SETUP):
        admin.create_topic(SETUP, "Gammalt område", area_name="Norr")
    approve_period(world)
    with operation(SETUP):
        admin.create_topic(SETUP, "Nytt område", area_name="Norr")  # added since: it stays
    period_id = _open_next_period()
    assert _local_titles(_contribution(period_id, world)) == [
        "Trygghet i norr", "Gammalt område", "Nytt område"]
    seq = head_seq()
    result = run(world, "drafter", carry_forward, period_id)
    assert result.filled == {"Norr": 4}
    norr = _contribution(period_id, world)
    assert _local_titles(norr) == ["Trygghet i norr", "Nytt område"]
    assert all(s.text for s in norr.ordered_sections[:4])
    event = next(e for e in events_since(seq) if e.action == "contribution.carry_forward")
    assert data_of(event)["topics_removed"] == ["Gammalt område"]
    assert data_of(event)["topics_added"] == []


def test_a_local_section_someone_wrote_in_is_kept(world):
    with operation(SETUP):
        admin.create_topic(SETUP, "Gammalt område", area_name="Norr")
    approve_period(world)
    period_id = _open_next_period()
    written = _contribution(period_id, world).ordered_sections[-1]
    assert written.topic.title == "Gammalt område"
    run(world, "drafter", contributions.edit_section, written.id, "Egen text.", written.version)
    run(world, "drafter", carry_forward, period_id)
    assert _local_titles(_contribution(period_id, world)) == ["Trygghet i norr", "Gammalt område"]


def test_a_source_topic_the_draft_lacks_is_added_under_its_current_title(approved):
    world = approved
    topic = db.session.scalar(select(Topic).where(Topic.title == "Trygghet i norr"))
    with operation(SETUP):
        structure.retire_topic(SETUP, topic.id, expected_version=topic.version)
    period_id = _open_next_period()
    assert _local_titles(_contribution(period_id, world)) == []
    topic = db.session.get(Topic, topic.id)
    with operation(SETUP):
        structure.reinstate_topic(SETUP, topic.id, expected_version=topic.version)
        topic = db.session.get(Topic, topic.id)
        structure.rename_topic(SETUP, topic.id, "Trygghet i hela norr",
                               expected_version=topic.version)
    seq = head_seq()
    run(world, "drafter", carry_forward, period_id)
    norr = _contribution(period_id, world)
    assert _local_titles(norr) == ["Trygghet i hela norr"]
    old = next(s for s in world.sections() if s.topic_id == topic.id)
    assert norr.ordered_sections[-1].text == old.text
    assert old.heading == "Trygghet i norr"  # the approved one keeps its title
    event = next(e for e in events_since(seq) if e.action == "contribution.carry_forward")
    assert data_of(event)["topics_added"] == ["Trygghet i hela norr"]


def test_a_retired_source_topic_is_not_carried(approved):
    world = approved
    topic = db.session.scalar(select(Topic).where(Topic.title == "Trygghet i norr"))
    with operation(SETUP):
        structure.retire_topic(SETUP, topic.id, expected_version=topic.version)
    period_id = _open_next_period(with_carry_forward=True)
    assert _local_titles(_contribution(period_id, world)) == []
    assert all(s.text for s in _contribution(period_id, world).sections)


def test_both_links_of_a_two_topic_reference_are_carried_forward(world):
    with operation(SETUP):
        second_topic = admin.create_topic(SETUP, "Nyrekrytering", area_name="Norr")
        db.session.add(Section(contribution_id=world.contribution().id,
                               topic_id=second_topic.id))
    sections = world.sections()
    first_local, second_local = [s.topic_id for s in sections if s.topic.scope == "local"]
    run(world, "drafter", set_cross_reference, sections[0].id, first_local,
        sections[0].version, second_local)
    approve_period(world)
    period_id = _open_next_period(with_carry_forward=True)
    first = _contribution(period_id, world).ordered_sections[0]
    assert (first.handled_in_topic_id, first.also_handled_in_topic_id) == \
        (first_local, second_local)
