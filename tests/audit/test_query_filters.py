"""The audit log browser's query: filters, newest first, keyset paging that neither skips nor
repeats an event (also while events are appended), and who may read."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.audit import query as audit_query
from app.audit.query import EventFilter, events_page, parse_filter
from app.audit.trail import record_event
from app.core.clock import frozen_at
from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent
from tests.factories import SETUP, fill_sections


def append(count: int, *, action: str = "test.event", area_id: int | None = None,
           period_id: int | None = None, contribution_id: int | None = None,
           at: datetime | None = None) -> list[int]:
    """Append `count` events in one transaction; returns their seqs."""
    seqs = []
    with operation(SETUP):
        for index in range(count):
            if at is not None:
                with frozen_at(at):
                    event = record_event(action, actor=SETUP, area_id=area_id,
                                         period_id=period_id, contribution_id=contribution_id,
                                         data={"n": index})
            else:
                event = record_event(action, actor=SETUP, area_id=area_id, period_id=period_id,
                                     contribution_id=contribution_id, data={"n": index})
            seqs.append(event.seq)
    return seqs


def all_pages(event_filter: EventFilter, size: int, between=None) -> list[int]:
    """Walk every page by its "older" link; `between(page_number)` runs between pages."""
    seen, before, number = [], None, 0
    while True:
        page = events_page(event_filter, before_seq=before, size=size)
        seen.extend(row.seq for row in page.events)
        if page.older_before_seq is None:
            return seen
        before = page.older_before_seq
        number += 1
        if between:
            between(number)


def matching(**criteria) -> list[int]:
    table = AuditEvent.__table__
    conditions = [getattr(table.c, name) == value for name, value in criteria.items()]
    return list(db.session.scalars(
        select(table.c.seq).where(*conditions).order_by(table.c.seq.desc())))


def test_pages_newest_first_cover_every_event_once(world):
    append(23, action="test.paged")
    expected = matching()
    for size in (1, 7, 50, 500):
        seen = all_pages(EventFilter(), size)
        assert seen == expected  # newest first, none skipped, none repeated


@pytest.mark.parametrize("criterion,column", [
    ("area_id", "area_id"), ("period_id", "period_id"), ("contribution_id", "contribution_id"),
    ("action", "action"), ("organisation", "actor_organisation"), ("actor_id", "actor_id"),
])
def test_each_filter_returns_exactly_the_matching_events(world, criterion, column):
    append(9, action="test.north", area_id=world.areas["Norr"], period_id=world.period_id,
           contribution_id=world.contribution("Norr").id)
    append(6, action="test.south", area_id=world.areas["Söder"])
    value = {"area_id": world.areas["Norr"], "period_id": world.period_id,
             "contribution_id": world.contribution("Norr").id, "action": "test.south",
             "organisation": "system", "actor_id": world.users["admin"]}[criterion]
    expected = matching(**{column: value})
    seen = all_pages(EventFilter(**{criterion: value}), size=4)
    assert seen == expected
    if criterion != "actor_id":
        assert seen, "the world must hold matching events"


def test_filters_combine(world):
    append(5, action="test.a", area_id=world.areas["Norr"])
    append(5, action="test.b", area_id=world.areas["Norr"])
    append(5, action="test.a", area_id=world.areas["Söder"])
    seen = all_pages(EventFilter(action="test.a", area_id=world.areas["Norr"]), size=2)
    assert seen == matching(action="test.a", area_id=world.areas["Norr"])
    assert len(seen) == 5


def test_time_range_in_local_time(world):
    append(3, action="test.old", at=datetime(2029, 12, 31, 22, 30, tzinfo=UTC))  # 23:30 local
    append(4, action="test.new", at=datetime(2029, 12, 31, 23, 30, tzinfo=UTC))  # 00:30 1 Jan
    new_year = parse_filter({"from": "2030-01-01", "to": "2030-01-01"})
    assert new_year.since == datetime(2029, 12, 31, 23, 0, tzinfo=UTC)
    assert new_year.until == datetime(2030, 1, 1, 23, 0, tzinfo=UTC)
    seen = all_pages(new_year, size=3)
    assert seen == matching(action="test.new")
    old_year = parse_filter({"to": "2029-12-31"})
    assert set(matching(action="test.old")) <= set(all_pages(old_year, size=10))
    assert not set(matching(action="test.new")) & set(all_pages(old_year, size=10))


def test_paging_while_events_are_appended_skips_and_repeats_nothing(world):
    append(30, action="test.before", area_id=world.areas["Norr"])
    event_filter = EventFilter(area_id=world.areas["Norr"])
    expected = matching(area_id=world.areas["Norr"])

    def meanwhile(page_number):  # others keep working while the auditor pages back
        append(3, action="test.during", area_id=world.areas["Norr"])
        append(2, action="test.during", area_id=world.areas["Söder"])

    seen = all_pages(event_filter, size=6, between=meanwhile)
    assert seen == expected  # exactly the events there when paging began
    assert len(seen) == len(set(seen))


def test_newer_link_pages_back_towards_the_present(world):
    append(20, action="test.back")
    expected = matching()
    first = events_page(EventFilter(), size=5)
    assert first.newer_after_seq is None
    second = events_page(EventFilter(), before_seq=first.older_before_seq, size=5)
    assert second.newer_after_seq == second.events[0].seq
    back = events_page(EventFilter(), after_seq=second.newer_after_seq, size=5)
    assert [r.seq for r in back.events] == [r.seq for r in first.events] == expected[:5]
    assert back.newer_after_seq is None and back.older_before_seq == first.older_before_seq


def test_an_empty_result_and_an_unknown_value(world):
    page = events_page(EventFilter(action="no.such.action"))
    assert page.events == [] and page.older_before_seq is None and page.newer_after_seq is None


@pytest.mark.parametrize("args,message", [
    ({"period": "x"}, "must be a number"),
    ({"area": "-3"}, "must be a number"),
    ({"from": "31/12/2029"}, "is not a date"),
    ({"from": "2030-01-02", "to": "2030-01-01"}, "ends before it starts"),
    # Beyond what the columns hold, digits that are not ASCII, the calendar's ends:
    ({"contribution": "99999999999999999999"}, "must be a number from 1 to 2,147,483,647"),
    ({"user": "2147483648"}, "must be a number from 1 to 2,147,483,647"),
    ({"period": "²"}, "must be a number"),
    ({"area": "١٢"}, "must be a number"),
    ({"from": "0001-01-01"}, "outside the dates the system handles"),
    ({"to": "9999-12-31"}, "outside the dates the system handles"),
])
def test_bad_filter_input_is_refused_with_a_message(args, message):
    with pytest.raises(InvalidInput) as refused:
        parse_filter(args)
    assert message in refused.value.message


def test_distinct_values_by_loose_index_scan(world):
    actions = audit_query.distinct_values("action")
    expected = sorted(db.session.scalars(select(AuditEvent.action).distinct()))
    assert actions == expected
    assert audit_query.distinct_values("actor_organisation") == sorted(
        db.session.scalars(select(AuditEvent.actor_organisation).distinct()
                           .where(AuditEvent.actor_organisation.is_not(None))))


def test_only_auditors_may_browse_and_every_read_is_logged(world):
    fill_sections(world)
    count_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    auditor = world.user("auditor")
    with operation(auditor):
        view = audit_query.browse_log(auditor, EventFilter(area_id=world.areas["Norr"]))
    assert view.page.events
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.view")
                                ).all()
    assert len(logged) == 1 and logged[0].actor_id == auditor.id
    assert json.loads(logged[0].data) == {"page": "log",
                                          "filter": {"area_id": world.areas["Norr"]}}
    for key in ("admin", "consolidator", "drafter", "approver"):
        with pytest.raises(NotAllowed), operation(world.user(key)):
            audit_query.browse_log(world.user(key), EventFilter())
    denied = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.seq > count_before + 1)).all()
    assert denied == ["security.permission_denied"] * 4


@pytest.mark.parametrize("name", ["organisation", "action"])
def test_a_free_text_filter_with_an_identity_number_is_refused(name):
    """Its value would go into the audit.view event: refused with the filter's name."""
    from app.core.text_rules import luhn_ok

    nine = "850709317"
    ten = nine + next(str(d) for d in range(10) if luhn_ok(nine + str(d)))
    with pytest.raises(InvalidInput) as refused:
        parse_filter({name: f"Polisen {ten[:6]}-{ten[6:]}"})
    assert refused.value.details["field"] == name
    assert refused.value.message.startswith(f"The {name} filter contains what looks like")
    assert ten[:6] not in refused.value.message
