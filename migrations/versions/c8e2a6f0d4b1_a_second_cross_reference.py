"""a city-wide section may be handled within two local topics ("… de lokalt prioriterade
områdena X och Y, se nedan"): a second link beside the first, and its title as approved

Revision ID: c8e2a6f0d4b1
Revises: e9d3b7f1a5c8
Create Date: 2026-12-02 18:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'c8e2a6f0d4b1'
down_revision = 'e9d3b7f1a5c8'
branch_labels = None
depends_on = None

SECOND_LINK_RULE = ("also_handled_in_topic_id IS NULL OR (handled_in_topic_id IS NOT NULL"
                    " AND also_handled_in_topic_id <> handled_in_topic_id"
                    " AND also_handled_in_topic_id <> topic_id)")


def upgrade():
    # Plain ALTER TABLE on both databases: a batch copy would have to drop tables that other
    # tables' foreign keys point at. SQLite takes the reference and the rule inline, as
    # column constraints (and drops them with the column).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE sections ADD COLUMN also_handled_in_topic_id INTEGER '
                   'CONSTRAINT fk_sections_also_handled_in_topic_id_topics '
                   'REFERENCES topics (id) '
                   f'CONSTRAINT ck_sections_second_link_after_a_first CHECK ({SECOND_LINK_RULE})')
    else:
        op.add_column('sections', sa.Column('also_handled_in_topic_id', sa.Integer(),
                                            nullable=True))
        op.create_foreign_key(op.f('fk_sections_also_handled_in_topic_id_topics'), 'sections',
                              'topics', ['also_handled_in_topic_id'], ['id'])
        op.create_check_constraint(op.f('ck_sections_second_link_after_a_first'), 'sections',
                                   SECOND_LINK_RULE)
    # Frozen at approval like the first (app.contributions.snapshot).
    op.add_column('sections', sa.Column('approved_second_reference', sa.String(length=300),
                                        nullable=True))


def downgrade():
    op.execute('ALTER TABLE sections DROP COLUMN approved_second_reference')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('ck_sections_second_link_after_a_first'), 'sections',
                           type_='check')
        op.drop_constraint(op.f('fk_sections_also_handled_in_topic_id_topics'), 'sections',
                           type_='foreignkey')
    op.execute('ALTER TABLE sections DROP COLUMN also_handled_in_topic_id')
