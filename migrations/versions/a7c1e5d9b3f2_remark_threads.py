"""remark threads: a contribution's remark can be answered (remark_replies) and resolved by its
author (remark_resolutions); both are append-only, as the remarks are

Revision ID: a7c1e5d9b3f2
Revises: c8e2a6f0d4b1
Create Date: 2026-12-02 18:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c1e5d9b3f2'
down_revision = 'c8e2a6f0d4b1'
branch_labels = None
depends_on = None

NEW_APPEND_ONLY_TABLES = ('remark_replies', 'remark_resolutions')


def upgrade():
    op.create_table(
        'remark_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('remark_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('length(trim(text)) > 0',
                           name=op.f('ck_remark_replies_text_not_blank')),
        sa.CheckConstraint('length(text) <= 20000', name=op.f('ck_remark_replies_text_length')),
        sa.ForeignKeyConstraint(['remark_id'], ['remarks.id'],
                                name=op.f('fk_remark_replies_remark_id_remarks')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_remark_replies_author_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_remark_replies')),
    )
    op.create_index(op.f('ix_remark_replies_remark_id'), 'remark_replies', ['remark_id'])
    op.create_table(
        'remark_resolutions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('remark_id', sa.Integer(), nullable=False),
        sa.Column('resolved_by_id', sa.Integer(), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['remark_id'], ['remarks.id'],
                                name=op.f('fk_remark_resolutions_remark_id_remarks')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'],
                                name=op.f('fk_remark_resolutions_resolved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_remark_resolutions')),
        sa.UniqueConstraint('remark_id', name=op.f('uq_remark_resolutions_remark_id')),
    )
    # The same guards as the first migration's (its refusing function exists on PostgreSQL).
    if op.get_bind().dialect.name == 'postgresql':
        for table in NEW_APPEND_ONLY_TABLES:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION lagesbild_refuse_change()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION lagesbild_refuse_change()")
    else:
        for table in NEW_APPEND_ONLY_TABLES:
            for verb in ('UPDATE', 'DELETE'):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
                )


def downgrade():
    # Dropping the tables drops their triggers too.
    op.drop_table('remark_resolutions')
    op.drop_index(op.f('ix_remark_replies_remark_id'), table_name='remark_replies')
    op.drop_table('remark_replies')
