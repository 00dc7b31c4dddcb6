"""Approved history is frozen: at approval (and at the import of an approved document) each
section keeps what the lägesbild showed — its topic's title, its place in the document and
the title of the local topic a city-wide section is handled within — and every view and
export of an approved lägesbild reads that, not the topics' current state. A later rename,
reorder or retirement of a topic changes only what is not approved yet, so every exported
document verifies for ever.

The snapshot is bound by the audit trail: the approving event (contribution.finalize, or
document.import) records the digest of the snapshot (`snapshot_sha256`), so a row rewritten
in the database afterwards no longer matches what the hash-chained trail says was approved
(`snapshot_intact`, which `documents verify` asks). Snapshots the migration took from data
approved before this existed are sealed the same way by `flask documents seal-snapshots`
(one `contribution.seal_snapshot` event each).
"""
from __future__ import annotations

import hashlib
import json

from sqlalchemy import select, update

from app.audit.trail import canonical_json, record_event, scope_of
from app.contributions.operations import text_fingerprint
from app.core.access import require_admin
from app.core.actors import Actor
from app.extensions import db
from app.models import AuditEvent, Contribution, Section

# The events that record a contribution's snapshot digest, the latest one counting.
DIGEST_ACTIONS = ("contribution.finalize", "document.import", "contribution.seal_snapshot")


def snapshot_record(contribution: Contribution) -> list[dict]:
    """What the digest covers: every section's frozen heading, place and cross-reference,
    with the topic it belongs to and the digest of its text."""
    return [_section_record(s) for s in sorted(contribution.sections, key=lambda s: s.id)]


def _section_record(section: Section) -> dict:
    record = {"section_id": section.id, "topic_id": section.topic_id,
              "scope": section.topic.scope, "number": section.topic.number,
              "title": section.approved_title, "position": section.approved_position,
              "reference": section.approved_reference,
              "handled_in_topic_id": section.handled_in_topic_id,
              "text_sha256": text_fingerprint(section.text)}
    # Only where there is one: the digests recorded before two-topic references stay valid.
    if section.approved_second_reference is not None:
        record["second_reference"] = section.approved_second_reference
        record["also_handled_in_topic_id"] = section.also_handled_in_topic_id
    return record


def snapshot_digest(contribution: Contribution) -> str:
    return hashlib.sha256(
        canonical_json(snapshot_record(contribution)).encode("utf-8")).hexdigest()


def freeze(contribution: Contribution) -> str:
    """Snapshot what the contribution shows now, as it becomes approved; returns the digest
    for the approving event. A contribution already frozen keeps its snapshot."""
    if not contribution.frozen:
        ordered = sorted(contribution.sections, key=lambda s: s.topic.sort_key)
        for position, section in enumerate(ordered):
            # A bulk UPDATE, not attribute assignment: the snapshot is not an edit, so the
            # section's version (which the finalize event records) stays as it was.
            db.session.execute(
                update(Section).where(Section.id == section.id).values(
                    approved_title=section.topic.title, approved_position=position,
                    approved_reference=(section.handled_in_topic.title
                                        if section.handled_in_topic is not None else None),
                    approved_second_reference=(
                        section.also_handled_in_topic.title
                        if section.also_handled_in_topic is not None else None)),
                execution_options={"synchronize_session": "fetch"})
    return snapshot_digest(contribution)


def recorded_digest(contribution: Contribution) -> str | None:
    """The snapshot digest the audit trail holds for this contribution (None: none yet)."""
    for data in db.session.scalars(
            select(AuditEvent.data).where(AuditEvent.contribution_id == contribution.id,
                                          AuditEvent.action.in_(DIGEST_ACTIONS))
            .order_by(AuditEvent.seq.desc())):
        digest = json.loads(data).get("snapshot_sha256")
        if digest:
            return digest
    return None


def snapshot_intact(contribution: Contribution) -> bool | None:
    """Does the frozen snapshot still match the digest its approval recorded? None: the
    contribution is not frozen, or no digest was recorded (not sealed yet)."""
    if not contribution.frozen:
        return None
    recorded = recorded_digest(contribution)
    if recorded is None:
        return None
    return recorded == snapshot_digest(contribution)


def seal_snapshots(actor: Actor) -> list[Contribution]:
    """Record in the audit trail the digest of every frozen snapshot that has none (those the
    migration took from data approved before snapshots existed): one contribution.seal_snapshot
    event each. From then on a rewrite of those rows shows, as for any later approval.
    Returns the contributions sealed."""
    require_admin(actor, "contribution.seal_snapshot")
    sealed = []
    for contribution in db.session.scalars(select(Contribution).where(
            Contribution.state == "approved").order_by(Contribution.id)):
        if not contribution.frozen or recorded_digest(contribution) is not None:
            continue
        record_event(
            "contribution.seal_snapshot", actor=actor, object_type="contribution",
            object_id=contribution.id, **scope_of(contribution),
            data={"area": contribution.area.name, "period": contribution.period.name,
                  "snapshot_sha256": snapshot_digest(contribution)})
        sealed.append(contribution)
    return sealed
