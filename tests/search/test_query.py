"""The search (app/search/query.py) on the database under test: read access exactly as the
pages' may_read, every path that writes a text kept in the index, hostile queries answered
with a message or nothing, snippets that carry no markup but the marks. Tests marked
`postgres` run the same on PostgreSQL."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade

from app.contributions import operations as contributions
from app.contributions.policy import may_read, readable_area_ids
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Contribution, Section
from app.search.query import MAX_QUERY_CHARS, search
from tests.factories import USERS, build_world, run

ON_EACH_DATABASE = pytest.mark.parametrize("database", [
    pytest.param("main", id="main"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])


def write(world, area: str, key: str, words: str) -> list[int]:
    """Give each of the area's sections a text with `words` in it; the sections' ids."""
    ids = []
    for section in world.sections(area):
        section_id, version = section.id, section.version
        run(world, key, contributions.edit_section, section_id,
            f"- {words} vid torget ({section_id}).", version)
        ids.append(section_id)
    return ids


def hits_of(world, key: str, query: str, **kwargs):
    return search(world.user(key), query, **kwargs)


def areas_of(results) -> set[str]:
    return {hit.area_name for hit in results.hits}


@pytest.fixture
def written(world):
    """Both areas' drafts speak of Trefasen; Norr's police returned theirs with remarks."""
    write(world, "Norr", "drafter", "Trefasen och narkotikahandeln")
    write(world, "Söder", "drafter_south", "Trefasen och ungdomsgården")
    first = world.sections("Norr")[0]
    run(world, "drafter", contributions.transition, world.contribution("Norr").id, "submit")
    run(world, "reviewer", contributions.transition, world.contribution("Norr").id, "return",
        remarks=[contributions.RemarkInput("Beskriv kameraövervakningen närmare.", first.id),
                 contributions.RemarkInput("Kameraövervakningen saknas i helheten.")])
    return world


@ON_EACH_DATABASE
def test_every_role_finds_exactly_what_may_read_lets_it_read(app, written, database):
    contributions_by_id = {c.id: c for c in db.session.scalars(db.select(Contribution))}
    for key in USERS:
        user = written.user(key)
        readable = {cid for cid, c in contributions_by_id.items() if may_read(user, c)}
        areas = readable_area_ids(user)
        assert readable == {cid for cid, c in contributions_by_id.items()
                            if areas is None or c.area_id in areas}, key
        results = search(user, "trefasen", per_page=100)
        assert {hit.contribution_id for hit in results.hits} == readable, key
        # Every section of what it may read, and nothing else.
        assert results.total == sum(len(contributions_by_id[cid].sections) for cid in readable)


def test_a_reviewer_of_another_area_and_the_admin_find_nothing(app, written):
    for key in ("reviewer_south", "drafter_south"):
        assert hits_of(written, key, "narkotikahandeln").total == 0
        assert hits_of(written, key, "kameraövervakningen").total == 0
        assert areas_of(hits_of(written, key, "trefasen", per_page=100)) == {"Söder"}
    for query in ("trefasen", "narkotikahandeln", "kameraövervakningen"):
        results = hits_of(written, "admin", query)
        assert results.total == 0 and results.hits == [] and results.message is None
    assert areas_of(hits_of(written, "auditor", "trefasen", per_page=100)) == {"Norr", "Söder"}


def test_an_inactive_user_finds_nothing(app, written):
    user = written.user("reviewer")
    user.active = False
    assert readable_area_ids(user) == frozenset()
    assert search(user, "trefasen").total == 0
    db.session.rollback()


@ON_EACH_DATABASE
def test_each_hit_names_its_period_area_and_topic_and_links_to_its_section(app, written,
                                                                           database):
    first = written.sections("Norr")[0]
    results = hits_of(written, "reviewer", "kameraövervakningen")
    assert results.total == 2
    general, tied = results.hits  # general remarks come first, then document order
    assert (general.kind, general.topic_heading, general.anchor) == (
        "remark", None, "general-remarks-heading")
    assert (tied.kind, tied.topic_heading, tied.anchor) == (
        "remark", first.topic.heading, f"section-{first.id}")
    for hit in results.hits:
        assert (hit.period_name, hit.area_name) == ("januari 2030", "Norr")
        assert hit.contribution_id == written.contribution("Norr").id
    sections = hits_of(written, "reviewer", "narkotikahandeln", per_page=100)
    assert [h.topic_heading for h in sections.hits] == [
        s.topic.heading for s in written.sections("Norr")]
    assert all(h.kind == "section" for h in sections.hits)


@ON_EACH_DATABASE
def test_a_word_finds_longer_words_and_every_word_must_appear(app, written, database):
    assert hits_of(written, "reviewer", "trefas").total == len(written.sections("Norr"))
    assert hits_of(written, "reviewer", "Kameraöver").total == 2
    assert hits_of(written, "reviewer", "trefasen ungdomsgården").total == 0
    assert hits_of(written, "reviewer_south", "TREFASEN Ungdomsgården").total == len(
        written.sections("Söder"))


def test_sqlite_keeps_å_ä_and_ö(app, written, dialect):
    if dialect != "sqlite":
        pytest.skip("PostgreSQL's Swedish stemmer decides what matches")
    assert hits_of(written, "reviewer", "kameraovervakningen").total == 0


@ON_EACH_DATABASE
def test_a_saved_text_replaces_the_old_one_in_the_search(app, world, database):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Gammal text om Trefasen.",
        section.version)
    section = db.session.get(Section, section.id)
    run(world, "drafter", contributions.edit_section, section.id, "Ny text om Husby centrum.",
        section.version)
    assert hits_of(world, "drafter", "trefasen").total == 0
    assert [h.anchor for h in hits_of(world, "drafter", "husby").hits] == [
        f"section-{section.id}"]


@ON_EACH_DATABASE
def test_a_text_whose_operation_fails_is_not_found(app, world, database):
    section = world.sections("Norr")[0]
    actor = world.user("drafter")
    with pytest.raises(RuntimeError):
        with operation(actor):
            contributions.edit_section(actor, section.id, "Texten om Rinkebystråket.",
                                       section.version)
            raise RuntimeError("the unit of work fails after the save")
    assert hits_of(world, "drafter", "rinkebystråket").total == 0


HOSTILE = [
    "", "   ", '"', '""', "*", "***", "NEAR(", 'NEAR("a" "b")', "-", "(", ")", "'", "\\",
    "&|!:", "trefasen\x00", "\x00", "OR", "AND NOT", "a" * MAX_QUERY_CHARS, "ord " * 11,
    "x" * (MAX_QUERY_CHARS + 1), "'; DROP TABLE sections; --", "trefasen*", '"trefasen',
    "trefasen:*", "^trefasen", "text:trefasen", "och", "🙂", "1", "a'b", "a''b:*|c",
]


@ON_EACH_DATABASE
def test_hostile_or_empty_queries_give_a_message_or_plain_hits(app, written, database):
    sections = db.session.scalar(db.select(db.func.count()).select_from(Section))
    for query in HOSTILE:
        results = hits_of(written, "reviewer", query)
        if results.message is not None:
            assert results.total == 0 and results.hits == [], query
            assert results.message.translated(), query
        else:
            assert all(h.area_name == "Norr" for h in results.hits), query
    assert db.session.scalar(db.select(db.func.count()).select_from(Section)) == sections


def test_bad_queries_say_why(app, written):
    assert "at least one word" in hits_of(written, "reviewer", '"*(').message
    assert "at least one word" in hits_of(written, "reviewer", "").message
    assert "too long" in hits_of(written, "reviewer", "x" * (MAX_QUERY_CHARS + 1)).message
    # Ten distinct words are the limit; a word said twice is one word.
    assert hits_of(written, "reviewer", "ord " * 11).message is None
    assert "at most 10 words" in hits_of(
        written, "reviewer", " ".join(f"ord{i}" for i in range(11))).message


def test_query_syntax_is_only_words(app, written):
    """Quotes, stars and operators separate words: `trefasen*` is the word trefasen."""
    expected = len(written.sections("Norr"))
    for query in ('"trefasen"', "trefasen*", "trefasen:*", "(trefasen)", "trefasen NEAR("):
        results = hits_of(written, "reviewer", query)
        assert results.message is None
        assert results.total == (expected if "near" not in query.lower() else 0), query


@ON_EACH_DATABASE
def test_the_snippet_marks_the_words_and_escapes_the_text(app, world, database):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id,
        'Före <script>alert("x")</script> & <b>Trefasen</b> efter.', section.version)
    (hit,) = hits_of(world, "drafter", "trefasen").hits
    assert str(hit.snippet) == ('Före &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; '
                                '&lt;b&gt;<mark>Trefasen</mark>&lt;/b&gt; efter.')


def test_a_long_text_is_cut_around_the_first_match(app, world):
    section = world.sections("Norr")[0]
    text = " ".join(["Inledning"] * 60 + ["Trefasen"] + ["Avslutning"] * 80)
    run(world, "drafter", contributions.edit_section, section.id, text, section.version)
    (hit,) = hits_of(world, "drafter", "trefasen").hits
    snippet = str(hit.snippet)
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>Trefasen</mark>" in snippet and len(snippet) < 400


@ON_EACH_DATABASE
def test_hits_come_a_page_at_a_time(app, written, database):
    count = len(written.sections("Norr"))
    first = hits_of(written, "reviewer", "trefasen", per_page=2)
    assert (first.total, first.pages, len(first.hits)) == (count, -(-count // 2), 2)
    last = hits_of(written, "reviewer", "trefasen", page=99, per_page=2)
    assert last.page == first.pages and 1 <= len(last.hits) <= 2
    seen = [h.anchor for p in range(1, first.pages + 1)
            for h in hits_of(written, "reviewer", "trefasen", page=p, per_page=2).hits]
    assert len(seen) == len(set(seen)) == count


@pytest.mark.parametrize("database", [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
])
def test_the_migration_indexes_the_texts_that_exist(request, tmp_path, database):
    from tests.audit.support import application_on_empty_database

    with application_on_empty_database(request, tmp_path, database):
        upgrade()
        world = build_world()
        db.session.remove()
        # Back to before the search existed (no index, no FTS5 table to keep current), with
        # the rows kept, and texts written then; later migrations keep the test valid.
        downgrade(revision=_search_migration().down_revision)
        with db.engine.begin() as connection:
            connection.execute(db.text("UPDATE sections SET text = 'Trefasen vid torget.'"))
        upgrade()
        results = search(world.user("auditor"), "trefasen", per_page=100)
        assert results.total == db.session.scalar(
            db.select(db.func.count()).select_from(Section))
        db.session.remove()
        downgrade(revision=_search_migration().down_revision)
        upgrade()


def _search_migration():
    """The migration that creates the search index (its down_revision is where it starts)."""
    import importlib.util
    from pathlib import Path

    [path] = (Path(__file__).resolve().parents[2] / "migrations" / "versions").glob(
        "e6a2c8d4b0f9_*.py")
    spec = importlib.util.spec_from_file_location("search_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_postgresql_matches_inflections_by_the_swedish_stem(app, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id,
        "Ungdomar samlas på platserna kring torget.", section.version)
    for query in ("platsen", "ungdomarna", "Platser torget"):
        assert hits_of(world, "drafter", query).total == 1, query
    (hit,) = hits_of(world, "drafter", "platsen").hits
    assert "<mark>platserna</mark>" in str(hit.snippet)
    assert hits_of(world, "drafter", "och").total == 0  # a stop word


def test_sqlite_matches_by_prefix_only(app, world, dialect):
    if dialect != "sqlite":
        pytest.skip("SQLite's FTS5 only")
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id,
        "Ungdomar samlas på platserna kring torget och skolan.", section.version)
    assert hits_of(world, "drafter", "plats").total == 1
    assert hits_of(world, "drafter", "platsen").total == 0
    assert hits_of(world, "drafter", "och").total == 1


@ON_EACH_DATABASE
def test_texts_carried_forward_are_found_in_the_new_period_too(app, world, database):
    from datetime import date

    from app.admin import operations as admin
    from app.documents.carry_forward import carry_forward
    from tests.documents.support import approve_period
    from tests.factories import SETUP

    approve_period(world)  # every text is "- Arbetet pågår enligt plan. (id)"
    with operation(SETUP):
        period = admin.create_period(
            SETUP, "februari 2030", drafting_deadline=date(2030, 2, 10),
            review_deadline=date(2030, 2, 17), consolidation_deadline=date(2030, 2, 24),
            approval_deadline=date(2030, 2, 28))
        carry_forward(SETUP, period.id)
    results = hits_of(world, "reviewer", "arbetet plan", per_page=100)
    count = len(world.sections("Norr"))
    assert results.total == 2 * count
    # The newest period first.
    assert [h.period_name for h in results.hits] == ["februari 2030"] * count + [
        "januari 2030"] * count


@ON_EACH_DATABASE
def test_the_migration_made_the_search_objects(app, dialect, database):
    from sqlalchemy import text

    from app.search.schema import POSTGRES_INDEXES, SQLITE_TABLES

    if dialect == "postgresql":
        found = db.session.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names)"),
            {"names": list(POSTGRES_INDEXES)}).all()
        assert {name for name, _ in found} == set(POSTGRES_INDEXES)
        assert all("USING gin (to_tsvector('swedish'::regconfig, text))" in d for _, d in found)
    else:
        found = dict(db.session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE name IN ('section_search', "
            "'remark_search')")).all())
        assert set(found) == set(SQLITE_TABLES)
        assert all("fts5" in sql and "remove_diacritics 0" in sql for sql in found.values())
