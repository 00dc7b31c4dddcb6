"""Operations on the lägesbild's structure (app.admin.structure): topics renamed, reordered,
retired and reinstated; periods opened (with carry-forward) and their deadlines moved. Each
change is one audit event with before and after; each refusal changes nothing."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.admin import structure
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound
from app.core.unit_of_work import operation
from app.documents.carry_forward import carry_forward_at_opening
from app.extensions import db
from app.models import AuditEvent, Contribution, Period, Section, Topic, TopicScope
from tests.documents.support import approve_period
from tests.factories import SETUP, data_of, events_since, head_seq, run

DEADLINES = {"drafting_deadline": date(2030, 2, 10), "review_deadline": date(2030, 2, 17),
             "consolidation_deadline": date(2030, 2, 24), "approval_deadline": date(2030, 2, 28)}
# A personal identity number that passes the checksum (the Tax Agency's test number).
IDENTITY_NUMBER = "19121212-1212"


def topic_named(title: str) -> Topic:
    return db.session.scalar(select(Topic).where(Topic.title == title))


def local_topic(world, area: str = "Norr") -> Topic:
    return db.session.scalar(select(Topic).where(Topic.area_id == world.areas[area]))


def add_local_topics(world, *titles: str, area: str = "Norr") -> None:
    from app.admin import operations as admin

    with operation(SETUP):
        for title in titles:
            admin.create_topic(SETUP, title, area_name=area)


def state() -> dict:
    """Everything a refused structure change must leave as it was."""
    db.session.expire_all()
    topics = [(t.id, t.title, t.position, t.active) for t in
              db.session.scalars(select(Topic).order_by(Topic.id))]
    periods = [(p.id, p.name, p.drafting_deadline, p.review_deadline, p.consolidation_deadline,
                p.approval_deadline)
               for p in db.session.scalars(select(Period).order_by(Period.id))]
    sections = db.session.scalar(select(func.count()).select_from(Section))
    return {"topics": topics, "periods": periods, "sections": sections}


def refused(world, key, error_class, function, *args, **kwargs):
    """As `key`, the operation is refused with `error_class` and nothing changes (only a
    security event for a denial)."""
    before, seq = state(), head_seq()
    with pytest.raises(error_class) as info:
        run(world, key, function, *args, **kwargs)
    assert state() == before
    assert all(e.action.startswith("security.") for e in events_since(seq))
    return info.value


def only_event(seq: int, action: str) -> dict:
    events = events_since(seq)
    assert [e.action for e in events] == [action]
    return data_of(events[0])


def next_period(world, key: str = "admin", name: str = "februari 2030", **overrides):
    return run(world, key, structure.open_period, name, **{**DEADLINES, **overrides})


# -- rename --------------------------------------------------------------------------------

def test_rename_is_one_event_with_before_and_after(world):
    topic = topic_named("Ordningsvakter")
    seq = head_seq()
    run(world, "admin", structure.rename_topic, topic.id, "  Ordningsvakter   och väktare ")
    assert topic_named("Ordningsvakter och väktare").id == topic.id
    data = only_event(seq, "topic.rename")
    assert data["before"] == {"title": "Ordningsvakter"}
    assert data["after"] == {"title": "Ordningsvakter och väktare"}
    assert data["scope"] == "city" and data["number"] == 3
    event = events_since(seq)[0]
    assert event.actor_id == world.users["admin"] and event.object_id == str(topic.id)
    assert verify_chain().ok


@pytest.mark.parametrize(("title", "message"), [
    ("", "The topic title must not be empty."),
    ("   ", "The topic title must not be empty."),
    ("x" * 301, "The topic title is longer than 300 characters."),
    ("Otillåten påverkan", "There is already a topic 'Otillåten påverkan' there."),
    ("Ordningsvakter", "The topic is already called 'Ordningsvakter'."),
    (f"Ordningsvakter {IDENTITY_NUMBER}", "The topic title contains what looks like a personal "
                                          "identity number (character 16). Remove it: such "
                                          "numbers must not be stored."),
])
def test_a_bad_title_is_refused_next_to_its_field(world, title, message):
    topic = topic_named("Ordningsvakter")
    error = refused(world, "admin", InvalidInput, structure.rename_topic, topic.id, title)
    assert error.message == message and error.details["field"] == "title"
    assert IDENTITY_NUMBER not in error.message


def test_a_local_title_clashes_only_within_its_area(world):
    south = local_topic(world, "Söder")
    add_local_topics(world, "Skolan")
    run(world, "admin", structure.rename_topic, south.id, "Skolan")  # Norr's, not Söder's
    assert topic_named("Skolan") is not None
    add_local_topics(world, "Parken", area="Söder")
    refused(world, "admin", InvalidInput, structure.rename_topic, south.id, "Parken")


@pytest.mark.parametrize("key", ["drafter", "consolidator", "auditor", "approver"])
def test_only_an_admin_renames(world, key):
    topic = topic_named("Ordningsvakter")
    seq = head_seq()
    refused(world, key, NotAllowed, structure.rename_topic, topic.id, "Nytt")
    assert [e.action for e in events_since(seq)] == ["security.permission_denied"]
    assert json.loads(events_since(seq)[0].data)["attempted"] == "topic.rename"


def test_an_unknown_topic_is_not_found(world):
    refused(world, "admin", NotFound, structure.rename_topic, 999_999, "Nytt")


def test_what_an_approved_lagesbild_shows_after_a_rename(world):
    """Today an approved contribution's heading follows the topic's current title (issue 16
    freezes approved history); the event keeps the title it had when approved."""
    approve_period(world)
    topic = topic_named("Ordningsvakter")
    assert structure.approved_use_count(topic) == 2
    seq = head_seq()
    run(world, "admin", structure.rename_topic, topic.id, "Väktare")
    approved = world.contribution("Norr")
    assert approved.state == "approved"
    assert "3. Väktare" in [s.topic.heading for s in approved.ordered_sections]
    assert only_event(seq, "topic.rename")["before"] == {"title": "Ordningsvakter"}


# -- reorder -------------------------------------------------------------------------------

def test_moving_a_local_topic_swaps_it_with_its_neighbour(world):
    add_local_topics(world, "Skolan", "Parken")
    skolan = topic_named("Skolan")
    seq = head_seq()
    run(world, "admin", structure.move_topic, skolan.id, "up")
    assert [t.title for t in structure.area_topics(world.areas["Norr"])] == [
        "Skolan", "Trygghet i norr", "Parken"]
    data = only_event(seq, "topic.reorder")
    assert data["before"] == {"order": ["Trygghet i norr", "Skolan", "Parken"]}
    assert data["after"] == {"order": ["Skolan", "Trygghet i norr", "Parken"]}
    run(world, "admin", structure.move_topic, skolan.id, "down")
    run(world, "admin", structure.move_topic, skolan.id, "down")
    assert [t.title for t in structure.area_topics(world.areas["Norr"])] == [
        "Trygghet i norr", "Parken", "Skolan"]


def test_a_new_period_follows_the_new_order(world):
    add_local_topics(world, "Skolan")
    run(world, "admin", structure.move_topic, topic_named("Skolan").id, "up")
    opened = next_period(world)
    norr = next(c for c in opened.period.contributions if c.area_id == world.areas["Norr"])
    assert [s.topic.title for s in norr.ordered_sections][-2:] == ["Skolan", "Trygghet i norr"]


def test_reorder_refusals(world):
    add_local_topics(world, "Skolan")
    first, last = local_topic(world), topic_named("Skolan")
    assert refused(world, "admin", InvalidInput, structure.move_topic, first.id, "up").message \
        == "'Trygghet i norr' is already first."
    assert refused(world, "admin", InvalidInput, structure.move_topic, last.id, "down").message \
        == "'Skolan' is already last."
    assert refused(world, "admin", InvalidInput, structure.move_topic, last.id,
                   "sideways").message == "Move a topic 'up' or 'down'."
    refused(world, "reviewer", NotAllowed, structure.move_topic, last.id, "up")


def test_moving_a_city_wide_topic_swaps_its_number_with_its_neighbours_in_one_event(world):
    city = structure.city_topics()
    second, third = city[1].title, city[2].title
    before = [t.heading for t in city]
    seq = head_seq()

    run(world, "admin", structure.move_topic, topic_named(third).id, "up")

    assert (topic_named(third).number, topic_named(second).number) == (2, 3)
    after = [t.heading for t in structure.city_topics()]
    assert after[1] == f"2. {third}" and after[2] == f"3. {second}"
    data = only_event(seq, "topic.reorder")
    assert data["scope"] == "city" and data["area"] is None
    assert data["before"] == {"order": before} and data["after"] == {"order": after}
    # The sections point at the topic: their headings show the new numbers, as after a rename.
    assert f"2. {third}" in [s.topic.heading
                                   for s in world.contribution("Norr").ordered_sections]


def test_city_wide_topic_reorder_refusals(world):
    city = structure.city_topics()
    assert refused(world, "admin", InvalidInput, structure.move_topic, city[0].id,
                   "up").message == f"'{city[0].title}' is already first."
    assert refused(world, "admin", InvalidInput, structure.move_topic, city[-1].id,
                   "down").message == f"'{city[-1].title}' is already last."
    refused(world, "drafter", NotAllowed, structure.move_topic, city[0].id, "down")
    assert [t.number for t in structure.city_topics()] == [t.number for t in city]


# -- retire --------------------------------------------------------------------------------

def test_a_retired_topic_gets_no_new_sections_and_a_draft_keeps_its_own(world):
    topic = topic_named("Otillåten påverkan")
    draft = world.contribution("Norr")
    section = next(s for s in draft.sections if s.topic_id == topic.id)
    run(world, "drafter", contributions.edit_section, section.id, "Skrivet före.",
        section.version)
    seq = head_seq()
    kept = run(world, "admin", structure.retire_topic, topic.id)
    assert [(k.area, k.period, k.state, k.written) for k in kept] == [
        ("Norr", "januari 2030", "draft", True), ("Söder", "januari 2030", "draft", False)]
    data = only_event(seq, "topic.retire")
    assert data["before"] == {"active": True} and data["after"] == {"active": False}
    assert [s["area"] for s in data["sections_kept_in"]] == ["Norr", "Söder"]
    # The draft being written keeps the section and its text.
    db.session.expire_all()
    assert db.session.get(Section, section.id).text == "Skrivet före."
    # The next period leaves the topic out.
    opened = next_period(world)
    topic_ids = {s.topic_id for c in opened.period.contributions for s in c.sections}
    assert topic.id not in topic_ids and len(topic_ids) == 4
    assert not topic_named("Otillåten påverkan").active


def test_an_approved_lagesbild_keeps_a_retired_topic(world):
    approve_period(world)
    topic = local_topic(world)
    assert run(world, "admin", structure.retire_topic, topic.id) == []
    approved = world.contribution("Norr")
    assert topic.id in {s.topic_id for s in approved.sections}


def test_retiring_twice_and_reinstating_what_is_in_use_are_refused(world):
    topic = local_topic(world)
    run(world, "admin", structure.retire_topic, topic.id)
    assert refused(world, "admin", InvalidTransition, structure.retire_topic,
                   topic.id).message == "'Trygghet i norr' is already retired."
    seq = head_seq()
    run(world, "admin", structure.reinstate_topic, topic.id)
    data = only_event(seq, "topic.reinstate")
    assert data["before"] == {"active": False} and data["after"] == {"active": True}
    assert refused(world, "admin", InvalidTransition, structure.reinstate_topic,
                   topic.id).message == "'Trygghet i norr' is not retired."
    opened = next_period(world)
    assert topic.id in {s.topic_id for c in opened.period.contributions for s in c.sections}
    refused(world, "drafter", NotAllowed, structure.retire_topic, topic.id)
    refused(world, "drafter", NotAllowed, structure.reinstate_topic, topic.id)


# -- open a period -------------------------------------------------------------------------

def test_open_without_carry_forward_is_the_period_event(world):
    seq = head_seq()
    opened = next_period(world)
    assert opened.carried is None
    data = only_event(seq, "period.create")
    assert data["carry_forward"] is False
    assert data["deadlines"] == ["2030-02-10", "2030-02-17", "2030-02-24", "2030-02-28"]
    assert all(s.text == "" for c in opened.period.contributions for s in c.sections)


def test_open_with_carry_forward_starts_every_area_from_its_last_approved_texts(world):
    approve_period(world)
    old = {area: {s.topic_id: s.text for s in world.sections(area)} for area in ("Norr", "Söder")}
    seq = head_seq()
    opened = next_period(world, carry_forward=True)
    assert opened.carried.filled == {"Norr": 4, "Söder": 4}
    assert [e.action for e in events_since(seq)] == [
        "period.create", "contribution.carry_forward", "contribution.carry_forward"]
    assert data_of(events_since(seq)[0])["carry_forward"] is True
    for contribution in opened.period.contributions:
        assert contribution.state == "draft"
        for section in contribution.sections:
            assert section.text == old[contribution.area.name][section.topic_id]
            # The texts carried are the admin's edits (separation of duties counts them).
            assert [(r.cause, r.author_id) for r in section.revisions] == [
                ("carry_forward", world.users["admin"])]
    assert verify_chain().ok


def test_carry_forward_at_opening_finds_nothing_to_carry_without_an_approved_period(world):
    opened = next_period(world, carry_forward=True)
    assert opened.carried.filled == {}
    assert set(opened.carried.skipped) == {"Norr", "Söder"}


def test_the_admin_cannot_carry_forward_once_texts_are_written(world):
    approve_period(world)
    opened = next_period(world)
    norr = next(c for c in opened.period.contributions if c.area_id == world.areas["Norr"])
    section = norr.ordered_sections[0]
    run(world, "drafter", contributions.edit_section, section.id, "Ny text.", section.version)
    error = refused(world, "admin", InvalidTransition, carry_forward_at_opening,
                    opened.period.id)
    assert "only the drafters or the coordinator can carry texts forward now" in error.message
    refused(world, "drafter", NotAllowed, carry_forward_at_opening, opened.period.id)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"review_deadline": date(2030, 2, 5)}, "review_deadline",
     "The review deadline (2030-02-05) is before the drafting deadline (2030-02-10)."),
    ({"consolidation_deadline": date(2030, 2, 16)}, "consolidation_deadline",
     "The consolidation deadline (2030-02-16) is before the review deadline (2030-02-17)."),
    ({"approval_deadline": date(2030, 2, 1)}, "approval_deadline",
     "The approval deadline (2030-02-01) is before the consolidation deadline (2030-02-24)."),
])
def test_deadlines_out_of_order_are_refused_naming_the_first_wrong_one(world, overrides, field,
                                                                        message):
    error = refused(world, "admin", InvalidInput, structure.open_period, "februari 2030",
                    **{**DEADLINES, **overrides})
    assert error.details["field"] == field and error.message.startswith(message)


def test_one_day_for_every_step_is_in_order(world):
    day = date(2030, 3, 1)
    opened = next_period(world, drafting_deadline=day, review_deadline=day,
                         consolidation_deadline=day, approval_deadline=day)
    assert opened.period.approval_deadline == day


@pytest.mark.parametrize(("name", "message", "field"), [
    ("januari 2030", "A period named 'januari 2030' already exists.", None),
    ("", "The period name must not be empty.", "name"),
    ("x" * 101, "The period name is longer than 100 characters.", "name"),
    (f"period {IDENTITY_NUMBER}", "The period name contains what looks like a personal "
                                  "identity number (character 8). Remove it: such numbers "
                                  "must not be stored.", "name"),
])
def test_a_bad_period_name_is_refused(world, name, message, field):
    error = refused(world, "admin", InvalidInput, structure.open_period, name, **DEADLINES)
    assert error.message == message and error.details.get("field") == field


def test_only_an_admin_opens_a_period(world):
    refused(world, "consolidator", NotAllowed, structure.open_period, "februari 2030",
            **DEADLINES, carry_forward=True)


# -- move deadlines ------------------------------------------------------------------------

def test_moving_deadlines_is_one_event_with_before_and_after(world):
    moved = {name: day + timedelta(days=7) for name, day in DEADLINES.items()}
    seq = head_seq()
    run(world, "admin", structure.move_deadlines, world.period_id, **moved)
    period = world.period()
    assert period.drafting_deadline == date(2030, 2, 17)
    data = only_event(seq, "period.move_deadlines")
    assert data["before"] == {"drafting_deadline": "2030-01-10", "review_deadline": "2030-01-17",
                              "consolidation_deadline": "2030-01-24",
                              "approval_deadline": "2030-01-31"}
    assert data["after"]["approval_deadline"] == "2030-03-07"
    assert events_since(seq)[0].period_id == world.period_id


def test_move_deadlines_refusals(world):
    period = world.period()
    same = {name: getattr(period, name) for name in DEADLINES}
    assert refused(world, "admin", InvalidInput, structure.move_deadlines, world.period_id,
                   **same).message == "The deadlines are the same as before: nothing to change."
    error = refused(world, "admin", InvalidInput, structure.move_deadlines, world.period_id,
                    **{**same, "review_deadline": date(2030, 1, 1)})
    assert error.details["field"] == "review_deadline"
    refused(world, "admin", NotFound, structure.move_deadlines, 999_999, **DEADLINES)
    refused(world, "consolidator", NotAllowed, structure.move_deadlines, world.period_id,
            **DEADLINES)


def test_an_approved_period_keeps_its_deadlines(world):
    approve_period(world)
    error = refused(world, "admin", InvalidTransition, structure.move_deadlines,
                    world.period_id, **DEADLINES)
    assert error.message == ("The lägesbild for januari 2030 is approved; its deadlines can no "
                             "longer be moved.")


def test_find_topic_for_the_command_line(world):
    assert structure.find_topic("Ordningsvakter").scope == TopicScope.CITY
    assert structure.find_topic("Trygghet i norr", "Norr").area_id == world.areas["Norr"]
    with pytest.raises(InvalidInput):
        structure.find_topic("Trygghet i norr")  # a local topic needs its area
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 2


def test_a_change_against_an_older_version_is_refused(world):
    from app.core.errors import StaleVersion

    topic = topic_named("Ordningsvakter")
    seen = topic.version
    run(world, "admin", structure.rename_topic, topic.id, "Väktare", expected_version=seen)
    for function, args in ((structure.rename_topic, ("Vakter",)),
                           (structure.retire_topic, ()), (structure.move_topic, ("up",))):
        refused(world, "admin", StaleVersion, function, topic.id, *args, expected_version=seen)
    period = world.period()
    refused(world, "admin", StaleVersion, structure.move_deadlines, period.id, **DEADLINES,
            expected_version=period.version + 1)


def test_a_title_with_a_character_the_text_rules_refuse_is_refused(world):
    topic = topic_named("Ordningsvakter")
    for title in ("Vakter \ufffd", "Vakter \u200e"):
        error = refused(world, "admin", InvalidInput, structure.rename_topic, topic.id, title)
        assert error.details["field"] == "title"
