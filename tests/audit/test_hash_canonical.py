"""The hash is computed over a canonical encoding that survives the database round trip:
UTC time to the microsecond, and JSON text byte for byte (å, ä, ö and friends included)."""
from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.audit.trail import (
    HASHED_FIELDS,
    canonical_json,
    compute_hash,
    event_payload,
    format_time,
    record_event,
    request_info,
)
from app.audit.verify import iter_events, verify_chain
from app.core.actors import SystemActor
from app.core.clock import frozen_at
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent
from tests.audit.support import EVENTS, ON_EACH_DATABASE

STOCKHOLM_SUMMER = timezone(timedelta(hours=2))

SWEDISH_DATA = {
    "område": "Söder",
    "anmärkning": "Gå vidare – åäö ÅÄÖ é ü «citat» “typografiska” 🚓",
    # The same letter decomposed (a + combining ring): a different string, kept as given.
    "nfd": unicodedata.normalize("NFD", "Älvsjö"),
    "lista": ["å", 1, 2.5, None, True, {"ö": []}],
    "nästlad": {"b": "ä", "a": "Ö", "c": {"z": 1, "å": 2}},
    "tom": "",
    "radbrytning": "rad 1\nrad 2\t\"citerad\" \\",
}


def _record(moment: datetime, data: dict, actor=None, request=("förfrågan-1", "192.0.2.7")):
    actor = actor or SystemActor(name="Åsa Öberg", organisation_name="Örebro kommun")
    with frozen_at(moment), request_info(*request), operation(actor):
        event = record_event("test.svenska_tecken", actor=actor, object_type="område",
                             object_id="Söder", from_state="utkast", to_state="granskad",
                             data=data)
        return event.seq, event.hash


def _read_back(seq: int) -> AuditEvent:
    """The event as a new session loads it from the database, nothing cached."""
    db.session.remove()
    return db.session.get(AuditEvent, seq)


@ON_EACH_DATABASE
@pytest.mark.parametrize("moment", [
    datetime(2030, 7, 1, 23, 59, 59, 987654, tzinfo=STOCKHOLM_SUMMER),  # CEST
    # CET, the previous day in UTC
    datetime(2030, 1, 15, 0, 30, 0, 1, tzinfo=timezone(timedelta(hours=1))),
    datetime(2030, 3, 31, 0, 0, 0, 0, tzinfo=UTC),  # zero microseconds
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
], ids=["summer", "winter", "whole_second", "other_side_of_the_world"])
def test_an_event_read_back_recomputes_to_its_stored_hash(app, database, moment):
    seq, written_hash = _record(moment, SWEDISH_DATA)
    event = _read_back(seq)
    assert event.hash == written_hash
    assert compute_hash(event_payload(event)) == written_hash
    # The time comes back as the same instant, timezone-aware UTC, microseconds intact.
    assert event.occurred_at == moment
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event_payload(event)["occurred_at"] == moment.astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    # The JSON text is stored byte for byte, and still means the same data.
    assert event.data == canonical_json(SWEDISH_DATA)
    assert json.loads(event.data) == SWEDISH_DATA
    assert "Söder" in event.data and "\\u00f6" not in event.data  # not ASCII-escaped
    assert event.actor_name == "Åsa Öberg" and event.object_type == "område"


@ON_EACH_DATABASE
def test_plain_rows_and_orm_objects_hash_alike(app, database):
    """verify_chain reads plain rows (iter_events); record_event hashed an ORM object."""
    _record(datetime(2030, 7, 1, 12, 0, 0, 5, tzinfo=STOCKHOLM_SUMMER), SWEDISH_DATA)
    _record(datetime(2030, 7, 1, 12, 0, 1, tzinfo=STOCKHOLM_SUMMER), {"ä": "ö"})
    db.session.remove()
    plain = list(iter_events(batch_size=1))
    objects = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [event_payload(r) for r in plain] == [event_payload(o) for o in objects]
    assert [compute_hash(event_payload(r)) for r in plain] == [r.hash for r in plain]
    result = verify_chain()
    assert result.ok and result.count == 2 and result.head_hash == plain[-1].hash


@ON_EACH_DATABASE
def test_the_whole_world_history_verifies_after_a_round_trip(world, database):
    """The set-up events, full of Swedish names (organisations, areas, topics)."""
    db.session.remove()
    rows = db.session.execute(select(EVENTS).order_by(EVENTS.c.seq)).all()
    assert len(rows) >= 20 and any("Söder" in r.data for r in rows)
    assert all(compute_hash(event_payload(r)) == r.hash for r in rows)
    assert verify_chain().ok


@ON_EACH_DATABASE
def test_key_order_does_not_change_the_stored_text(app, database):
    moment = datetime(2030, 5, 5, 5, 5, 5, 5, tzinfo=UTC)
    forwards = {"a": 1, "å": {"x": 1, "y": 2}, "ö": [1, 2]}
    backwards = {"ö": [1, 2], "å": {"y": 2, "x": 1}, "a": 1}
    first, _ = _record(moment, forwards)
    second, _ = _record(moment, backwards)
    assert _read_back(first).data == _read_back(second).data == canonical_json(forwards)


def test_the_encoding_is_pinned():
    """Changing the canonical encoding would make every stored chain fail to verify: the
    hash of a fixed event is pinned, and rebuilt here from the documented recipe."""
    payload = {
        "seq": 7, "occurred_at": "2030-01-15T12:45:07.123456Z", "actor_id": 3,
        "actor_name": "Åsa Öberg", "actor_organisation": "Polisen – lokalpolisområde Norr",
        "action": "contribution.approve", "object_type": "contribution", "object_id": "1",
        "period_id": 2, "area_id": 5, "contribution_id": 1,
        "from_state": "police_review", "to_state": "reviewed",
        "data": canonical_json({"område": "Norr", "anmärkning": "Gå vidare, åäö ÅÄÖ"}),
        "request_id": "abc123", "client_address": "192.0.2.10", "prev_hash": "a" * 64,
    }
    assert set(payload) == set(HASHED_FIELDS)
    assert payload["data"] == '{"anmärkning":"Gå vidare, åäö ÅÄÖ","område":"Norr"}'
    by_hand = hashlib.sha256(
        ("a" * 64 + "\n").encode("ascii")
        + json.dumps(payload, sort_keys=True, separators=(",", ":"),
                     ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    expected = "8310dd12b763912732c83498fb8a41ecb6dcbf146674597b4d71a3cbd697d281"
    assert compute_hash(payload) == by_hand == expected


def test_time_is_formatted_in_utc_whatever_the_zone():
    instant = datetime(2030, 7, 1, 23, 59, 59, 987654, tzinfo=STOCKHOLM_SUMMER)
    assert format_time(instant) == "2030-07-01T21:59:59.987654Z"
    assert format_time(instant.astimezone(UTC)) == format_time(instant)
    assert format_time(datetime(2030, 1, 1, tzinfo=UTC)) == "2030-01-01T00:00:00.000000Z"
