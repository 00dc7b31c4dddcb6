"""Tampering behind the database's back (guards switched off, as someone with direct access
could) is found by verify_chain() and by `flask audit verify`, naming the first bad event."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from app.audit.verify import verify_chain
from app.extensions import db
from app.models import GENESIS_HASH
from tests.audit.support import (
    EVENTS,
    ON_EACH_DATABASE,
    OWN_COLUMNS,
    PARKING,
    enabled_guards,
    expected_guards,
    forged_values,
    guards_off,
    head,
    random_hash,
    renumber,
    row,
    rows,
    update_event,
    update_refused,
)

ALTERED = "its hash does not match its contents: the event was altered"
RELINKED = "its prev_hash does not match the hash of the event before it"


@pytest.fixture
def chain(world):
    """The world's set-up history (37 events today), all verified; returns their number."""
    result = verify_chain()
    assert result.ok and result.count >= 20
    return result.count


def _failure(expected_seq: int, reason_start: str):
    result = verify_chain()
    assert not result.ok, result
    assert result.failed_seq == expected_seq, result
    assert result.reason.startswith(reason_start), result.reason
    # Everything before the failure still verifies, and the result says so.
    assert result.count == expected_seq - 1
    if expected_seq > 1:
        assert result.head_hash == row(expected_seq - 1).hash
    else:
        assert result.head_hash == GENESIS_HASH
    return result


def _set(seq: int, /, **values) -> None:
    with guards_off() as connection:
        update_event(connection, seq, **values)


def _append(values) -> None:
    """INSERT straight into the table (no bypass needed: appending is allowed)."""
    db.session.rollback()
    with db.engine.begin() as connection:
        connection.execute(EVENTS.insert().values(**values))
    db.session.rollback()  # our next read must not reuse a snapshot from before the insert


def _guards_back_on() -> None:
    assert enabled_guards() == expected_guards(db.engine.dialect.name)
    assert update_refused("audit_events", "canonical")


# --- altering one event ----------------------------------------------------------------------

def _edits(original):
    return {
        "action": "contribution.approve",
        "actor_name": "Mallory",
        "actor_organisation": "Okänd förvaltning",
        "object_id": "999",
        "to_state": "approved",
        "request_id": "forged",
        "data": json.dumps({"name": "Förfalskad"}),
        # The same JSON, formatted differently: the stored bytes are what is hashed.
        "data_reformatted": json.dumps(json.loads(original.data), indent=1, ensure_ascii=False),
        "occurred_at_by_a_microsecond": original.occurred_at + timedelta(microseconds=1),
        "occurred_at": datetime(2029, 12, 24, 15, 0, tzinfo=UTC),
        "hash": random_hash(),
    }


EDITED_FIELDS = ["action", "actor_name", "actor_organisation", "object_id", "to_state",
                 "request_id", "data", "data_reformatted", "occurred_at_by_a_microsecond",
                 "occurred_at", "hash"]


@ON_EACH_DATABASE
@pytest.mark.parametrize("field", EDITED_FIELDS)
def test_editing_a_field_of_event_7_fails_there_as_altered(chain, database, field):
    original = row(7)
    value = _edits(original)[field]
    column = field.split("_by_")[0].replace("data_reformatted", "data")
    assert getattr(original, column) != value
    _set(7, **{column: value})
    assert getattr(row(7), column) == value
    _failure(7, ALTERED)
    _guards_back_on()


@ON_EACH_DATABASE
def test_editing_the_first_and_the_last_event_is_found(chain, database):
    _set(chain, actor_name="Mallory")
    _failure(chain, ALTERED)
    _set(1, actor_name="Mallory")
    _failure(1, ALTERED)


@ON_EACH_DATABASE
def test_an_edit_with_a_recomputed_hash_breaks_the_link_to_the_next_event(chain, database):
    """The tamperer knows the algorithm and re-hashes event 7: event 8 no longer fits."""
    _set(7, **forged_values(row(7), actor_name="Mallory"))
    assert verify_chain(iter(rows()[:7])).ok  # on its own, event 7 now looks fine
    _failure(8, RELINKED)


@ON_EACH_DATABASE
def test_rewriting_the_whole_tail_changes_the_head_hash(chain, database):
    """Re-hashing every event from 7 on makes a self-consistent chain, which no verifier can
    tell from the original: only a head hash kept elsewhere (the OK line) reveals it."""
    count, original_head = head()
    with guards_off() as connection:
        prev_hash = row(6).hash
        for original in rows()[6:]:
            values = forged_values(original, prev_hash=prev_hash,
                                   actor_name="Mallory" if original.seq == 7 else
                                   original.actor_name)
            update_event(connection, original.seq, **values)
            prev_hash = values["hash"]
    result = verify_chain()
    assert result.ok and result.count == count
    assert result.head_hash != original_head


# --- deleting events -------------------------------------------------------------------------

@ON_EACH_DATABASE
@pytest.mark.parametrize("seq", [1, 7, 20])
def test_deleting_an_event_names_it_as_missing(chain, database, seq):
    with guards_off("committed") as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq == seq))
    _failure(seq, f"event {seq} is missing (the next one found is {seq + 1})")
    _guards_back_on()


@ON_EACH_DATABASE
def test_deleting_several_events_names_the_first(chain, database):
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq.between(7, 9)))
    _failure(7, "event 7 is missing (the next one found is 10)")


@ON_EACH_DATABASE
def test_deleting_an_event_and_closing_the_gap_fails_at_the_gap(chain, database):
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq == 7))
        renumber(connection, from_seq=8, by=-1)
    _failure(7, RELINKED)


@ON_EACH_DATABASE
def test_deleting_the_newest_events_changes_the_head_hash(chain, database):
    """Cutting off the tail leaves a valid, shorter chain: the verifier cannot know how long
    it was; the count and head hash it prints are what an auditor compares."""
    count, original_head = head()
    with guards_off() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq > count - 2))
    result = verify_chain()
    assert result.ok and result.count == count - 2
    assert result.head_hash != original_head


# --- inserting, reordering, appending --------------------------------------------------------

@ON_EACH_DATABASE
@pytest.mark.parametrize("seq", [1, 7, 20])
def test_an_event_inserted_in_the_middle_fails_at_the_inserted_position(chain, database, seq):
    """Renumber the events from `seq` on and put a forged event in the hole. Its prev_hash
    cannot be the real predecessor's hash (that is taken: see the next test)."""
    with guards_off() as connection:
        renumber(connection, from_seq=seq, by=1)
        forged = forged_values(row(seq - 1 if seq > 1 else 2), seq=seq,
                               action="contribution.approve", actor_name="Mallory",
                               prev_hash=random_hash())
        connection.execute(EVENTS.insert().values(**forged))
    assert row(seq).actor_name == "Mallory" and row(seq + 1).action != "contribution.approve"
    _failure(seq, RELINKED)


@ON_EACH_DATABASE
def test_a_second_event_claiming_the_same_predecessor_is_refused(chain, database):
    """A fork (two events after the same one) would need two rows with the same prev_hash:
    the unique constraint refuses it, triggers or not."""
    with pytest.raises(IntegrityError):
        with guards_off() as connection:
            renumber(connection, from_seq=7, by=1)
            forged = forged_values(row(6), seq=7, actor_name="Mallory", prev_hash=row(6).hash)
            connection.execute(EVENTS.insert().values(**forged))
    assert verify_chain().ok  # the whole tampering transaction was rolled back
    _guards_back_on()


@ON_EACH_DATABASE
@pytest.mark.parametrize("first, second", [(7, 8), (5, 20), (1, 2)])
def test_swapping_two_events_fails_at_the_first_swapped_seq(chain, database, first, second):
    a, b = row(first), row(second)
    with guards_off() as connection:
        connection.execute(EVENTS.update().where(EVENTS.c.seq == first).values(seq=PARKING))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == second).values(seq=first))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == PARKING).values(seq=second))
    assert row(first).hash == b.hash and row(second).hash == a.hash
    _failure(first, RELINKED)


@ON_EACH_DATABASE
def test_swapping_contents_but_keeping_seq_fails_at_the_first_swapped_seq(chain, database):
    """Swap every column but seq (hash and prev_hash move with the contents)."""
    a, b = row(7), row(12)
    swap_a = {k: b._mapping[k] for k in OWN_COLUMNS if k != "seq"}
    swap_b = {k: a._mapping[k] for k in OWN_COLUMNS if k != "seq"}
    with guards_off() as connection:
        # Unique hash / prev_hash: move one row's out of the way first.
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 12)
                           .values(hash=random_hash(), prev_hash=random_hash()))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 7).values(**swap_a))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 12).values(**swap_b))
    assert row(7).action == b.action and row(12).hash == a.hash
    _failure(7, RELINKED)


@ON_EACH_DATABASE
def test_a_forged_event_appended_with_a_wrong_hash_fails_there(chain, database):
    """Appending needs no bypass (INSERT is allowed); a made-up hash is caught."""
    count, newest = head()
    forged = forged_values(row(count), seq=count + 1, prev_hash=newest,
                           action="contribution.approve", hash=random_hash())
    _append(forged)
    _failure(count + 1, ALTERED)
    _guards_back_on()


@ON_EACH_DATABASE
def test_a_forged_event_appended_with_a_wrong_prev_hash_fails_there(chain, database):
    count, _newest = head()
    forged = forged_values(row(count), seq=count + 1, prev_hash=random_hash())
    _append(forged)
    _failure(count + 1, RELINKED)


@ON_EACH_DATABASE
def test_an_event_appended_past_a_gap_names_the_missing_seq(chain, database):
    count, newest = head()
    forged = forged_values(row(count), seq=count + 2, prev_hash=newest)
    _append(forged)
    _failure(count + 1, f"event {count + 1} is missing (the next one found is {count + 2})")


# --- the guards come back --------------------------------------------------------------------

@ON_EACH_DATABASE
@pytest.mark.parametrize("how", ["in_transaction", "committed"])
def test_the_guards_are_on_again_after_tampering(chain, database, how):
    _guards_back_on()  # on before
    with guards_off(how) as connection:
        update_event(connection, 3, actor_name="X")
    _guards_back_on()
    _failure(3, ALTERED)


@ON_EACH_DATABASE
@pytest.mark.parametrize("how", ["in_transaction", "committed"])
def test_the_guards_are_on_again_when_the_tampering_fails(chain, database, how):
    with pytest.raises(RuntimeError):
        with guards_off(how) as connection:
            update_event(connection, 3, action="X")
            raise RuntimeError("interrupted")
    _guards_back_on()
    assert verify_chain().ok


# --- flask audit verify ----------------------------------------------------------------------

@ON_EACH_DATABASE
def test_cli_verify_on_an_empty_trail(app, runner, database):
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"OK: 0 events, head hash {GENESIS_HASH}"


@ON_EACH_DATABASE
def test_cli_verify_reports_count_and_head_hash(chain, runner, database):
    count, newest = head()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"OK: {count} events, head hash {newest}"


@ON_EACH_DATABASE
def test_cli_verify_names_an_altered_event(chain, runner, database):
    _set(7, data=json.dumps({"name": "Förfalskad"}))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"FAILED at event 7: {ALTERED}" in result.stderr
    assert "(6 events before it verified.)" in result.stderr
    assert "OK:" not in result.output


@ON_EACH_DATABASE
def test_cli_verify_names_a_deleted_event(chain, runner, database):
    with guards_off("committed") as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.seq == 12))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "FAILED at event 12: event 12 is missing (the next one found is 13)" in result.stderr
    assert "(11 events before it verified.)" in result.stderr


@ON_EACH_DATABASE
def test_cli_verify_names_a_reordered_event(chain, runner, database):
    with guards_off() as connection:
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 9).values(seq=PARKING))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == 10).values(seq=9))
        connection.execute(EVENTS.update().where(EVENTS.c.seq == PARKING).values(seq=10))
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"FAILED at event 9: {RELINKED}" in result.stderr
