"""PDF import: a PDF that is only lines of text (the seed printed by LibreOffice) reads like
the seed's text, with the same repairs; a PDF with the lägesbild's tables (our DOCX printed by
LibreOffice, our own PDF/A) gives the same rows as the DOCX; bad PDFs are refused."""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from docx import Document

from app.core.errors import InvalidInput
from app.core.unit_of_work import operation
from app.documents.cross_references import rendered_text
from app.documents.export import export_contribution
from app.documents.importer import import_document, parse_text, propose
from app.documents.pdf_reader import read_pdf
from app.extensions import db
from app.models import Area
from tests.documents.support import (
    add_area,
    docx_with_extra_columns,
    docx_with_headings,
    seed_bytes,
    seed_mapping,
    use_seed_city_topics,
)
from tests.factories import SETUP, fill_sections


def _soffice() -> str:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not installed: the CI installs it (.ci/run).")
    return soffice


def _printed_by_libreoffice(docx: bytes, tmp_path) -> bytes:
    source = tmp_path / "document.docx"
    source.write_bytes(docx)
    subprocess.run([_soffice(), "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(source)], check=True, timeout=180, capture_output=True)
    return (tmp_path / "document.pdf").read_bytes()


def _seed_as_docx_lines() -> bytes:
    import io

    document = Document()
    for line in seed_bytes().decode("utf-8").splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_text_only_pdf_reads_like_the_seed_text_and_imports_with_its_mapping(world,
                                                                              tmp_path):
    use_seed_city_topics()
    add_area("Järva")
    pdf = _printed_by_libreoffice(_seed_as_docx_lines(), tmp_path)
    reading = read_pdf(pdf)
    assert reading.layout is None  # no tables: the text parser's turn
    expected = parse_text(seed_bytes().decode("utf-8"))
    found = parse_text(reading.text)
    assert found.title == expected.title
    assert found.chapters[0].rows == expected.chapters[0].rows
    proposal = propose(pdf, db.session.get(Area, add_area("Farsta")))
    assert proposal.format == "pdf" and proposal.title == expected.title
    with operation(SETUP):
        result = import_document(SETUP, pdf, "seed.pdf", "Järva", "december 2022",
                                 seed_mapping())
    texts = {s.topic.title: s.text for s in result.contribution.sections}
    assert texts["Nyrekrytering"].startswith("- ")
    assert texts["Kameraövervakning"] == expected.chapters[0].rows[9].text


def _norr_texts(world) -> list[tuple[str, str]]:
    return [(s.topic.title, rendered_text(s)) for s in world.contribution("Norr").ordered_sections]


def _bulleted_norr(world):
    from app.contributions import operations as contributions
    from tests.factories import run

    fill_sections(world, "Norr")
    local = world.sections("Norr")[-1]
    run(world, "drafter", contributions.edit_section, local.id, BULLETED, local.version)


# A short line the writer broke (kept as its own line), a paragraph long enough to wrap in
# the column (joined again), and bullets.
BULLETED = ("Inledning på svenska: åäö ÅÄÖ.\nEn kort rad.\n"
            + "Ett långt stycke som bryts där kolumnen tar slut, " * 4 + "och slutar här.\n"
            "- Första punkten\n- Andra punkten")


@pytest.mark.parametrize("printed_by", ["libreoffice", "lagesbild"])
def test_a_pdf_with_the_tables_proposes_the_same_texts_under_the_same_topics(world, tmp_path,
                                                                            printed_by):
    _bulleted_norr(world)
    contribution_id = world.contribution("Norr").id
    if printed_by == "libreoffice":
        pdf = _printed_by_libreoffice(
            export_contribution(world.user("consolidator"), contribution_id).data, tmp_path)
    else:
        pdf = export_contribution(world.user("consolidator"), contribution_id, "pdf").data
    reading = read_pdf(pdf)
    assert reading.layout is not None and reading.layout.title == "Lägesbild januari 2030 Norr"
    proposal = propose(pdf, db.session.get(Area, world.areas["Norr"]))
    assert proposal.format == "pdf"
    assert [b.text for b in proposal.blocks] == [text for _title, text in _norr_texts(world)]
    assert proposal.blocks[-1].text == BULLETED
    assert all(target is not None for target in proposal.proposed.values())
    assert not proposal.warnings


def test_a_pdf_with_a_personal_identity_number_is_refused_before_anything_is_kept(world):
    from app.core.clock import now
    from app.documents.docx_format import Chapter, DocumentContent, SectionContent
    from app.documents.pdf_format import render_pdf

    content = DocumentContent("Lägesbild januari 2030 Norr", "januari 2030", "Norr", "Utkast",
                              False, [Chapter("Lägesbild januari 2030 Norr", "Norr", "draft",
                                              False, [SectionContent(
                                                  "local", None, "Trygghet",
                                                  "Kontakt 19121212-1212 i ärendet.")])])
    pdf = render_pdf(content, now(), "0" * 64)
    with pytest.raises(InvalidInput) as caught:
        propose(pdf, db.session.get(Area, world.areas["Norr"]))
    assert "PDF's text" in caught.value.message and "1212" not in caught.value.message


@pytest.mark.parametrize("where", ["title", "keywords", "comment"])
def test_a_number_in_the_properties_or_a_comment_is_refused_too(world, where):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Lagesbild januari 2030 Norr")
    if where == "title":
        pdf.set_title("Handläggare 19121212-1212")
    elif where == "keywords":
        pdf.set_keywords("19121212-1212")
    else:
        pdf.text_annotation(10, 10, "Ring 19121212-1212")
    with pytest.raises(InvalidInput) as caught:
        propose(bytes(pdf.output()), db.session.get(Area, world.areas["Norr"]))
    assert "PDF's text" in caught.value.message and "1212" not in caught.value.message


def test_an_encrypted_pdf_is_refused(world):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="ägare", user_password="hemligt")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Lagesbild")
    with pytest.raises(InvalidInput, match="encrypted or password protected"):
        propose(bytes(pdf.output()), db.session.get(Area, world.areas["Norr"]))


def test_a_pdf_without_a_lagesbild_says_so(world):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Protokoll fran styrelsemotet")
    with pytest.raises(InvalidInput, match="does not look like a lägesbild"):
        propose(bytes(pdf.output()), db.session.get(Area, world.areas["Norr"]))


def test_a_pdf_imports_through_the_web_preview(web, world, audit_events):
    """Our own PDF/A of Norr, imported as another area's history: the page's preview, then
    the confirmation, as with a text or a DOCX."""
    from sqlalchemy import select

    from app.models import Contribution
    from tests.web_support import input_values

    _bulleted_norr(world)
    pdf = export_contribution(world.user("consolidator"), world.contribution("Norr").id,
                              "pdf").data
    farsta = add_area("Farsta")
    web.log_in_as("consolidator")
    response = web.client.post("/documents/import", data={
        "csrf_token": web.csrf_token("/documents/import"), "area_id": str(farsta),
        "period": "december 2029", "file": (io.BytesIO(pdf), "norr.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 200, response.get_data(as_text=True)
    values = input_values(response.get_data(as_text=True))
    form = {name: value[0] for name, value in values.items()}
    proposal = propose(pdf, db.session.get(Area, farsta))  # the page's selects, as proposed
    form.update({f"block-{block}": target for block, target in proposal.proposed.items()})
    response = web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    contribution = db.session.scalar(select(Contribution).where(Contribution.area_id == farsta))
    assert response.headers["Location"] == f"/contributions/{contribution.id}/print"
    assert [rendered_text(s) for s in contribution.ordered_sections] == [
        text for _title, text in _norr_texts(world)]
    event = audit_events("document.import")[-1]
    assert '"format": "pdf"' in event.data or '"format":"pdf"' in event.data


def test_a_pdf_printed_from_a_docx_of_headings_reads_like_the_docx(world, tmp_path):
    """A lägesbild written as headings and paragraphs, printed by LibreOffice: only lines of
    text, its local topics' titles known by their bold headings (one the area lacks too)."""
    use_seed_city_topics()
    area = db.session.get(Area, add_area("Järva"))
    docx = docx_with_headings()
    pdf = _printed_by_libreoffice(docx, tmp_path)
    assert read_pdf(pdf).layout is None  # no tables: through the text parser
    from_docx, from_pdf = propose(docx, area), propose(pdf, area)
    assert from_pdf.title == from_docx.title == "Lägesbild september 2023 Järva"
    assert [(b.label, b.text) for b in from_pdf.blocks] == [
        (b.label, b.text) for b in from_docx.blocks]
    assert from_pdf.new_topics == ["Trygghet i centrum", "Nyrekrytering"]


@pytest.mark.parametrize("printed", [False, True])
def test_a_table_with_a_column_more_reads_the_comments_and_says_what_is_left_out(world,
                                                                                tmp_path,
                                                                                printed):
    """The columns are found by their headers, not their places: "Ansvarig" after the
    comments is named as not imported, never read as the comment; the title in the page
    header is the title. Printed by LibreOffice, whose two tables one under the other
    pdfplumber finds as one, the same."""
    use_seed_city_topics()
    area = db.session.get(Area, add_area("Järva"))
    data = docx_with_extra_columns()
    if printed:
        data = _printed_by_libreoffice(data, tmp_path)
    proposal = propose(data, area, "oktober 2023")
    assert proposal.title == "Lägesbild oktober 2023 Järva"
    assert [(b.label, b.text) for b in proposal.blocks] == [
        ("1. Riktat arbete mot avgränsade platser och utsatta områden",
         "Arbetet hanteras inom ramen för det lokalt prioriterade området nyrekrytering, se "
         "nedan."),
        ("2. Unga i risk för kriminalitet", "Fältgruppen arbetar kvällstid."),
        ("Nyrekrytering", "Samverkan med skolan.")]
    columns = ("Not imported: the column(s) 'Ansvarig' of the document's tables (a lägesbild "
               "keeps each topic's comment only).")
    # The DOCX's letterhead paragraph is named too (a PDF's lines outside its tables are its
    # page headers and footers as well: not listed).
    letterhead = ('Not imported: 1 line(s) outside the topics, the first "Stockholms stad, '
                  'Järva stadsdelsförvaltning". A lägesbild has no text there.')
    assert [str(w) for w in proposal.warnings] == ([columns] if printed
                                                    else [letterhead, columns])


def _word(text: str, x: float, top: float, size: float = 10) -> list[dict]:
    """A word's characters as pdfplumber gives them, 5 points wide each."""
    return [{"text": ch, "x0": x + i * 5, "x1": x + i * 5 + 5, "top": top, "bottom": top + size,
             "upright": True, "height": size, "width": 5, "doctop": top, "fontname": "F",
             "size": size} for i, ch in enumerate(text)]


def test_a_cells_lines_keep_their_words_in_order_and_a_broken_line_is_marked():
    from app.documents.pdf_reader import _marked_cell

    # Words of one line a fraction of a point apart (another font or size): still one line,
    # in their order; it ends far short of the edge, so the next line is the writer's own.
    chars = _word("Ett", 10, 100.6) + _word("två", 35, 100.2) + _word("tre", 60, 100.4) + \
        _word("Ny", 10, 115)
    assert _marked_cell(chars, (5, 95, 200, 130)) == "Ett två tre\n\nNy"
    # "Ny" would not have fitted after "två" in a narrow cell: a wrap, joined later.
    chars = _word("Ett", 10, 100) + _word("två", 35, 100) + _word("Ny", 10, 115)
    assert _marked_cell(chars, (5, 95, 60, 130)) == "Ett två\nNy"
