"""search over section texts and remarks: FTS5 tables on SQLite, GIN indexes over
to_tsvector('swedish', ...) on PostgreSQL; built here for the rows that exist

On SQLite the app keeps the FTS5 tables current (app/search/index.py, SQLAlchemy events on
Section and Remark); on PostgreSQL the indexes are over an expression of the column itself, so
the database keeps them current. The names are listed in app/search/schema.py, which tells
autogenerate to leave them alone.

Revision ID: e6a2c8d4b0f9
Revises: d4f0b6c2a5e8
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op

revision = 'e6a2c8d4b0f9'
down_revision = 'd4f0b6c2a5e8'
branch_labels = None
depends_on = None

# unicode61 with remove_diacritics 0: å, ä and ö stay letters of their own ("har" is not "här").
_FTS5 = "fts5(text, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_sections_text_search ON sections "
                   "USING gin (to_tsvector('swedish', text))")
        op.execute("CREATE INDEX ix_remarks_text_search ON remarks "
                   "USING gin (to_tsvector('swedish', text))")
        return
    op.execute(f"CREATE VIRTUAL TABLE section_search USING {_FTS5}")
    op.execute(f"CREATE VIRTUAL TABLE remark_search USING {_FTS5}")
    op.execute("INSERT INTO section_search (rowid, text) "
               "SELECT id, text FROM sections WHERE text <> ''")
    op.execute("INSERT INTO remark_search (rowid, text) "
               "SELECT id, text FROM remarks WHERE contribution_id IS NOT NULL")


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX ix_remarks_text_search")
        op.execute("DROP INDEX ix_sections_text_search")
        return
    op.execute("DROP TABLE remark_search")
    op.execute("DROP TABLE section_search")
