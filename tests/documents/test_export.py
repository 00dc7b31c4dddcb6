"""DOCX export: layout like the seed, bullets as real Word lists, footer and UTKAST on every
page, fingerprint and audit event; the period's consolidated lägesbild; who may export."""
from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace

import pytest
from sqlalchemy import select

from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import NotAllowed
from app.documents.docx_format import (
    AREAS_HEADING,
    CITY_HEADER,
    DRAFT_NOTICE,
    LOCAL_HEADER,
    TOPIC_HEADER,
    TOPIC_SUMMARY_HEADING,
)
from app.documents.export import (
    audit_head,
    content_hash,
    contribution_content,
    export_contribution,
    export_period,
    fingerprint_of,
)
from app.documents.verify import verify_document
from app.extensions import db
from app.models import AuditEvent
from tests.documents.support import approve_period, pdf_pages, read_docx
from tests.documents.test_docx_format import W
from tests.documents.test_docx_format import xml as xml_part
from tests.factories import fill_sections, run


def _export(world, key="consolidator", area="Norr"):
    return export_contribution(world.user(key), world.contribution(area).id)


def _bulleted_norr(world):
    """Norr with a bullet list in its local section and plain text in the city sections."""
    fill_sections(world, "Norr")
    local = world.sections("Norr")[-1]
    run(world, "drafter", contributions.edit_section, local.id,
        "Inledning på svenska: åäö ÅÄÖ.\n- Första punkten\n- Andra punkten", local.version)


def test_contribution_docx_is_laid_out_like_the_seed(world):
    _bulleted_norr(world)
    exported = _export(world)
    document = read_docx(exported.data)
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0].text == "Lägesbild januari 2030 Norr"
    assert paragraphs[0].style.name == "Title"

    city, local = document.tables
    assert tuple(c.text for c in city.rows[0].cells) == CITY_HEADER
    assert CITY_HEADER[1:] == ("Stadsövergripande prioriterade områden", "Kommentarer")
    assert [r.cells[0].text for r in city.rows[1:]] == ["1.", "2.", "3."]
    assert city.rows[1].cells[1].text == "Unga i risk för kriminalitet"
    comment = city.rows[1].cells[2].paragraphs
    assert [(p.style.name, p.text) for p in comment] == [
        ("List Bullet", f"Arbetet pågår enligt plan. ({world.sections()[0].id})")]

    assert tuple(c.text for c in local.rows[0].cells) == LOCAL_HEADER
    title_cell, comment_cell = local.rows[1].cells
    assert title_cell.text == "Trygghet i norr"
    styles = [(p.style.name, p.text) for p in comment_cell.paragraphs]
    assert styles == [("Normal", "Inledning på svenska: åäö ÅÄÖ."),
                      ("List Bullet", "Första punkten"), ("List Bullet", "Andra punkten")]


def test_footer_on_every_page_and_utkast_while_not_approved(world):
    fill_sections(world, "Norr")
    exported = _export(world, "drafter")
    document = read_docx(exported.data)
    assert exported.filename == "lagesbild-januari-2030-norr-utkast.docx"
    for section in document.sections:  # header/footer are per section: every page
        footer = section.footer.paragraphs[0].text
        assert "Period: januari 2030" in footer and "Område: Norr" in footer
        assert "Status: Utkast – UTKAST" in footer
        assert exported.fingerprint in footer
        assert "Exporterad 20" in footer and "(Stockholm)" in footer
        assert section.header.paragraphs[0].text == DRAFT_NOTICE
        assert not section.different_first_page_header_footer


def test_every_page_is_numbered_page_n_of_m(world):
    """"Sida N av M" under the fingerprint: Word's PAGE and NUMPAGES fields, which the word
    processor fills in per page."""
    fill_sections(world, "Norr")
    document = read_docx(_export(world, "drafter").data)
    namespace = {"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
    for section in document.sections:
        numbering = section.footer.paragraphs[1]._p
        fields = numbering.findall("w:fldSimple", namespace)
        assert [field.get(f"{{{namespace['w']}}}instr").strip() for field in fields] == [
            "PAGE", "NUMPAGES"]
        shown = "".join(node.text for node in numbering.iterfind(".//w:t", namespace))
        assert shown == "Sida 1 av 1"


def test_approved_export_has_no_draft_mark(world):
    approve_period(world)
    exported = _export(world)
    document = read_docx(exported.data)
    footer = document.sections[0].footer.paragraphs[0].text
    assert "Status: Fastställd ·" in footer and "UTKAST" not in footer
    assert "UTKAST" not in "".join(p.text for p in document.sections[0].header.paragraphs)
    assert exported.filename == "lagesbild-januari-2030-norr.docx"


def test_fingerprint_covers_texts_and_audit_head_and_export_is_audited(world):
    fill_sections(world, "Norr")
    head_seq, head_hash = audit_head()
    expected_content = content_hash(contribution_content(world.contribution()))
    exported = _export(world)
    assert exported.content_sha256 == expected_content
    assert exported.fingerprint == fingerprint_of(expected_content, head_hash)

    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.export")).one()
    data = json.loads(event.data)
    assert data["fingerprint"] == exported.fingerprint
    assert data["audit_head_seq"] == head_seq and data["audit_head_hash"] == head_hash
    assert data["content_sha256"] == expected_content
    assert (event.contribution_id, event.area_id, event.period_id) == (
        world.contribution().id, world.areas["Norr"], world.period_id)
    assert verify_chain().ok

    # Same texts, later: another audit head, so another fingerprint.
    assert _export(world).fingerprint != exported.fingerprint


def test_period_document_is_a_consolidated_lagesbild(world):
    """A cover page (title, period, state, the areas and their states), a summary per
    city-wide topic with every area's text side by side, then each area's lägesbild."""
    fill_sections(world, "Norr")
    exported = export_period(world.user("approver"), world.period_id)
    document = read_docx(exported.data)
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    assert [p.text for p in paragraphs[:4]] == [
        "Lägesbild januari 2030", "Stadsövergripande lägesbild", "Period: januari 2030",
        "Status: Öppen"]
    assert paragraphs[0].style.name == "Title"
    headings = [(p.style.name, p.text) for p in document.paragraphs
                if p.style.name.startswith("Heading")]
    assert headings == [
        ("Heading 1", AREAS_HEADING), ("Heading 1", TOPIC_SUMMARY_HEADING),
        ("Heading 2", "1. Unga i risk för kriminalitet"), ("Heading 2", "2. Otillåten påverkan"),
        ("Heading 2", "3. Ordningsvakter"),
        ("Heading 1", "Lägesbild januari 2030 Norr"), ("Heading 1", "Lägesbild januari 2030 Söder")]
    starts_a_page = [p.text for p in document.paragraphs if p.paragraph_format.page_break_before]
    assert starts_a_page == [TOPIC_SUMMARY_HEADING, "Lägesbild januari 2030 Norr",
                             "Lägesbild januari 2030 Söder"]

    areas, *topics = document.tables[:4]
    assert [[c.text for c in r.cells] for r in areas.rows] == [
        ["Område", "Status"], ["Norr", "Utkast"], ["Söder", "Utkast"]]
    norr = world.sections("Norr")
    for topic, section in zip(topics, norr[:3], strict=True):
        assert [[c.text for c in r.cells] for r in topic.rows] == [
            list(TOPIC_HEADER), ["Norr", f"Arbetet pågår enligt plan. ({section.id})"],
            ["Söder", ""]]
    assert len(document.tables) == 1 + 3 + 2 * 2
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.export")).one()
    assert event.period_id == world.period_id and event.contribution_id is None


def test_the_summary_per_topic_is_part_of_the_fingerprint(world):
    """An edit in the summary's copy of a text changes what the file's fingerprint covers,
    like an edit in the area's own chapter."""
    fill_sections(world, "Norr")
    exported = export_period(world.user("approver"), world.period_id)
    content = exported.content
    assert content.topics[0][1][0][0] == "Norr"
    content.chapters[0].sections[0] = replace(content.chapters[0].sections[0], text="Annat.")
    assert content.topics[0][1][0][1] == "Annat."
    assert content_hash(content) != exported.content_sha256


@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
def test_readers_may_export_their_contribution(world, key):
    assert _export(world, key).data.startswith(b"PK")


@pytest.mark.parametrize("key", ["drafter_south", "reviewer_south", "admin"])
def test_others_may_not_export_and_the_refusal_is_logged(world, key):
    with pytest.raises(NotAllowed):
        _export(world, key)
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert "document.export" not in actions
    assert actions[-1] == "security.permission_denied"


@pytest.mark.parametrize("key", ["drafter", "reviewer", "admin"])
def test_only_city_readers_export_the_whole_period(world, key):
    with pytest.raises(NotAllowed):
        export_period(world.user(key), world.period_id)


def test_cli_export_writes_the_file(world, runner, tmp_path):
    out = tmp_path / "norr.docx"
    result = runner.invoke(args=["documents", "export", "--period", "januari 2030",
                                 "--area", "Norr", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "UTKAST" in result.output and "Fingerprint: " in result.output
    assert read_docx(out.read_bytes()).paragraphs[0].text == "Lägesbild januari 2030 Norr"
    whole = tmp_path / "all.docx"
    result = runner.invoke(args=["documents", "export", "--period", "januari 2030",
                                 "--out", str(whole)])
    assert result.exit_code == 0, result.output
    assert read_docx(whole.read_bytes()).paragraphs[0].text == "Lägesbild januari 2030"


def test_cli_export_refuses_unknown_names(world, runner, tmp_path):
    result = runner.invoke(args=["documents", "export", "--period", "maj 1999",
                                 "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 1 and "Unknown period 'maj 1999'" in result.output
    result = runner.invoke(args=["documents", "export", "--period", "januari 2030",
                                 "--area", "Atlantis", "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 1 and "Unknown area 'Atlantis'" in result.output
    assert not (tmp_path / "x.docx").exists()


def test_docx_prints_from_libreoffice_with_its_footer_and_page_numbers(world, tmp_path):
    """Laid out by a real word processor: the text, the fingerprint, and "Sida N av M" filled
    in on every page."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.skip("LibreOffice (soffice) or pdftotext (poppler-utils) is not installed: the "
                    "DOCX is checked with python-docx only")
    _bulleted_norr(world)
    source = tmp_path / "norr.docx"
    exported = _export(world)
    source.write_bytes(exported.data)
    subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(source)], check=True, timeout=120, capture_output=True)
    pdf = tmp_path / "norr.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages(pdf, pdftotext)
    assert "Inledning på svenska: åäö ÅÄÖ." in pages[0]
    for number, page in enumerate(pages, start=1):
        assert exported.fingerprint in page
        assert f"Sida {number} av {len(pages)}" in page


def _soffice(tmp_path, source, target_format: str):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if soffice is None or pdftotext is None:
        pytest.skip("LibreOffice (soffice) or pdftotext (poppler-utils) is not installed")
    out = tmp_path / f"from-soffice-{target_format}"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", target_format, "--outdir", str(out), str(source)],
                   check=True, timeout=180, capture_output=True)
    return out / source.with_suffix(f".{target_format}").name, pdftotext


def test_the_consolidated_document_survives_a_libreoffice_resave_and_prints_as_filed(world,
                                                                                     tmp_path):
    """Resaved by LibreOffice it still verifies (MATCH), and stays Swedish, Arial, with rows
    that do not split; printed, the cover is a page of its own, the summary and each area
    start a page, and every page carries the fingerprint and its number."""
    approve_period(world)
    exported = export_period(world.user("auditor"), world.period_id)
    source = tmp_path / "period.docx"
    source.write_bytes(exported.data)

    resaved, pdftotext = _soffice(tmp_path, source, "docx")
    data = resaved.read_bytes()
    assert data != exported.data
    report = verify_document(data)
    assert report.matches, report.summary
    document, styles = xml_part(data, "word/document.xml"), xml_part(data, "word/styles.xml")
    values = {lang.get(f"{{{W}}}val") for part in (document, styles)
              for lang in part.iter(f"{{{W}}}lang")} - {None}
    assert values == {"sv-SE"}
    fonts = {f.get(f"{{{W}}}ascii") for f in styles.iter(f"{{{W}}}rFonts")}
    assert "Arial" in fonts and not fonts & {"Cambria", "Calibri"}
    rows = list(document.iter(f"{{{W}}}tr"))
    assert rows and all(row.find(f"{{{W}}}trPr/{{{W}}}cantSplit") is not None for row in rows)

    pdf, _ = _soffice(tmp_path, source, "pdf")
    pages = pdf_pages(pdf, pdftotext)
    assert len(pages) == 1 + 1 + 2  # cover, summary, Norr, Söder (short texts: a page each)
    cover, summary, norr, south = pages
    assert "Stadsövergripande lägesbild" in cover and "Fastställd av Approver" in cover
    assert AREAS_HEADING in cover and TOPIC_SUMMARY_HEADING not in cover
    assert TOPIC_SUMMARY_HEADING in summary and "1. Unga i risk för kriminalitet" in summary
    assert "Lägesbild januari 2030 Norr" in norr and "Lägesbild januari 2030 Söder" in south
    for number, page in enumerate(pages, start=1):
        assert exported.fingerprint in page
        assert f"Sida {number} av {len(pages)}" in page
