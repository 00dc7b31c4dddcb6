"""one-time password reset links, kept only as the SHA-256 of their token; organisations
and areas get a version that their administration forms carry

Revision ID: b2d8f4a0e3c6
Revises: c3e9a5b1f4d7
Create Date: 2026-12-02 14:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'b2d8f4a0e3c6'
down_revision = 'c3e9a5b1f4d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'password_reset_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('spent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_password_reset_links_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_links')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_password_reset_links_token_hash')),
    )
    op.create_index(op.f('ix_password_reset_links_user_id'), 'password_reset_links',
                    ['user_id'])
    op.add_column('organisations', sa.Column('version', sa.Integer(), server_default='1',
                                             nullable=False))
    op.add_column('areas', sa.Column('version', sa.Integer(), server_default='1',
                                     nullable=False))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ drops columns itself): a batch copy would have to drop
    # tables that other tables' foreign keys point at.
    op.execute('ALTER TABLE areas DROP COLUMN version')
    op.execute('ALTER TABLE organisations DROP COLUMN version')
    op.drop_index(op.f('ix_password_reset_links_user_id'), table_name='password_reset_links')
    op.drop_table('password_reset_links')
