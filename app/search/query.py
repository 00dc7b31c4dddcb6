"""The one search: the section texts and remarks an actor may read, in every period and area
within their scope, with the period, area and topic of each hit.

SQLite: FTS5 (unicode61, diacritics kept) and each word as a prefix ("trefas" finds
"Trefasen"). PostgreSQL: the 'swedish' configuration's stemming, each word as a prefix of its
stem ("trefas" finds "Trefasen" and "trefaser"; without the prefix it would not, since the
stemmer makes "trefas" "tref" but "trefasen" "trefas"). Words are the letters and digits of
the query and nothing else, so no query syntax reaches either database (quotes, *, NEAR(,
operators are separators). Stop words ("och", "att") find nothing on PostgreSQL.

Read access is may_read's rule (app/contributions/policy.py) as a set of areas, in the SQL.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup, escape
from sqlalchemy import bindparam, text

from app.contributions.policy import readable_area_ids
from app.core.actors import Actor
from app.core.messages import N_, Msg
from app.extensions import db

MAX_QUERY_CHARS = 200
MAX_WORDS = 10
PER_PAGE = 20
# Letters and digits; everything else (punctuation, quotes, *, _, NUL) separates words.
_WORD = re.compile(r"[^\W_]+")
_SNIPPET_BEFORE, _SNIPPET_AFTER = 80, 200


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "section" or "remark"
    contribution_id: int
    anchor: str  # the element id on the contribution page
    period_name: str
    area_name: str
    topic_heading: str | None  # None: a general remark
    snippet: Markup


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    message: Msg | None = None  # why the query was not run

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def query_words(query: str) -> tuple[list[str], Msg | None]:
    """The words to look for, or why there are none to look for."""
    if len(query) > MAX_QUERY_CHARS:
        return [], Msg(N_("The search text is too long: at most {count} characters."),
                       count=MAX_QUERY_CHARS)
    words = list(dict.fromkeys(w.casefold() for w in _WORD.findall(query)))
    if not words:
        return [], Msg(N_("Type at least one word (letters or digits) to search for."))
    if len(words) > MAX_WORDS:
        return [], Msg(N_("Search for at most {count} words at a time."), count=MAX_WORDS)
    return words, None


def search(actor: Actor, query: str, page: int = 1, per_page: int = PER_PAGE) -> SearchResults:
    """One page of the hits the actor may read, newest period first, then area and topic."""
    query = query.strip()
    words, message = query_words(query)
    if message is not None:
        return SearchResults(query, page=page, per_page=per_page, message=message)
    areas = readable_area_ids(actor)
    if areas is not None and not areas:
        return SearchResults(query, page=page, per_page=per_page)
    postgres = db.engine.dialect.name == "postgresql"
    match, params = _match(words, postgres)
    if postgres:
        prefixes = _postgres_prefixes(params["match"]) or words
    else:
        prefixes = words
    scope = "" if areas is None else " AND c.area_id IN :areas"
    hits_sql = _HITS.format(section_match=match["section"], remark_match=match["remark"],
                            scope=scope)
    count = text(f"SELECT count(*) FROM ({hits_sql}) AS hits")
    rows_sql = text(f"SELECT * FROM ({hits_sql}) AS hits ORDER BY {_ORDER} "
                    "LIMIT :limit OFFSET :offset")
    if areas is not None:
        params["areas"] = sorted(areas)
        count = count.bindparams(bindparam("areas", expanding=True))
        rows_sql = rows_sql.bindparams(bindparam("areas", expanding=True))
    total = db.session.scalar(count, params) or 0
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = db.session.execute(rows_sql, {**params, "limit": per_page,
                                         "offset": (page - 1) * per_page}).all()
    hits = [SearchHit(
        kind=row.kind, contribution_id=row.contribution_id,
        anchor=(f"section-{row.section_id}" if row.section_id is not None
                else "general-remarks-heading"),
        period_name=row.period_name, area_name=row.area_name,
        topic_heading=_heading(row), snippet=snippet(row.body, prefixes),
    ) for row in rows]
    return SearchResults(query, hits, total, page, per_page)


def _match(words: list[str], postgres: bool) -> tuple[dict[str, str], dict]:
    if postgres:
        # Each word quoted, as a prefix of its stem; the words hold letters and digits only.
        tsquery = " & ".join(f"'{w}':*" for w in words)
        return ({"section": "to_tsvector('swedish', s.text) @@ to_tsquery('swedish', :match)",
                 "remark": "to_tsvector('swedish', r.text) @@ to_tsquery('swedish', :match)"},
                {"match": tsquery})
    fts = " ".join(f'"{w}"*' for w in words)  # every word, each a prefix
    return ({"section": "s.id IN (SELECT rowid FROM section_search WHERE section_search "
                        "MATCH :match)",
             "remark": "r.id IN (SELECT rowid FROM remark_search WHERE remark_search "
                       "MATCH :match)"},
            {"match": fts})


def _postgres_prefixes(tsquery: str) -> list[str]:
    """The stems PostgreSQL looks for (what the snippet marks)."""
    normalised = db.session.scalar(text("SELECT to_tsquery('swedish', :q)::text"),
                                   {"q": tsquery}) or ""
    return re.findall(r"'((?:[^']|'')+)'", normalised)


_HITS = """
SELECT 'section' AS kind, s.id AS section_id, s.text AS body, c.id AS contribution_id,
       p.name AS period_name, p.drafting_deadline AS period_date, a.name AS area_name,
       t.scope AS topic_scope, t.number AS topic_number, t.title AS topic_title,
       t.position AS topic_position, s.id AS item_id
FROM sections s
JOIN contributions c ON c.id = s.contribution_id
JOIN periods p ON p.id = c.period_id
JOIN areas a ON a.id = c.area_id
JOIN topics t ON t.id = s.topic_id
WHERE {section_match}{scope}
UNION ALL
SELECT 'remark', r.section_id, r.text, c.id, p.name, p.drafting_deadline, a.name,
       t.scope, t.number, t.title, t.position, r.id
FROM remarks r
JOIN contributions c ON c.id = r.contribution_id
JOIN periods p ON p.id = c.period_id
JOIN areas a ON a.id = c.area_id
LEFT JOIN sections rs ON rs.id = r.section_id
LEFT JOIN topics t ON t.id = rs.topic_id
WHERE {remark_match}{scope}
"""
# Newest period first; then the area; then document order (general remarks first).
_ORDER = ("period_date DESC, area_name, topic_scope IS NOT NULL, "
          "CASE WHEN topic_scope = 'city' THEN 0 ELSE 1 END, topic_number, topic_position, "
          "topic_title, kind DESC, item_id")


def _heading(row) -> str | None:
    if row.topic_title is None:
        return None
    return f"{row.topic_number}. {row.topic_title}" if row.topic_scope == "city" \
        else row.topic_title


def snippet(body: str, prefixes: list[str]) -> Markup:
    """A stretch of the text around the first match, every word that starts with one of the
    prefixes marked; the text is escaped, so only the <mark> elements are markup."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(body)
             if any(m.group().casefold().startswith(p) for p in prefixes)]
    first = words[0][0] if words else 0
    start = max(0, first - _SNIPPET_BEFORE)
    end = min(len(body), first + _SNIPPET_AFTER)
    if start > 0:  # begin and end at a word's edge
        start = body.find(" ", start, first) + 1 or start
    if end < len(body):
        end = body.rfind(" ", first, end) if body.rfind(" ", first, end) > first else end
    parts, position = [], start
    for word_start, word_end in words:
        if word_start < start or word_end > end:
            continue
        parts.append(escape(body[position:word_start]))
        parts.append(Markup("<mark>{}</mark>").format(body[word_start:word_end]))
        position = word_end
    parts.append(escape(body[position:end]))
    text_part = Markup("").join(parts)
    return (Markup("… ") if start > 0 else Markup("")) + text_part + \
        (Markup(" …") if end < len(body) else Markup(""))
