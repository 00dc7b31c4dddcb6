"""contributions and consolidations imported from old documents carry an imported mark

Revision ID: e7b3c9d1f4a6
Revises: d4e8b1c2a7f5
Create Date: 2026-12-02 03:10:00.000000

An imported lägesbild was approved outside the system: the mark (the time of the import)
says so on every page and in the DOCX, and such a period's consolidation no longer names the
importer as its submitter and approver (who imported it stays in the audit trail's
document.import event).
"""
import sqlalchemy as sa
from alembic import op

revision = 'e7b3c9d1f4a6'
down_revision = 'd4e8b1c2a7f5'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch copy would have to drop tables that other
# tables' foreign keys (with ON DELETE CASCADE) point at.


def upgrade():
    op.add_column('contributions', sa.Column('imported_at', sa.DateTime(timezone=True),
                                             nullable=True))
    op.add_column('consolidations', sa.Column('imported_at', sa.DateTime(timezone=True),
                                              nullable=True))
    # Imports made before the mark: a contribution whose texts came from a document.
    op.execute("""
        UPDATE contributions SET imported_at = (
            SELECT min(r.created_at) FROM section_revisions r
            JOIN sections s ON s.id = r.section_id
            WHERE s.contribution_id = contributions.id AND r.cause = 'import')
        WHERE state = 'approved' AND EXISTS (
            SELECT 1 FROM section_revisions r JOIN sections s ON s.id = r.section_id
            WHERE s.contribution_id = contributions.id AND r.cause = 'import')
    """)
    # A period the import created: approved at once by the importer alone, and holding
    # nothing but imported contributions.
    op.execute("""
        UPDATE consolidations SET imported_at = approved_at, submitted_by_id = NULL,
               approved_by_id = NULL
        WHERE state = 'approved' AND submitted_by_id IS NOT DISTINCT FROM approved_by_id
          AND submitted_at = approved_at
          AND EXISTS (SELECT 1 FROM contributions c
                      WHERE c.period_id = consolidations.period_id)
          AND NOT EXISTS (SELECT 1 FROM contributions c
                          WHERE c.period_id = consolidations.period_id
                            AND c.imported_at IS NULL)
    """)


def downgrade():
    op.execute('ALTER TABLE consolidations DROP COLUMN imported_at')
    op.execute('ALTER TABLE contributions DROP COLUMN imported_at')
