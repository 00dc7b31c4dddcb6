"""Import of old documents: the seed (text) once its mapping is corrected, round trip through
our own DOCX, the mapping's checks, the command line."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.demo.texts import CITY_TOPICS, SEED_CITY_TEXTS, SEED_LOCAL_TEXTS
from app.documents.cross_references import rendered_text
from app.documents.docx_format import reader_text
from app.documents.export import export_contribution, export_period
from app.documents.importer import (
    Choices,
    check_mapping,
    import_document,
    parse_mapping_file,
    parse_text,
    propose,
    reference_warnings,
)
from app.extensions import db
from app.models import Area, AuditEvent, Contribution, Period, Section, Topic
from tests.documents.support import (
    add_area,
    approve_period,
    docx_with_headings,
    read_docx,
    seed_bytes,
    seed_mapping,
    use_seed_city_topics,
)
from tests.factories import SETUP, fill_sections, run

SEED_LOCAL_ORDER = ["Nyrekrytering", "Kriminella konflikter", "Otillåten påverkan",
                    "Otrygga brottsutsatta platser"]


@pytest.fixture
def jarva(world):
    use_seed_city_topics()
    return add_area("Järva")


def _contribution(area_id: int, period_name: str) -> Contribution:
    period = db.session.scalar(select(Period).where(Period.name == period_name))
    return db.session.scalar(select(Contribution).where(
        Contribution.area_id == area_id, Contribution.period_id == period.id))


# --- parsing --------------------------------------------------------------------------------

def test_the_seed_text_is_parsed_with_its_defects_repaired():
    layout = parse_text(seed_bytes().decode("utf-8"))
    assert layout.title == "Lägesbild december 2022 [Ange område här]"
    rows = layout.chapters[0].rows
    city = [r for r in rows if r.scope == "city"]
    assert [r.number for r in city] == list(range(1, 11))
    assert city[9].title == "Kameraövervakning"  # "10" / "." / "Kameraövervakning"
    assert city[0].title == "Riktat arbete mot avgränsade platser och utsatta områden"
    assert city[0].text == SEED_CITY_TEXTS[1]  # hard-wrapped lines joined
    assert city[3].text == SEED_CITY_TEXTS[4]  # typo kept: "linjeveorganisationer"
    local = [r for r in rows if r.scope == "local"]
    assert [r.title for r in local] == SEED_LOCAL_ORDER
    first = local[0].text.split("\n")
    assert len(first) == 6 and all(line.startswith("- ") for line in first)
    assert "\uf0fc" not in local[0].text and "\u00a0" not in local[0].text
    assert first[4] == ("- De våldspreventiva programmen MVP och Agera tillsammans pågår i de "
                        "kommunala skolorna.")


def test_known_local_titles_inside_wrapped_lines_start_no_row():
    """The seed's last line "otillåten påverkan gentemot lokala näringslivet." continues a
    bullet, though "Otillåten påverkan" is one of the area's topics."""
    layout = parse_text(seed_bytes().decode("utf-8"), known_local=SEED_LOCAL_ORDER)
    local = [r for r in layout.chapters[0].rows if r.scope == "local"]
    assert [r.title for r in local] == SEED_LOCAL_ORDER
    assert local[-1].text.endswith("en kring otillåten påverkan gentemot lokala näringslivet.")
    titled = parse_text("Lägesbild maj 2020 Norr\nLokalt prioriterade områden Kommentar\n"
                        "Otillåten påverkan\nArbetet pågår.\nNyrekrytering Inga nya fall.",
                        known_local=SEED_LOCAL_ORDER)
    assert [(r.title, r.text) for r in titled.chapters[0].rows] == [
        ("Otillåten påverkan", "Arbetet pågår."), ("Nyrekrytering", "Inga nya fall.")]


def test_the_proposal_follows_the_document_and_offers_the_missing_local_topics(jarva):
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    assert proposal.new_topics == SEED_LOCAL_ORDER
    assert proposal.proposed["city-10"] == "city:10"
    assert proposal.proposed["local-2"] == "local:Kriminella konflikter"  # as the file says
    assert [b.id for b in proposal.blocks][-4:] == ["local-1", "local-2", "local-3", "local-4"]
    assert not proposal.warnings


# --- the seed -------------------------------------------------------------------------------

def test_the_seed_imports_once_its_mapping_is_corrected(jarva):
    with operation(SETUP):
        result = import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                                 seed_mapping())
    assert result.created_period and result.created_topics == SEED_LOCAL_ORDER
    contribution = _contribution(jarva, "december 2022")
    assert contribution.state == "approved"
    assert contribution.period.consolidation.state == "approved"
    # Final, but marked imported: nobody submitted or approved it in the system.
    consolidation = contribution.period.consolidation
    assert contribution.imported and consolidation.imported
    assert (consolidation.submitted_by_id, consolidation.approved_by_id) == (None, None)
    texts = {s.topic.title if s.topic.scope == "local" else s.topic.number: rendered_text(s)
             for s in contribution.sections}
    for number, text in SEED_CITY_TEXTS.items():
        assert texts[number] == text
    for title in ("Nyrekrytering", "Kriminella konflikter", "Otillåten påverkan"):
        assert texts[title] == SEED_LOCAL_TEXTS[title]
    assert texts["Otrygga brottsutsatta platser"] == ""  # the seed lost this comment

    # "... området otrygga brottsutsatta platser, se nedan." is stored as a link.
    first = next(s for s in contribution.sections if s.topic.number == 1)
    assert first.handled_in_topic.title == "Otrygga brottsutsatta platser" and first.text == ""
    for section in contribution.sections:
        assert [r.cause for r in section.revisions] == ["import"]

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.import")).one()
    data = json.loads(event.data)
    import hashlib
    assert data["source_sha256"] == hashlib.sha256(seed_bytes()).hexdigest()
    assert data["mapping"]["local-2"] == "local:Nyrekrytering"
    assert event.contribution_id == contribution.id and event.to_state == "approved"
    assert verify_chain().ok


def test_an_import_says_imported_in_the_docx_print_view_and_pages(jarva, world, web):
    with operation(SETUP):
        contribution_id = import_document(SETUP, seed_bytes(), "seed.txt", "Järva",
                                          "december 2022", seed_mapping()).contribution.id
    contribution = db.session.get(Contribution, contribution_id)
    exported = export_contribution(SETUP, contribution_id)
    period_export = export_period(SETUP, contribution.period_id)
    for document in (read_docx(exported.data), read_docx(period_export.data)):
        footer = document.sections[0].footer.paragraphs[0].text
        assert "Status: Importerad (fastställd utanför systemet) ·" in footer
        assert "UTKAST" not in footer
    web.log_in_as("consolidator")
    for path in (f"/contributions/{contribution_id}/print", f"/contributions/{contribution_id}",
                 "/documents/", f"/periods/{contribution.period_id}"):
        html = web.client.get(path).get_data(as_text=True)
        assert "Importerad (fastställd utanför systemet)" in html, path
        if path.endswith("/print"):
            assert "UTKAST" not in html


def test_the_seed_as_proposed_puts_texts_under_the_wrong_topics(jarva):
    """What the importer exists to prevent: --yes takes the document's slid rows as they are."""
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                        proposal.proposed)
    contribution = _contribution(jarva, "december 2022")
    texts = {s.topic.title: s.text for s in contribution.sections}
    assert texts["Kriminella konflikter"] != SEED_LOCAL_TEXTS["Kriminella konflikter"]


# --- round trip -----------------------------------------------------------------------------

def test_round_trip_export_then_import_gives_the_same_texts(world):
    fill_sections(world, "Norr")
    sections = world.sections("Norr")
    run(world, "drafter", contributions.edit_section, sections[-1].id,
        "Inledning: åäö.\n- Punkt ett\n- Punkt två, med\ttab", sections[-1].version)
    from app.documents.cross_references import set_cross_reference
    first = world.sections("Norr")[0]
    run(world, "drafter", set_cross_reference, first.id, sections[-1].topic_id, first.version)
    before = {s.topic.heading: rendered_text(s) for s in world.sections("Norr")}
    exported = export_contribution(world.user("consolidator"), world.contribution().id)

    new_area = add_area("Väster")
    proposal = propose(exported.data, db.session.get(Area, new_area))
    assert proposal.format == "docx" and proposal.new_topics == ["Trygghet i norr"]
    with operation(SETUP):
        import_document(SETUP, exported.data, "norr.docx", "Väster", "december 2029",
                        proposal.proposed)
    after = {s.topic.heading: rendered_text(s)
             for s in _contribution(new_area, "december 2029").ordered_sections}
    assert after == before
    imported = _contribution(new_area, "december 2029")
    assert next(s for s in imported.sections if s.topic.number == 1).handled_in_topic.title \
        == "Trygghet i norr"


# --- refusals -------------------------------------------------------------------------------

def _refused(jarva, mapping, message, period="december 2022"):
    before = db.session.scalar(select(db.func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput) as caught:
        with operation(SETUP):
            import_document(SETUP, seed_bytes(), "seed.txt", "Järva", period, mapping)
    assert message in caught.value.message
    assert db.session.scalar(select(db.func.count()).select_from(AuditEvent)) == before
    assert db.session.scalar(select(Period).where(Period.name == "december 2022")) is None
    assert not db.session.scalars(select(Topic).where(Topic.area_id == jarva)).all()


def test_a_mapping_leaving_a_text_unplaced_is_refused(jarva):
    mapping = seed_mapping()
    mapping["local-3"] = None
    _refused(jarva, mapping, "Every text must be placed under a topic or discarded. Not placed: "
                             "Otillåten påverkan.")
    del mapping["local-3"]
    _refused(jarva, mapping, "Not placed: Otillåten påverkan.")


def test_a_mapping_naming_unknown_topics_or_blocks_is_refused(jarva):
    mapping = seed_mapping()
    mapping["local-1"] = "local:Påhittat område"
    _refused(jarva, mapping, "The mapping names topics that do not exist: "
                             "local:Påhittat område.")
    mapping = seed_mapping() | {"city-11": "city:1"}
    _refused(jarva, mapping, "text blocks the file does not have: city-11")
    mapping = seed_mapping() | {"city-1": "city:42"}
    _refused(jarva, mapping, "topics that do not exist: city:42")


def test_a_text_with_a_personal_identity_number_is_refused_with_its_position(jarva):
    text = seed_bytes().decode("utf-8").replace(
        "SIG unga och unga vuxna löper på.", "SIG unga löper på, se 19121212-1212.")
    with pytest.raises(InvalidInput) as caught:
        propose(text.encode("utf-8"), db.session.get(Area, jarva))
    message = caught.value.message
    # The whole file is read first (the upload is kept until confirmed): its line and column.
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "19121212" in row)
    column = text.splitlines()[line - 1].index("19121212") + 1
    assert message == ("The file's text contains what looks like a personal identity number "
                       f"(line {line}, column {column}). Remove it: such numbers must not be "
                       "stored.")
    assert "19121212" not in message and "1212" not in message


def test_an_existing_lagesbild_is_not_overwritten(world):
    approve_period(world)
    proposal = propose(seed_bytes(), db.session.get(Area, world.areas["Norr"]))
    mapping = {b.id: "local:Trygghet i norr" for b in proposal.blocks}
    with pytest.raises(InvalidInput, match="already has a lägesbild for januari 2030"):
        with operation(SETUP):
            import_document(SETUP, seed_bytes(), "seed.txt", "Norr", "januari 2030", mapping)


def test_a_period_in_progress_takes_no_imports(world):
    proposal = propose(seed_bytes(), db.session.get(Area, world.areas["Söder"]))
    mapping = {b.id: "local:Trygghet i söder" for b in proposal.blocks}
    with pytest.raises(InvalidInput, match="still in progress"):
        with operation(SETUP):
            import_document(SETUP, seed_bytes(), "seed.txt", "Söder", "januari 2030", mapping)


@pytest.mark.parametrize("key", ["drafter", "reviewer", "approver", "auditor", "admin"])
def test_only_the_coordinator_imports(world, key):
    with pytest.raises(NotAllowed):
        run(world, key, import_document, seed_bytes(), "seed.txt", "Norr", "december 2022", {})


def test_the_coordinator_imports(jarva, world):
    run(world, "consolidator", import_document, seed_bytes(), "seed.txt", "Järva",
        "december 2022", seed_mapping())
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.import")).one()
    assert event.actor_name == "Consolidator"
    contribution = _contribution(jarva, "december 2022")
    assert {r.author_id for s in contribution.sections for r in s.revisions} == {
        world.users["consolidator"]}


def test_mapping_file_format():
    assert parse_mapping_file(b'{"blocks": {"city-1": "city:1"}}').blocks == {"city-1": "city:1"}
    for raw, message in ((b"[1]", "must be a JSON object"), (b"{", "not valid JSON"),
                         (b'{"blocks": {"a": 3}}', "must be a text"),
                         (b'{"format": "x", "blocks": {}}', "Unknown mapping format")):
        with pytest.raises(InvalidInput, match=message):
            parse_mapping_file(raw)


def test_a_mapping_for_another_file_is_refused(jarva):
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    with pytest.raises(InvalidInput, match="made for another file"):
        check_mapping(proposal, seed_mapping() | {"__source_sha256__": "0" * 64})


# --- command line ---------------------------------------------------------------------------

def test_cli_prints_the_proposal_and_saves_nothing_without_yes(jarva, runner, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes())
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Järva",
                                 "--period", "december 2022"])
    assert result.exit_code == 0, result.output
    assert "local-2" in result.output and "-> local:Kriminella konflikter" in result.output
    assert "Local topics to be created: Nyrekrytering; Kriminella konflikter" in result.output
    assert "Nothing was saved" in result.output
    assert db.session.scalar(select(Period).where(Period.name == "december 2022")) is None


def test_cli_saves_an_edited_mapping(jarva, runner, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes())
    template = tmp_path / "mapping.json"
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Järva",
                                 "--period", "december 2022", "--save-mapping", str(template)])
    assert result.exit_code == 0 and "Nothing was saved" in result.output
    document = json.loads(template.read_text(encoding="utf-8"))
    assert document["blocks"]["local-2"] == "local:Kriminella konflikter"
    document["blocks"].update(seed_mapping())
    template.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Järva",
                                 "--period", "december 2022", "--mapping", str(template)])
    assert result.exit_code == 0, result.output
    assert "Imported as the lägesbild of Järva for december 2022 (period created as a past " \
        "period), marked imported (approved outside the system)." in result.output
    texts = {s.topic.title: s.text for s in _contribution(jarva, "december 2022").sections}
    assert texts["Kriminella konflikter"] == SEED_LOCAL_TEXTS["Kriminella konflikter"]


def test_cli_yes_saves_the_proposal_and_bad_mappings_are_refused(jarva, runner, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes())
    bad = tmp_path / "bad.json"
    bad.write_text('{"blocks": {"city-1": "city:99"}}', encoding="utf-8")
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Järva",
                                 "--period", "december 2022", "--mapping", str(bad)])
    assert result.exit_code == 1 and "Not placed" in result.output
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Järva",
                                 "--period", "december 2022", "--yes"])
    assert result.exit_code == 0, result.output
    assert _contribution(jarva, "december 2022").state == "approved"
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Ingenstans",
                                 "--period", "december 2022", "--yes"])
    assert result.exit_code == 1 and "Unknown area 'Ingenstans'" in result.output


def test_cli_import_can_carry_forward_into_a_draft_period(world, runner, tmp_path):
    """An area whose current draft is still empty starts from the imported history."""
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes())
    mapping = tmp_path / "mapping.json"
    proposal = propose(seed_bytes(), db.session.get(Area, world.areas["Söder"]))
    blocks = {b.id: "local:Trygghet i söder" for b in proposal.blocks}
    mapping.write_text(json.dumps({"blocks": blocks}), encoding="utf-8")
    result = runner.invoke(args=["documents", "import", str(seed), "--area", "Söder",
                                 "--period", "december 2029", "--mapping", str(mapping),
                                 "--carry-forward-into", "januari 2030"])
    assert result.exit_code == 0, result.output
    assert "januari 2030: 1 sections start from the imported texts." in result.output
    # The draft now has the imported lägesbild's local topics; its own one got the text.
    local = next(s for s in world.sections("Söder") if s.topic.title == "Trygghet i söder")
    assert local.text.startswith("Arbetet hanteras inom ramen")
    assert [r.cause for r in local.revisions] == ["carry_forward"]


def _a_number() -> str:
    from app.core.text_rules import luhn_ok

    nine = "850709317"
    return nine + next(str(d) for d in range(10) if luhn_ok(nine + str(d)))


def test_the_file_name_and_the_period_pass_the_identity_number_guard(jarva):
    ten = _a_number()
    for filename, period, field in ((f"Järva {ten}.txt", "december 2022", "filename"),
                                    ("seed.txt", f"december {ten[:6]} {ten[6:]}", "period")):
        with pytest.raises(InvalidInput) as caught:
            with operation(SETUP):
                import_document(SETUP, seed_bytes(), filename, "Järva", period, seed_mapping())
        assert caught.value.details["field"] == field
        assert ten[:6] not in caught.value.message
    assert db.session.scalar(select(Period).where(Period.name == "december 2022")) is None
    assert not db.session.scalars(select(Topic).where(Topic.area_id == jarva)).all()


def test_every_text_of_a_docx_is_read_for_identity_numbers(jarva):
    """Not only the rows the import reads: a header, a comment-like paragraph outside the
    tables, the document's properties; a wrapped number in a cell too."""
    ten = _a_number()
    area = db.session.get(Area, jarva)
    for place in ("header", "paragraph", "property", "cell"):
        document = read_docx(export_bytes_of_an_empty_lagesbild())
        if place == "header":
            document.sections[0].header.paragraphs[0].text = f"Kontakt {ten}"
        elif place == "paragraph":
            document.add_paragraph(f"Anteckning: {ten[:6]}-{ten[6:]}")
        elif place == "property":
            document.core_properties.subject = f"19{ten}"
        else:
            cell = document.tables[0].rows[1].cells[2]
            cell.paragraphs[0].text = f"Se 19{ten[:6]}-"
            cell.add_paragraph(ten[6:])
        buffer = io.BytesIO()
        document.save(buffer)
        with pytest.raises(InvalidInput) as caught:
            propose(buffer.getvalue(), area)
        assert caught.value.details["field"] == "file", place
        assert "document's text (a line per paragraph)" in caught.value.message
        assert ten[:6] not in caught.value.message


def test_an_exports_fingerprint_is_not_taken_for_a_number(jarva):
    """Its SHA-256, in the footer and the properties, may hold ten digits that would pass."""
    ten = _a_number()
    data = export_bytes_of_an_empty_lagesbild(fingerprint=f"3f2a{ten}" + "b" * 50)
    assert ten in reader_text(data)
    assert propose(data, db.session.get(Area, jarva)).blocks


def export_bytes_of_an_empty_lagesbild(fingerprint: str = "0" * 64) -> bytes:
    from datetime import UTC, datetime

    from app.documents.docx_format import (
        Chapter,
        DocumentContent,
        SectionContent,
        render_docx,
    )

    chapter = Chapter("Lägesbild december 2022 Järva", "Järva", "approved", True,
                      [SectionContent("city", 1, "Unga i risk", "Arbetet pågår.")])
    content = DocumentContent("Lägesbild december 2022 Järva", "december 2022", "Järva",
                              "Fastställd", True, [chapter])
    return render_docx(content, datetime(2023, 1, 1, tzinfo=UTC), fingerprint)


# --- issue 15 item 7 / issue 16: a smarter preview ----------------------------------------

def _seed_with(title: str | None = None, replace: tuple[str, str] | None = None) -> bytes:
    text = seed_bytes().decode("utf-8")
    if title is not None:
        text = text.replace("Lägesbild december 2022 [Ange område här]", title)
    if replace is not None:
        text = text.replace(*replace)
    return text.encode("utf-8")


def test_the_seeds_two_topic_reference_links_both_topics(jarva):
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                        seed_mapping())
    sections = {s.topic.number: s for s in _contribution(jarva, "december 2022").sections
                if s.topic.number}
    second = sections[2]
    assert (second.handled_in_topic.title, second.also_handled_in_topic.title) == \
        ("Nyrekrytering", "Kriminella konflikter")
    assert second.text == "" and rendered_text(second) == SEED_CITY_TEXTS[2]
    assert sections[5].handled_in_topic.title == "Otillåten påverkan"
    assert sections[4].handled_in_topic is None  # a stock phrase, not a reference
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.import")).one()
    stored = json.loads(event.data)["sections"][second.topic.heading]
    assert stored["also_handled_in_topic_id"] == second.also_handled_in_topic_id


def test_a_reference_to_a_name_no_topic_has_stays_text_and_is_warned_about(jarva):
    data = _seed_with(replace=("kriminella konflikter, \n\nse nedan.",
                               "gängkriminalitet, \n\nse nedan."))
    proposal = propose(data, db.session.get(Area, jarva))
    warnings = [str(w) for w in reference_warnings(proposal, seed_mapping())]
    assert any("no local topic of this import has that name" in w and "gängkriminalitet" in w
               for w in warnings), warnings
    with operation(SETUP):
        import_document(SETUP, data, "seed.txt", "Järva", "december 2022", seed_mapping())
    third = next(s for s in _contribution(jarva, "december 2022").sections
                 if s.topic.number == 3)
    assert third.handled_in_topic is None and "gängkriminalitet, se nedan." in third.text


def test_see_below_pointing_at_a_topic_without_text_is_warned_about(jarva):
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    # Corrected as a person would, "Otrygga brottsutsatta platser" gets no text (the seed
    # lost it) while row 1 says "se nedan" about it.
    warnings = [str(w) for w in reference_warnings(proposal, seed_mapping())]
    assert warnings == ["'1. Riktat arbete mot avgränsade platser och utsatta områden' says "
                        "\"see below\" for the local topic 'Otrygga brottsutsatta platser', "
                        "but no text is placed under that topic."]
    assert reference_warnings(proposal, proposal.proposed) == []  # as the file has it


@pytest.mark.parametrize("title, warned", [
    ("Lägesbild december 2022 Södermalm", ["area 'Södermalm'", "into Järva"]),
    ("Lägesbild maj 2021 Järva", ["period 'maj 2021'", "as december 2022"]),
    ("Lägesbild december 2022 — Järva", []),
    ("Lägesbild december 2022 Järva", []),
    ("Lägesbild december 2022 [Ange område här]", []),
])
def test_the_preview_warns_when_the_title_names_another_area_or_period(jarva, title, warned):
    proposal = propose(_seed_with(title), db.session.get(Area, jarva), "december 2022")
    messages = " ".join(str(w) for w in proposal.warnings)
    for part in warned:
        assert part in messages
    if not warned:
        assert "title names" not in messages


def test_the_preview_names_an_area_topic_nearly_as_the_document_titles_it(jarva):
    """An old document's wording of a topic the area has ("Trygghet i ..." for "Trygghet
    kring ...") is proposed as a new topic, with a warning naming the area's own, which is
    among the targets to choose; a title unlike any of the area's gets no such warning."""
    with operation(SETUP):
        admin.create_topic(SETUP, "Otrygga och brottsutsatta platser", area_name="Järva")
        admin.create_topic(SETUP, "Ungdomsbrottslighet", area_name="Järva")
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    messages = [str(w) for w in proposal.warnings]
    assert messages == ["'Otrygga brottsutsatta platser' is not one of the area's local topics "
                        "and would be created; the area has 'Otrygga och brottsutsatta platser'. "
                        "Choose it in the mapping if it is the same topic."]
    assert "local:Otrygga och brottsutsatta platser" in [t.key for t in proposal.targets]


def test_a_docx_of_headings_and_paragraphs_reads_like_its_text(jarva):
    proposal = propose(docx_with_headings(), db.session.get(Area, jarva))
    assert proposal.format == "docx" and proposal.title == "Lägesbild september 2023 Järva"
    assert [(b.label, b.text) for b in proposal.blocks] == [
        (f"1. {CITY_TOPICS[0]}", "Arbetet hanteras inom ramen för det lokalt prioriterade "
                                 "området trygghet i centrum, se nedan."),
        (f"2. {CITY_TOPICS[1]}", "- Samverkan med skolorna.\n- Sommarjobb för unga."),
        ("Trygghet i centrum", "Trygghetsvandringar varje månad."),
        ("Nyrekrytering", "- Inga nya fall.")]
    assert proposal.proposed == {"city-1": "city:1", "city-2": "city:2",
                                 "local-1": "local:Trygghet i centrum",
                                 "local-2": "local:Nyrekrytering"}
    assert proposal.new_topics == ["Trygghet i centrum", "Nyrekrytering"]


def test_a_text_before_the_first_local_title_is_a_block_to_place_not_left_out(jarva):
    """A local text under no title the parser knows, and a title wrapped over two lines."""
    text = ("Lägesbild september 2023\nJärva\nLokalt prioriterade områden\n"
            "Polisen har ökat närvaron.\nNyrekrytering\nInga nya fall.\n")
    proposal = propose(text.encode(), db.session.get(Area, jarva), "september 2023")
    assert proposal.title == "Lägesbild september 2023 Järva"
    assert [(b.id, b.text) for b in proposal.blocks][0] == ("local-1",
                                                           "Polisen har ökat närvaron. "
                                                           "Nyrekrytering Inga nya fall.")
    assert proposal.proposed["local-1"] is None
    assert "No topic was found for 'local-1': choose one." in [str(w) for w in proposal.warnings]
    assert not any("title names" in str(w) for w in proposal.warnings)


def test_a_text_file_saved_in_windows_own_encoding_reads_as_in_utf8(jarva):
    """Notepad in a Swedish Windows saves "ANSI" (cp1252) unless told otherwise."""
    area = db.session.get(Area, jarva)
    text = seed_bytes().decode("utf-8").replace("\uf0fc", "•")  # cp1252 has no private use
    utf8, ansi = propose(text.encode("utf-8"), area), propose(text.encode("cp1252"), area)
    assert [(b.label, b.text) for b in ansi.blocks] == [(b.label, b.text) for b in utf8.blocks]
    assert any("å" in b.text or "ä" in b.text for b in ansi.blocks)


@pytest.mark.parametrize("letterhead", [1, 3])
def test_a_letterhead_above_the_title_is_passed_over(jarva, letterhead):
    text = ("Stockholms stad\nJärva stadsdelsförvaltning\nSocialtjänst och arbetsmarknad\n"
            .split("\n")[:letterhead])
    data = "\n".join([*text, "Lägesbild september 2023 Järva", "Lokalt prioriterade områden",
                      "Nyrekrytering • Inga nya fall."]).encode()
    proposal = propose(data, db.session.get(Area, jarva), "september 2023")
    assert proposal.title == "Lägesbild september 2023 Järva"
    assert [(b.label, b.text) for b in proposal.blocks] == [("Nyrekrytering",
                                                            "- Inga nya fall.")]
    assert [str(w) for w in proposal.warnings] == [
        f'Not imported: {letterhead} line(s) outside the topics, the first "Stockholms stad". '
        "A lägesbild has no text there."]


def test_an_introduction_above_the_tables_is_named_as_not_imported(jarva):
    data = ("Lägesbild september 2023 Järva\nUnder perioden har samverkan fördjupats.\n"
            "Lokalt prioriterade områden\nNyrekrytering • Inga nya fall.\n").encode()
    proposal = propose(data, db.session.get(Area, jarva), "september 2023")
    assert proposal.title == "Lägesbild september 2023 Järva"  # not the title wrapped
    assert [str(w) for w in proposal.warnings] == [
        'Not imported: 1 line(s) outside the topics, the first "Under perioden har samverkan '
        'fördjupats.". A lägesbild has no text there.']


def test_a_title_below_a_long_letterhead_is_not_looked_for():
    text = "\n".join(["Rad"] * 4 + ["Lägesbild september 2023 Järva", "Lokalt prioriterade "
                                                                   "områden", "Nyrekrytering"])
    with pytest.raises(InvalidInput, match="its first line should be the title"):
        parse_text(text)


def test_a_docx_of_headings_numbered_by_words_own_lists_reads_the_same(jarva):
    """Lists made with Word's numbering (w:numPr on the paragraph, its format in the numbering
    part) rather than the List Number / List Bullet styles: the same numbers and bullets."""
    from docx import Document
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = Document(io.BytesIO(docx_with_headings()))
    numbering = document.part.numbering_part.element
    formats = {}
    for num in numbering.findall(qn("w:num")):
        abstract = num.find(qn("w:abstractNumId")).get(qn("w:val"))
        level = next(a for a in numbering.findall(qn("w:abstractNum"))
                     if a.get(qn("w:abstractNumId")) == abstract).find(qn("w:lvl"))
        formats.setdefault(level.find(qn("w:numFmt")).get(qn("w:val")), num.get(qn("w:numId")))
    for paragraph in document.paragraphs:
        kind = {"List Number": "decimal", "List Bullet": "bullet"}.get(paragraph.style.name)
        if kind:
            paragraph.style = document.styles["Normal"]
            numbered = OxmlElement("w:numPr")
            for tag, value in (("w:ilvl", "0"), ("w:numId", formats[kind])):
                element = OxmlElement(tag)
                element.set(qn("w:val"), value)
                numbered.append(element)
            paragraph._p.get_or_add_pPr().append(numbered)
    buffer = io.BytesIO()
    document.save(buffer)
    area = db.session.get(Area, jarva)
    assert [(b.label, b.text) for b in propose(buffer.getvalue(), area).blocks] == [
        (b.label, b.text) for b in propose(docx_with_headings(), area).blocks]


def test_a_docx_of_headings_with_its_title_in_the_page_header(jarva):
    from docx import Document

    document = Document(io.BytesIO(docx_with_headings()))
    title = document.paragraphs[0]
    title._p.getparent().remove(title._p)
    document.sections[0].header.paragraphs[0].text = "Lägesbild september 2023 Järva"
    buffer = io.BytesIO()
    document.save(buffer)
    proposal = propose(buffer.getvalue(), db.session.get(Area, jarva), "september 2023")
    assert proposal.title == "Lägesbild september 2023 Järva" and len(proposal.blocks) == 4


def test_city_wide_rows_are_recognised_before_the_topics_exist_and_created(app):
    area_id = add_area("Järva")  # on an empty database: no city-wide topics yet
    proposal = propose(seed_bytes(), db.session.get(Area, area_id))
    city = [b for b in proposal.blocks if b.scope == "city"]
    assert [b.label for b in city][8:] == ["9. Ordningsvakter", "10. Kameraövervakning"]
    assert city[8].text == SEED_CITY_TEXTS[9] and city[9].text == SEED_CITY_TEXTS[10]
    assert [n for n, _ in proposal.new_city_topics] == list(range(1, 11))
    assert proposal.proposed["city-9"] == "city:9" and not proposal.warnings
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                        seed_mapping())
    topics = db.session.scalars(select(Topic).where(Topic.scope == "city")
                                .order_by(Topic.number)).all()
    assert [t.heading for t in topics][8:] == ["9. Ordningsvakter", "10. Kameraövervakning"]
    created = [json.loads(e.data) for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "topic.create"))]
    assert sum(1 for d in created if d["scope"] == "city" and d["source"] == "import") == 10


def test_an_import_adds_no_local_rows_the_source_lacks_unless_chosen(jarva):
    with operation(SETUP):
        for title in ("Nyrekrytering", "Trygghet i centrum"):
            admin.create_topic(SETUP, title, area_name="Järva")
    area = db.session.get(Area, jarva)
    proposal = propose(seed_bytes(), area)
    assert [t.key for t in proposal.optional_topics] == ["local:Trygghet i centrum"]
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                        seed_mapping())
    titles = [s.topic.title for s in _contribution(jarva, "december 2022").ordered_sections
              if s.topic.scope == "local"]
    assert sorted(titles) == sorted(SEED_LOCAL_ORDER)  # no empty "Trygghet i centrum"

    choices = Choices(seed_mapping(), include=["local:Trygghet i centrum"])
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "juni 2021", choices)
    titles = [s.topic.title for s in _contribution(jarva, "juni 2021").sections
              if s.topic.scope == "local"]
    assert "Trygghet i centrum" in titles
    with pytest.raises(InvalidInput, match="Only the area's existing local topics"):
        check_mapping(proposal, Choices(seed_mapping(), include=["local:Påhittat"]))


def test_a_block_can_be_split_and_a_block_discarded(jarva):
    area = db.session.get(Area, jarva)
    proposal = propose(seed_bytes(), area, splits={"local-2": [2]})
    ids = [b.id for b in proposal.blocks]
    assert "local-2" in ids and "local-2.2" in ids
    parts = {b.id: b for b in proposal.blocks}
    assert parts["local-2.2"].first_line == 2
    whole = next(r for r in parse_text(seed_bytes().decode()).chapters[0].rows
                 if r.title == "Kriminella konflikter").text.split("\n")
    assert parts["local-2"].text == whole[0]
    assert parts["local-2.2"].text == "\n".join(whole[1:])
    mapping = seed_mapping() | {"local-2": "local:Nyrekrytering",
                                "local-2.2": "discard", "city-7": "discard"}
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Järva", "december 2022",
                        Choices(mapping, splits={"local-2": [2]}))
    texts = {s.topic.title: s.text for s in _contribution(jarva, "december 2022").sections}
    assert texts["Nyrekrytering"].split("\n")[-1] == whole[0]
    assert whole[1] not in "\n".join(texts.values())
    assert texts[CITY_TOPICS[6]] == ""
    data = json.loads(db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.import")).one().data)
    assert data["mapping"]["local-2.2"] == "discard" and data["splits"] == {"local-2": [2]}


def test_discarding_every_text_is_refused_and_nothing_is_stored(jarva):
    proposal = propose(seed_bytes(), db.session.get(Area, jarva))
    everything = {b.id: "discard" for b in proposal.blocks}
    _refused(jarva, everything, "Every text is discarded")


def test_a_mapping_files_splits_and_inclusions_are_read_and_checked():
    choices = parse_mapping_file(
        b'{"blocks": {"local-1": "discard"}, "include_topics": ["local:X"], '
        b'"splits": {"local-1": [3, 5]}}')
    assert (choices.blocks, choices.include, choices.splits) == (
        {"local-1": "discard"}, ["local:X"], {"local-1": [3, 5]})
    for raw, message in ((b'{"blocks": {}, "splits": {"a": ["x"]}}', "\"splits\" must"),
                         (b'{"blocks": {}, "splits": [1]}', "\"splits\" must"),
                         (b'{"blocks": {}, "include_topics": "local:X"}', "\"include_topics\"")):
        with pytest.raises(InvalidInput, match=message):
            parse_mapping_file(raw)


def test_cli_shows_whole_texts_wrapped_or_unwrapped_with_full(jarva, runner, tmp_path):
    seed = tmp_path / "seed.txt"
    seed.write_bytes(seed_bytes())
    longest = max(SEED_LOCAL_TEXTS["Kriminella konflikter"].split("\n"), key=len)
    args = ["documents", "import", str(seed), "--area", "Järva", "--period", "december 2022"]
    wrapped = runner.invoke(args=args)
    assert wrapped.exit_code == 0, wrapped.output
    assert "..." not in wrapped.output
    assert " ".join(wrapped.output.split()).count("tillsammans med kriminalvården bedöms") == 1
    full = runner.invoke(args=[*args, "--full"])
    assert longest[:30] in full.output and any(
        line.endswith(longest) for line in full.output.splitlines())
    assert "Targets: " in full.output and full.output.count("  local-") == 4


def test_an_existing_empty_draft_loses_the_empty_local_rows_the_source_lacks(world):
    """An area's empty draft in an approved period (e.g. excluded there) takes the import:
    its empty local sections the document has no row for go, nothing else."""
    approve_period(world)
    area_id = add_area("Väster")
    with operation(SETUP):
        admin.create_topic(SETUP, "Trygghet i väster", area_name="Väster")
        admin.create_topic(SETUP, "Nyrekrytering", area_name="Väster")
        contribution = Contribution(area_id=area_id, period_id=world.period().id,
                                    state="draft")
        db.session.add(contribution)
        db.session.flush()
        for topic in db.session.scalars(select(Topic).where(
                (Topic.scope == "city") | (Topic.area_id == area_id))):
            db.session.add(Section(contribution_id=contribution.id, topic_id=topic.id))
    proposal = propose(seed_bytes(), db.session.get(Area, area_id))
    mapping = {b.id: proposal.proposed[b.id] or "local:Nyrekrytering" for b in proposal.blocks}
    with operation(SETUP):
        import_document(SETUP, seed_bytes(), "seed.txt", "Väster", "januari 2030", mapping)
    titles = {s.topic.title for s in _contribution(area_id, "januari 2030").sections
              if s.topic.scope == "local"}
    assert titles == set(SEED_LOCAL_ORDER)  # "Trygghet i väster" is not an empty row


def test_no_city_wide_topic_is_created_where_the_city_has_its_own(world):
    """The world has three city-wide topics of its own: the seed's other rows are left to the
    person (no topic proposed), not added to the city's topics."""
    proposal = propose(seed_bytes(), db.session.get(Area, world.areas["Norr"]))
    assert proposal.new_city_topics == []
    assert proposal.proposed["city-9"] is None
    assert next(b for b in proposal.blocks if b.id == "city-9").text == SEED_CITY_TEXTS[9]
