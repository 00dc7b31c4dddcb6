"""audit events keep the hashed record; their columns are derived from it

Each event's `canonical` column now holds the exact text its hash covers, and every hashed
field's column is a generated column derived from that text by the database (stored on
PostgreSQL; on SQLite computed when read, which keeps the rows small). Verifying
the chain then reads one text per event instead of re-encoding sixteen columns, and no column
can be changed without changing the hashed text. Existing events are carried over by
re-encoding their columns with the recipe they were hashed with, so a row that was tampered
with before this migration still fails verification afterwards. Also adds an
(occurred_at, seq) index for the time filter's keyset paging.

Revision ID: c7a1e5d2f903
Revises: b324039fdae9
Create Date: 2026-11-24 10:05:00.000000

"""
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

revision = 'c7a1e5d2f903'
down_revision = 'b324039fdae9'
branch_labels = None
depends_on = None

# Frozen copies (a migration must not change when the application does).
DERIVED_COLUMNS = {
    "occurred_at": "time", "actor_id": "int", "actor_name": "text",
    "actor_organisation": "text", "action": "text", "object_type": "text",
    "object_id": "text", "period_id": "int", "area_id": "int", "contribution_id": "int",
    "from_state": "text", "to_state": "text", "data": "text", "request_id": "text",
    "client_address": "text",
}
HASHED_FIELDS = ("seq", *DERIVED_COLUMNS, "prev_hash")
INDEXES = {
    "ix_audit_events_object": ["object_type", "object_id", "seq"],
    "ix_audit_events_action_seq": ["action", "seq"],
    "ix_audit_events_actor_seq": ["actor_id", "seq"],
    "ix_audit_events_period_seq": ["period_id", "seq"],
    "ix_audit_events_area_seq": ["area_id", "seq"],
    "ix_audit_events_contribution_seq": ["contribution_id", "seq"],
    "ix_audit_events_organisation_seq": ["actor_organisation", "seq"],
}
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
BATCH = 5000


def _derived_sql(dialect, name):
    kind = DERIVED_COLUMNS[name]
    if dialect == "sqlite":
        value = f"json_extract(canonical, '$.{name}')"
        return f"replace(substr({value}, 1, 26), 'T', ' ')" if kind == "time" else value
    value = f"(canonical::json ->> '{name}')"
    if kind == "int":
        return f"{value}::integer"
    if kind == "text":
        return value

    def part(start, length):
        return f"substr({value}, {start}, {length})::integer"
    return (f"(make_timestamp({part(1, 4)}, {part(6, 2)}, {part(9, 2)}, {part(12, 2)}, "
            f"{part(15, 2)}, {part(18, 2)}::double precision) "
            f"+ {part(21, 6)}::double precision * '00:00:00.000001'::interval) "
            "AT TIME ZONE 'UTC'")


def _field_columns(derived_in):
    """The hashed fields' columns; derived_in(name) gives a Computed or None (plain)."""
    types = {"occurred_at": sa.DateTime(timezone=True), "actor_name": sa.String(200),
             "actor_organisation": sa.String(200), "action": sa.String(100),
             "object_type": sa.String(50), "object_id": sa.String(50),
             "from_state": sa.String(32), "to_state": sa.String(32), "data": sa.Text(),
             "request_id": sa.String(64), "client_address": sa.String(64)}
    not_null = {"occurred_at", "action", "data"}
    columns = []
    for name in DERIVED_COLUMNS:
        args = [types.get(name, sa.Integer())]
        if name == "actor_id":
            args.append(sa.ForeignKey("users.id", name=op.f("fk_audit_events_actor_id_users")))
        computed = derived_in(name)
        if computed is not None:
            args.append(computed)
        columns.append(sa.Column(name, *args, nullable=name not in not_null))
    return columns


def _table(name, derived_in, with_canonical):
    columns = [sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False)]
    if with_canonical:
        columns.append(sa.Column("canonical", sa.Text(), nullable=False))
    columns += _field_columns(derived_in)
    columns += [sa.Column("prev_hash", sa.String(64), nullable=False),
                sa.Column("hash", sa.String(64), nullable=False)]
    return op.create_table(
        name, *columns,
        sa.CheckConstraint("seq >= 1", name=op.f("ck_audit_events_seq_positive")),
        sa.CheckConstraint("length(hash) = 64 AND length(prev_hash) = 64",
                           name=op.f("ck_audit_events_hash_shape")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    )


def _guards(create):
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres and create:
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON "
                   "audit_events FOR EACH ROW EXECUTE FUNCTION lagesbild_refuse_change()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_refuse_change()")
    elif postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{verb.lower()}")
            if create:
                op.execute(
                    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON "
                    f"audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: "
                    f"{verb} refused'); END")


def _set_aside_old_table(indexes):
    """Rename the old table out of the way, freeing every name the new one will use."""
    postgres = op.get_bind().dialect.name == "postgresql"
    _guards(create=False)
    for index in indexes:
        op.drop_index(index, table_name="audit_events")
    op.rename_table("audit_events", "audit_events_old")
    if postgres:
        for constraint in ("pk_audit_events", "uq_audit_events_prev_hash",
                           "uq_audit_events_hash", "fk_audit_events_actor_id_users"):
            op.execute(f"ALTER TABLE audit_events_old RENAME CONSTRAINT {constraint} "
                       f"TO {constraint}_old")


def _finish(indexes):
    op.drop_table("audit_events_old")
    for index, columns in indexes.items():
        op.create_index(index, "audit_events", columns)
    _guards(create=True)


def _copy(old, new, convert):
    """Stream the old rows into the new table in seq order, batch by batch."""
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(sa.select(old).where(old.c.seq > last)
                                  .order_by(old.c.seq).limit(BATCH)).all()
        if not rows:
            return
        connection.execute(new.insert(), [convert(row) for row in rows])
        last = rows[-1].seq


def _reflected(name, with_canonical, time_type):
    columns = [sa.Column("seq", sa.Integer())]
    if with_canonical:
        columns.append(sa.Column("canonical", sa.Text()))
    kinds = {"time": time_type, "int": sa.Integer(), "text": sa.Text()}
    columns += [sa.Column(c, kinds[kind]) for c, kind in DERIVED_COLUMNS.items()]
    columns += [sa.Column("prev_hash", sa.Text()), sa.Column("hash", sa.Text())]
    return sa.table(name, *columns)


class _StoredUTC(sa.types.TypeDecorator):
    """Reads a stored time as timezone-aware UTC (SQLite keeps it without a zone)."""
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return value.astimezone(UTC).replace(tzinfo=None)


def _int_or_none(value):
    return None if value is None else int(value)


def upgrade():
    dialect = op.get_bind().dialect.name
    _set_aside_old_table([*INDEXES, "ix_audit_events_occurred_at"])
    _table("audit_events",
           lambda name: sa.Computed(sa.text(_derived_sql(dialect, name)),
                                    persisted=True if dialect == "postgresql" else None),
           with_canonical=True)
    old = _reflected("audit_events_old", False, _StoredUTC())

    def convert(row):
        payload = {name: getattr(row, name) for name in HASHED_FIELDS}
        for name, kind in DERIVED_COLUMNS.items():
            if kind == "int":
                payload[name] = _int_or_none(payload[name])
        payload["occurred_at"] = row.occurred_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.%fZ")
        return {"seq": row.seq, "canonical": _CANONICAL.encode(payload),
                "prev_hash": row.prev_hash, "hash": row.hash}

    _copy(old, sa.table("audit_events", *(sa.column(c) for c in
                                          ("seq", "canonical", "prev_hash", "hash"))), convert)
    _finish({**INDEXES, "ix_audit_events_occurred_at_seq": ["occurred_at", "seq"]})


def downgrade():
    _set_aside_old_table([*INDEXES, "ix_audit_events_occurred_at_seq"])
    _table("audit_events", lambda name: None, with_canonical=False)
    old = _reflected("audit_events_old", True, _StoredUTC())
    new = _reflected("audit_events", False, _StoredUTC())

    def convert(row):
        values = {c: getattr(row, c) for c in ("seq", *DERIVED_COLUMNS, "prev_hash", "hash")}
        for name, kind in DERIVED_COLUMNS.items():
            if kind == "int":
                values[name] = _int_or_none(values[name])
        return values

    _copy(old, new, convert)
    _finish({**INDEXES, "ix_audit_events_occurred_at": ["occurred_at"]})
