"""approved sections keep the heading, place and cross-reference they were approved with

Revision ID: e9d3b7f1a5c8
Revises: b2d8f4a0e3c6
Create Date: 2026-12-02 18:40:00.000000

Renaming, reordering or retiring a topic rewrote approved history: every approved lägesbild
showed the topic's current title and order. Each section of an approved contribution now
keeps its own (app.contributions.snapshot). For what was approved before this migration the
snapshot is what the lägesbild showed at its approval, rebuilt from the audit trail: a topic
renamed after the approval gets the title its first later topic.rename event says it had
before, and an area reordered after it the order its first later topic.reorder event says it
had before. The trail then binds those snapshots once `flask documents seal-snapshots` has
recorded their digests.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = 'e9d3b7f1a5c8'
down_revision = 'b2d8f4a0e3c6'
branch_labels = None
depends_on = None

NEVER = float("inf")


def _events(connection, actions):
    return connection.execute(sa.text(
        "SELECT seq, action, object_id, contribution_id, area_id, data FROM audit_events "
        "WHERE action IN :actions ORDER BY seq").bindparams(
            sa.bindparam("actions", expanding=True)), {"actions": list(actions)}).all()


def upgrade():
    # Plain ALTER TABLE on both databases (as e7b3c9d1f4a6): nullable columns, no batch copy.
    op.add_column('sections', sa.Column('approved_title', sa.String(length=300), nullable=True))
    op.add_column('sections', sa.Column('approved_position', sa.Integer(), nullable=True))
    op.add_column('sections', sa.Column('approved_reference', sa.String(length=300),
                                        nullable=True))
    connection = op.get_bind()
    topics = {row.id: row for row in connection.execute(sa.text(
        "SELECT id, scope, number, title, position FROM topics"))}
    approvals = {}
    renames = []   # (seq, topic id, title before)
    reorders = []  # (seq, area id, titles in order before)
    for event in _events(connection, ("contribution.finalize", "document.import",
                                      "topic.rename", "topic.reorder")):
        data = json.loads(event.data or "{}")
        if event.action in ("contribution.finalize", "document.import"):
            approvals[event.contribution_id] = event.seq
        elif event.action == "topic.rename" and event.object_id:
            renames.append((event.seq, int(event.object_id),
                            (data.get("before") or {}).get("title")))
        elif event.action == "topic.reorder":
            reorders.append((event.seq, event.area_id,
                             (data.get("before") or {}).get("order") or []))

    def title_at(topic_id, seq):
        """The topic's title at `seq`: the one before its first rename after it."""
        for rename_seq, renamed_id, before in renames:
            if renamed_id == topic_id and rename_seq > seq and before:
                return before
        return topics[topic_id].title

    def local_place_at(area_id, seq):
        """topic id -> place among the area's local topics at `seq`, or None: unchanged."""
        for reorder_seq, area, order in reorders:
            if area == area_id and reorder_seq > seq:
                return {topic_id: order.index(title_at(topic_id, reorder_seq))
                        for topic_id in topics
                        if title_at(topic_id, reorder_seq) in order}
        return None

    for contribution in connection.execute(sa.text(
            "SELECT id, area_id FROM contributions WHERE state = 'approved'")).all():
        seq = approvals.get(contribution.id, NEVER)
        places = local_place_at(contribution.area_id, seq) or {}
        sections = connection.execute(sa.text(
            "SELECT id, topic_id, handled_in_topic_id FROM sections "
            "WHERE contribution_id = :id"), {"id": contribution.id}).all()

        def order(section, seq=seq, places=places):
            topic = topics[section.topic_id]
            if topic.scope == 'city':
                return (0, topic.number or 0, title_at(topic.id, seq))
            return (1, places.get(topic.id, len(places) + topic.position),
                    title_at(topic.id, seq))

        for position, section in enumerate(sorted(sections, key=order)):
            reference = (title_at(section.handled_in_topic_id, seq)
                         if section.handled_in_topic_id is not None else None)
            connection.execute(sa.text(
                "UPDATE sections SET approved_title = :title, approved_position = :position, "
                "approved_reference = :reference WHERE id = :id"),
                {"title": title_at(section.topic_id, seq), "position": position,
                 "reference": reference, "id": section.id})


def downgrade():
    op.execute('ALTER TABLE sections DROP COLUMN approved_reference')
    op.execute('ALTER TABLE sections DROP COLUMN approved_position')
    op.execute('ALTER TABLE sections DROP COLUMN approved_title')
