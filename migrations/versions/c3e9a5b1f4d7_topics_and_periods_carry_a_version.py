"""topics and periods carry a version: an administrator's change made against a page that is
out of date (renamed, moved, retired or given new deadlines meanwhile) is refused, not applied

Revision ID: c3e9a5b1f4d7
Revises: e6a2c8d4b0f9
Create Date: 2026-12-02 14:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'c3e9a5b1f4d7'
down_revision = 'e6a2c8d4b0f9'
branch_labels = None
depends_on = None

# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns itself): a batch copy of
# either table would have to drop a table that other tables' foreign keys point at.
TABLES = ('topics', 'periods')


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), server_default='1',
                                       nullable=False))


def downgrade():
    for table in TABLES:
        op.execute(f'ALTER TABLE {table} DROP COLUMN version')
