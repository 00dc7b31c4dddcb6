"""The archival PDF/A export: PDF/A-2u with embedded fonts, laid out like the DOCX, the same
footer and fingerprint on every page, the UTKAST mark on every page of a draft in the margin
(never over the title), the period's document, the audit event, the page and the CLI."""
from __future__ import annotations

import io
import json

import pdfplumber
import pytest

from app.documents.docx_format import CITY_HEADER, DRAFT_NOTICE, LOCAL_HEADER
from app.documents.export import (
    content_hash,
    contribution_content,
    export_contribution,
    export_period,
    visible_hash_of,
)
from app.documents.pdf_reader import read_pdf
from tests.documents.support import approve_period
from tests.factories import fill_sections


def _pages(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return [page.extract_text() for page in pdf.pages]


def test_the_pdf_is_pdf_a_2u_with_its_fonts_embedded(world):
    fill_sections(world, "Norr")
    data = export_contribution(world.user("consolidator"), world.contribution().id, "pdf").data
    assert data.startswith(b"%PDF-1.7")
    assert b"<pdfaid:part>2</pdfaid:part>" in data
    assert b"<pdfaid:conformance>U</pdfaid:conformance>" in data
    assert b"/OutputIntents" in data and b"/FontFile2" in data  # sRGB profile, fonts inside
    assert b"/Lang (sv)" in data or b"/Lang (sv" in data


def test_a_draft_pdf_has_the_tables_footer_and_utkast_on_every_page(world, audit_events):
    fill_sections(world, "Norr")
    exported = export_contribution(world.user("consolidator"), world.contribution().id, "pdf")
    assert exported.filename == "lagesbild-januari-2030-norr-utkast.pdf"
    assert exported.mimetype == "application/pdf"
    pages = _pages(exported.data)
    text = "\n".join(pages)
    assert text.split("\n")[1] == "Lägesbild januari 2030 Norr"  # after the UTKAST line
    with pdfplumber.open(io.BytesIO(exported.data)) as pdf:
        headers = [tuple(" ".join(cell.split()) for cell in table[0])
                   for page in pdf.pages for table in page.extract_tables()]
    assert headers == [CITY_HEADER, LOCAL_HEADER]
    for number, page in enumerate(pages, 1):
        assert page.startswith(DRAFT_NOTICE)
        assert exported.fingerprint in page and "Period: januari 2030 · Område: Norr" in page
        assert page.endswith(f"Sida {number} av {len(pages)}")  # inside the page, at the foot
    with pdfplumber.open(io.BytesIO(exported.data)) as pdf:
        for page in pdf.pages:
            [number] = [w for w in page.extract_words() if w["text"] == "Sida"]
            assert number["x1"] <= page.width and number["bottom"] <= page.height
    event = json.loads(audit_events("document.export")[-1].data)
    assert event["format"] == "pdf" and event["fingerprint"] == exported.fingerprint
    assert event["content_sha256"] == content_hash(contribution_content(world.contribution()))
    assert event["visible_sha256"] == visible_hash_of(exported.content)


def test_the_utkast_mark_lies_in_the_margin_above_the_title(world):
    fill_sections(world, "Norr")
    data = export_contribution(world.user("consolidator"), world.contribution().id, "pdf").data
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        lines = pdf.pages[0].extract_text_lines()
    mark = next(line for line in lines if line["text"] == DRAFT_NOTICE)
    title = next(line for line in lines if line["text"] == "Lägesbild januari 2030 Norr")
    assert mark["bottom"] < title["top"]


def test_an_approved_pdf_has_no_utkast_and_the_period_pdf_a_chapter_per_area(world):
    approve_period(world)
    contribution = export_contribution(world.user("auditor"), world.contribution().id, "pdf")
    assert DRAFT_NOTICE not in "\n".join(_pages(contribution.data))
    period = export_period(world.user("auditor"), world.period_id, "pdf")
    pages = _pages(period.data)
    # The cover, as the DOCX's: what it is, its state, who approved it when, the areas.
    assert pages[0].startswith("Lägesbild januari 2030\nStadsövergripande lägesbild\n"
                               "Period: januari 2030\nStatus: Fastställd\nFastställd av Approver ")
    assert "Områden och status\nOmråde Status\nNorr Fastställd\nSöder Fastställd" in pages[0]
    # Then the summary per city-wide topic, each with every area's text, from a new page.
    assert pages[1].startswith("Sammanfattning per stadsövergripande område\n")
    assert ("1. Unga i risk för kriminalitet\nOmråde Kommentar\nNorr • Arbetet pågår enligt "
            "plan. (1)\nSöder • Arbetet pågår enligt plan. (5)") in pages[1]
    layout = read_pdf(period.data).layout
    assert [(heading, [area for area, _text in texts]) for heading, texts in layout.topics] == [
        (heading, [area for area, _text in texts]) for heading, texts in period.content.topics]
    assert [c.title for c in layout.chapters] == [
        "Lägesbild januari 2030 Norr", "Lägesbild januari 2030 Söder"]
    assert pages[2].startswith("Lägesbild januari 2030 Norr")  # each area on its own page
    assert pages[3].startswith("Lägesbild januari 2030 Söder")
    assert "Fastställd av Approver" in pages[3]  # the approval line in every page's footer


def test_a_heading_never_ends_a_page():
    """A summary of many areas runs over pages: no topic's heading is the last thing on a
    page (its table follows it on the same page), and every topic and area reads back."""
    from datetime import UTC, datetime

    from app.documents.docx_format import Chapter, DocumentContent, SectionContent
    from app.documents.pdf_format import render_pdf

    text = "Läget i korthet.\n- Första punkten\n- Andra punkten\nSammanfattning."
    chapters = [Chapter(f"Lägesbild maj 2031 Område {area:02d}", f"Område {area:02d}", "draft",
                        False, [SectionContent("city", number, f"Tema {number}", text)
                                for number in range(1, 11)])
                for area in range(12)]
    content = DocumentContent("Lägesbild maj 2031", "maj 2031", None, "Öppen", False, chapters,
                              [(c.area, "Utkast") for c in chapters])
    data = render_pdf(content, datetime(2031, 5, 1, tzinfo=UTC), "ab" * 32)
    pages = _pages(data)
    headings = [heading for heading, _texts in content.topics]
    summary_pages = [page for page in pages if "\nOmråde Kommentar\n" in page]
    assert len(summary_pages) > 3
    for page in pages:
        body = page.split("\nPeriod: maj 2031 · Område")[0].split("\n")
        assert body[-1] not in headings, body[-3:]
    topics = read_pdf(data).layout.topics
    assert [heading for heading, _texts in topics] == headings
    assert all(len(texts) == 12 for _heading, texts in topics)


def test_pdf_download_from_the_print_view(web, world, audit_events):
    contribution_id = world.contribution().id
    web.log_in_as("drafter")
    html = web.client.get(f"/contributions/{contribution_id}/print").get_data(as_text=True)
    assert f"/contributions/{contribution_id}/export.pdf" in html and "Ladda ned PDF/A" in html
    token = web.csrf_token(f"/contributions/{contribution_id}/print")
    response = web.client.post(f"/contributions/{contribution_id}/export.pdf",
                               data={"csrf_token": token})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "lagesbild-januari-2030-norr-utkast.pdf" in response.headers["Content-Disposition"]
    assert json.loads(audit_events("document.export")[0].data)["format"] == "pdf"
    assert web.client.post(f"/contributions/{contribution_id}/export.odt",
                           data={"csrf_token": token}).status_code == 404


def test_the_overview_offers_the_pdf_next_to_the_docx(web, world):
    web.log_in_as("consolidator")
    html = web.client.get("/documents/").get_data(as_text=True)
    contribution_id = world.contribution().id
    assert f"/contributions/{contribution_id}/export.docx" in html
    assert f"/contributions/{contribution_id}/export.pdf" in html
    assert f"/periods/{world.period_id}/export.pdf" in html


@pytest.mark.parametrize("arguments, name", [(["--format", "pdf"], "out.bin"),
                                             ([], "out.pdf")])
def test_cli_export_writes_a_pdf(world, runner, tmp_path, arguments, name):
    out = tmp_path / name
    result = runner.invoke(args=["documents", "export", "--period", "januari 2030", "--area",
                                 "Norr", "--out", str(out), *arguments])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF") and "Fingerprint:" in result.output


def test_a_text_longer_than_a_page_goes_on_over_pages_and_reads_back_whole(world):
    from app.contributions import operations as contributions
    from app.core.text_rules import MAX_SECTION_CHARS
    from app.documents.verify import verify_document
    from tests.factories import run

    fill_sections(world, "Norr")
    section = world.sections("Norr")[1]
    long_word = "https://stad.example/lagesbild/" + "a" * 120  # wider than its column
    paragraph = "Ett långt stycke om läget i området, vecka för vecka. " * 60
    text = "\n".join([paragraph, f"- {long_word}", paragraph, paragraph])
    assert len(text) < MAX_SECTION_CHARS
    run(world, "drafter", contributions.edit_section, section.id, text, section.version)
    exported = export_contribution(world.user("consolidator"), world.contribution().id, "pdf")
    assert len(_pages(exported.data)) >= 3
    rows = read_pdf(exported.data).layout.chapters[0].rows
    assert [r.heading for r in rows] == [s.heading for s in exported.content.chapters[0].sections]
    assert "".join(rows[1].text.split()) == "".join(text.split())
    report = verify_document(exported.data)  # a draft: untouched, and nothing differs
    assert report.summary == ("The file is an unchanged export of a draft (UTKAST), not of an "
                              "approved version.")
    assert report.differences == []
