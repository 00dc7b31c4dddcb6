"""each user's notification preferences (immediate messages or a daily digest; reminders on
or off), and the outbox's messages held for the digest

Revision ID: d4f0b6c2a5e8
Revises: a1c7e3f9d2b5
Create Date: 2026-12-02 14:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'd4f0b6c2a5e8'
down_revision = 'a1c7e3f9d2b5'
branch_labels = None
depends_on = None


# `users`: plain ALTER TABLE, as before (a batch copy would drop a table others point at).
# `notifications`: nothing points at it, so a batch copy on SQLite carries its new foreign key.


def upgrade():
    op.add_column('users', sa.Column('notification_mode', sa.String(length=16),
                                     server_default='immediate', nullable=False))
    op.add_column('users', sa.Column('reminders_on', sa.Boolean(), server_default='1',
                                     nullable=False))
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('held_for_digest', sa.Boolean(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('digest_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_notifications_digest_id_notifications'),
                                 'notifications', ['digest_id'], ['id'], ondelete='SET NULL')
        batch.create_index(op.f('ix_notifications_digest_id'), ['digest_id'])


def downgrade():
    with op.batch_alter_table('notifications') as batch:
        batch.drop_index(op.f('ix_notifications_digest_id'))
        batch.drop_constraint(op.f('fk_notifications_digest_id_notifications'),
                              type_='foreignkey')
        batch.drop_column('digest_id')
        batch.drop_column('held_for_digest')
    op.execute('ALTER TABLE users DROP COLUMN reminders_on')
    op.execute('ALTER TABLE users DROP COLUMN notification_mode')
