"""Shared helpers for the operation tests: refused operations must change nothing, and leave
exactly the security event they should."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.verify import verify_chain
from app.extensions import db
from app.models import (
    Consolidation,
    Contribution,
    Remark,
    RemarkReply,
    RemarkResolution,
    Section,
    SectionRevision,
)
from tests.factories import data_of, events_since, head_seq, run


def snapshot() -> dict:
    """Everything a contribution or consolidation operation may change, read fresh."""
    db.session.expire_all()
    return {
        "consolidations": db.session.execute(select(
            Consolidation.id, Consolidation.state, Consolidation.version,
            Consolidation.submitted_by_id, Consolidation.approved_by_id,
        ).order_by(Consolidation.id)).all(),
        "contributions": db.session.execute(select(
            Contribution.id, Contribution.state, Contribution.version, Contribution.round,
            Contribution.submitted_by_id, Contribution.reviewed_by_id,
            Contribution.consolidated_by_id, Contribution.excluded_reason,
        ).order_by(Contribution.id)).all(),
        "sections": db.session.execute(select(
            Section.id, Section.text, Section.version, Section.updated_by_id,
        ).order_by(Section.id)).all(),
        "revisions": db.session.scalars(select(SectionRevision.id).order_by(
            SectionRevision.id)).all(),
        "remarks": db.session.scalars(select(Remark.id).order_by(Remark.id)).all(),
        "replies": db.session.scalars(select(RemarkReply.id).order_by(RemarkReply.id)).all(),
        "resolutions": db.session.scalars(select(RemarkResolution.id).order_by(
            RemarkResolution.id)).all(),
    }


def refused(world, key: str, error: type[Exception], function, *args, **kwargs):
    """Run a service that must fail; return the error and the audit events it left."""
    before = head_seq()
    state = snapshot()
    with pytest.raises(error) as info:
        run(world, key, function, *args, **kwargs)
    assert snapshot() == state, "a refused operation changed data"
    return info.value, events_since(before)


def assert_security_event(events, action: str, actor_id: int, attempted: str,
                          object_type: str | None = None, object_id=None) -> dict:
    assert [e.action for e in events] == [action]
    event = events[0]
    data = data_of(event)
    assert data["attempted"] == attempted
    assert isinstance(data["reason"], str) and data["reason"].strip()
    assert event.actor_id == actor_id
    if object_type is not None:
        assert event.object_type == object_type
        assert event.object_id == str(object_id)
    assert verify_chain().ok
    return data


def identity_number_traces(ten: str) -> list[str]:
    """Every place in the database, in any table and column (the audit trail, revisions,
    pending uploads, outbox included), holding the number's ten digits YYMMDDNNNC however they
    are separated, or anything else the guard would call an identity number."""
    import json
    import re

    from app.core.text_rules import find_identity_numbers

    db.session.rollback()  # see what the requests and commands committed
    places = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)):
            for column, value in row._mapping.items():
                if value is None or isinstance(value, (int, float, bool)):
                    continue
                if isinstance(value, (bytes, memoryview)):
                    texts = [bytes(value).decode("utf-8", errors="replace")]
                elif isinstance(value, str):
                    texts = [value]
                    if value[:1] in "[{":  # JSON in a text column: its strings unescaped
                        try:
                            texts = _strings(json.loads(value))
                        except ValueError:
                            pass
                else:
                    texts = _strings(value)
                for text in texts:
                    # Hex digests (hashes, salts) have digit runs that look like a number by
                    # chance; the ten digits themselves are looked for everywhere.
                    words = re.sub(r"[0-9a-f]{16,}", " ", text)
                    if ten in re.sub(r"[\s+\-\u2010-\u2015\u00ad]", "", text) \
                            or find_identity_numbers(words):
                        places.append(f"{table.name}.{column}: {text[:60]!r}")
    return places


def _strings(value) -> list[str]:
    """Every string (keys included) in a JSON value."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return [] if value is None or isinstance(value, (int, float, bool)) else [str(value)]
