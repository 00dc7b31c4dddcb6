"""the notifications outbox: messages written with the change they tell about, sent after;
and each user's language, for her messages

Revision ID: f1c4a8e2d6b3
Revises: e5a9c3d1b8f4
Create Date: 2026-12-02 03:30:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'f1c4a8e2d6b3'
down_revision = 'e5a9c3d1b8f4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('language', sa.String(length=2), server_default='sv',
                                     nullable=False))
    op.create_table(
        'notifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=64), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('once_key', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['users.id'],
                                name=op.f('fk_notifications_recipient_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('once_key', name=op.f('uq_notifications_once_key')),
    )
    op.create_index('ix_notifications_due', 'notifications',
                    ['sent_at', 'failed_at', 'next_attempt_at'])
    op.create_index(op.f('ix_notifications_recipient_id'), 'notifications', ['recipient_id'])


def downgrade():
    op.drop_index(op.f('ix_notifications_recipient_id'), table_name='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.drop_table('notifications')
    op.execute('ALTER TABLE users DROP COLUMN language')
