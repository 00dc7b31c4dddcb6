"""users get a session generation: raising it ends every session the user has

Revision ID: d4e8b1c2a7f5
Revises: c7a1e5d2f903
Create Date: 2026-12-02 00:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'd4e8b1c2a7f5'
down_revision = 'c7a1e5d2f903'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases (SQLite 3.35+ drops columns itself): a batch copy of
# `users` would have to drop a table that other tables' foreign keys point at.


def upgrade():
    op.add_column('users', sa.Column('session_generation', sa.Integer(), server_default='0',
                                     nullable=False))


def downgrade():
    op.execute('ALTER TABLE users DROP COLUMN session_generation')
