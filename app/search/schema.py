"""The search's database objects, which the migration e6a2c8d4b0f9 creates outside the models:
on SQLite two FTS5 tables (and the shadow tables FTS5 keeps beside them), on PostgreSQL two GIN
indexes over to_tsvector('swedish', text). Autogenerate and the migration test are told to
leave them alone (include_name)."""
from __future__ import annotations

SQLITE_TABLES = ("section_search", "remark_search")
# What FTS5 creates beside each table (the content, the index, its settings, the sizes).
_FTS5_SHADOWS = ("_data", "_idx", "_content", "_docsize", "_config")
POSTGRES_INDEXES = ("ix_sections_text_search", "ix_remarks_text_search")

SEARCH_OBJECTS = frozenset(
    (*SQLITE_TABLES, *(t + s for t in SQLITE_TABLES for s in _FTS5_SHADOWS), *POSTGRES_INDEXES))


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """For Alembic's comparison: every object but the search's."""
    return not (type_ in ("table", "index") and name in SEARCH_OBJECTS)
