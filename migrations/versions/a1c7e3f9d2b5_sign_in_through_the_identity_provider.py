"""sign-in through the city's identity provider: who a user is there (issuer, subject), where
a membership comes from (granted by hand or following a group), and the groups' mappings

Revision ID: a1c7e3f9d2b5
Revises: f1c4a8e2d6b3
Create Date: 2026-12-02 14:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

revision = 'a1c7e3f9d2b5'
down_revision = 'f1c4a8e2d6b3'
branch_labels = None
depends_on = None

ROLES = "'drafter', 'reviewer', 'consolidator', 'approver', 'auditor', 'admin'"
AREA_ROLES = "'drafter', 'reviewer'"


# `users` by plain ALTER TABLE and a unique index (SQLite 3.35+ drops columns itself): a batch
# copy would have to drop a table that other tables' foreign keys point at.


def upgrade():
    op.add_column('users', sa.Column('oidc_issuer', sa.String(length=500), nullable=True))
    op.add_column('users', sa.Column('oidc_subject', sa.String(length=255), nullable=True))
    op.create_index('uq_users_oidc_identity', 'users', ['oidc_issuer', 'oidc_subject'],
                    unique=True)
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), server_default='manual',
                                      nullable=False))
        batch_op.create_check_constraint(batch_op.f('ck_memberships_source_known'),
                                         "source IN ('manual', 'group')")
    op.create_table(
        'group_mappings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_group', sa.String(length=256), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('area_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f'role IN ({ROLES})', name=op.f('ck_group_mappings_role_known')),
        sa.CheckConstraint(f'role IN ({AREA_ROLES}) OR area_id IS NULL',
                           name=op.f('ck_group_mappings_city_roles_city_wide')),
        sa.CheckConstraint('length(trim(provider_group)) > 0',
                           name=op.f('ck_group_mappings_group_not_blank')),
        sa.ForeignKeyConstraint(['area_id'], ['areas.id'],
                                name=op.f('fk_group_mappings_area_id_areas')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_group_mappings_organisation_id_organisations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_group_mappings')),
    )
    with op.batch_alter_table('group_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_mappings_provider_group'), ['provider_group'])
        batch_op.create_index(batch_op.f('ix_group_mappings_organisation_id'),
                              ['organisation_id'])
        batch_op.create_index(batch_op.f('ix_group_mappings_area_id'), ['area_id'])


def downgrade():
    op.drop_table('group_mappings')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_memberships_source_known'), type_='check')
        batch_op.drop_column('source')
    op.drop_index('uq_users_oidc_identity', table_name='users')
    op.execute('ALTER TABLE users DROP COLUMN oidc_subject')
    op.execute('ALTER TABLE users DROP COLUMN oidc_issuer')
