"""`flask topics rename|reorder|retire|reinstate` and `flask periods open|move-deadlines`: the
same operations as the pages, each change one event by the command line, each refusal exit 1
with the message and nothing changed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Period, Section, Topic
from tests.documents.support import approve_period

DEADLINES = ["--drafting-deadline", "2030-02-10", "--review-deadline", "2030-02-17",
             "--consolidation-deadline", "2030-02-24", "--approval-deadline", "2030-02-28"]


def invoke(runner, *args: str, expect: int = 0):
    result = runner.invoke(args=list(args))
    assert result.exit_code == expect, result.output
    db.session.rollback()
    return result


def snapshot() -> dict:
    db.session.rollback()
    return {"topics": [(t.title, t.position, t.active) for t in
                       db.session.scalars(select(Topic).order_by(Topic.id))],
            "periods": [(p.name, p.review_deadline) for p in db.session.scalars(select(Period))],
            "sections": db.session.scalar(select(func.count()).select_from(Section)),
            "events": db.session.scalar(select(func.count()).select_from(AuditEvent))}


def last_event() -> AuditEvent:
    db.session.rollback()
    return db.session.scalar(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))


def test_topics_rename(runner, world):
    result = invoke(runner, "topics", "rename", "Ordningsvakter", "--to", "Väktare")
    assert result.output == "Renamed 'Ordningsvakter' to 'Väktare'.\n"
    event = last_event()
    assert event.action == "topic.rename" and event.actor_name.startswith("command line")
    assert json.loads(event.data)["before"] == {"title": "Ordningsvakter"}
    invoke(runner, "topics", "rename", "Trygghet i norr", "--area", "Norr", "--to", "Skolan")
    assert db.session.scalar(select(Topic).where(Topic.title == "Skolan")).area_id == \
        world.areas["Norr"]


def test_topics_reorder(runner, world):
    invoke(runner, "topics", "add", "Skolan", "--area", "Norr")
    result = invoke(runner, "topics", "reorder", "Skolan", "--area", "Norr", "--up")
    assert result.output == "Local topics of Norr: Skolan; Trygghet i norr\n"
    assert last_event().action == "topic.reorder"
    result = invoke(runner, "topics", "reorder", "Skolan", "--area", "Norr", "--down")
    assert result.output == "Local topics of Norr: Trygghet i norr; Skolan\n"


def test_topics_retire_says_what_stays_and_reinstate(runner, world):
    result = invoke(runner, "topics", "retire", "Otillåten påverkan")
    assert result.output.splitlines() == [
        "Retired 'Otillåten påverkan': periods opened from now on leave it out.",
        "  The section stays in Norr, januari 2030 (draft, not written yet).",
        "  The section stays in Söder, januari 2030 (draft, not written yet).",
    ]
    assert last_event().action == "topic.retire"
    invoke(runner, "periods", "open", "februari 2030", *DEADLINES)
    period = db.session.scalar(select(Period).where(Period.name == "februari 2030"))
    assert "Otillåten påverkan" not in {s.topic.title for c in period.contributions
                                         for s in c.sections}
    assert invoke(runner, "topics", "reinstate", "Otillåten påverkan").output == \
        "Reinstated 'Otillåten påverkan'.\n"


@pytest.mark.parametrize(("args", "message"), [
    (["topics", "rename", "Okänt", "--to", "X"], "Error: There is no topic 'Okänt' there.\n"),
    (["topics", "rename", "Ordningsvakter", "--to", ""],
     "Error: The topic title must not be empty.\n"),
    (["topics", "rename", "Ordningsvakter", "--to", "Otillåten påverkan"],
     "Error: There is already a topic 'Otillåten påverkan' there.\n"),
    (["topics", "rename", "Trygghet i norr", "--area", "Väst", "--to", "X"],
     "Error: Unknown area 'Väst'. Known: Norr, Söder.\n"),
    (["topics", "reorder", "Trygghet i norr", "--area", "Norr", "--up"],
     "Error: 'Trygghet i norr' is already first.\n"),
    (["topics", "reinstate", "Ordningsvakter"], "Error: '3. Ordningsvakter' is not retired.\n"),
    (["periods", "open", "januari 2030", *DEADLINES],
     "Error: A period named 'januari 2030' already exists.\n"),
    (["periods", "open", "mars 2030", *DEADLINES[:2], "--review-deadline", "2030-02-01",
      *DEADLINES[4:]],
     "Error: The review deadline (2030-02-01) is before the drafting deadline (2030-02-10). "
     "The deadlines must be in order: drafting, review, consolidation, approval.\n"),
    (["periods", "move-deadlines", "okänd", *DEADLINES],
     "Error: Unknown period 'okänd'. Known: januari 2030.\n"),
    (["periods", "move-deadlines", "januari 2030", *DEADLINES[:6], "--approval-deadline",
      "2030-02-01"],
     "Error: The approval deadline (2030-02-01) is before the consolidation deadline "
     "(2030-02-24). The deadlines must be in order: drafting, review, consolidation, "
     "approval.\n"),
])
def test_refusals_exit_1_and_change_nothing(runner, world, args, message):
    before = snapshot()
    result = invoke(runner, *args, expect=1)
    assert result.output == message
    assert snapshot() == before


def test_reorder_needs_a_direction_and_dates_must_be_dates(runner, world):
    before = snapshot()
    assert "Give --up or --down." in invoke(runner, "topics", "reorder", "Trygghet i norr",
                                            "--area", "Norr", expect=2).output
    result = invoke(runner, "periods", "open", "mars 2030", "--drafting-deadline", "2030-13-01",
                    *DEADLINES[2:], expect=2)
    assert "'2030-13-01' is not a date (YYYY-MM-DD)" in result.output
    assert snapshot() == before


def test_periods_open_with_carry_forward(runner, world):
    approve_period(world)
    result = invoke(runner, "periods", "open", "februari 2030", *DEADLINES, "--carry-forward")
    assert result.output.splitlines() == [
        "Opened period februari 2030 with 2 contributions.",
        "  Norr: 4 texts carried forward.",
        "  Söder: 4 texts carried forward.",
    ]
    period = db.session.scalar(select(Period).where(Period.name == "februari 2030"))
    assert all(s.text for c in period.contributions for s in c.sections)


def test_periods_open_with_nothing_to_carry(runner, world):
    result = invoke(runner, "periods", "open", "februari 2030", *DEADLINES, "--carry-forward")
    assert "  Norr: nothing carried forward (no approved lägesbild before this period)." in \
        result.output.splitlines()


def test_periods_move_deadlines(runner, world):
    result = invoke(runner, "periods", "move-deadlines", "januari 2030", *DEADLINES)
    assert result.output == ("Moved the deadlines of januari 2030: 2030-02-10 / 2030-02-17 / "
                             "2030-02-24 / 2030-02-28.\n")
    event = last_event()
    assert event.action == "period.move_deadlines"
    assert json.loads(event.data)["before"]["drafting_deadline"] == "2030-01-10"
    approve_period(world)
    result = invoke(runner, "periods", "move-deadlines", "januari 2030", *DEADLINES[:2],
                    "--review-deadline", "2030-02-18", *DEADLINES[4:], expect=1)
    assert "is approved; its deadlines can no longer be moved" in result.output
