"""pending uploads wait in the database, so the import's confirmation may reach another app
server than its preview did

Revision ID: e5a9c3d1b8f4
Revises: e7b3c9d1f4a6
Create Date: 2026-12-02 03:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'e5a9c3d1b8f4'
down_revision = 'e7b3c9d1f4a6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pending_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_pending_uploads_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_uploads')),
        sa.UniqueConstraint('user_id', 'sha256', name='uq_pending_uploads_user_sha'),
    )
    op.create_index(op.f('ix_pending_uploads_created_at'), 'pending_uploads', ['created_at'])


def downgrade():
    op.drop_index(op.f('ix_pending_uploads_created_at'), table_name='pending_uploads')
    op.drop_table('pending_uploads')
