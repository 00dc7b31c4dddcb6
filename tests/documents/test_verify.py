"""`documents verify`: an untouched export of an approved version matches (which one, approved
by whom and when); an edited file, a draft or a foreign file does not, and says how."""
from __future__ import annotations

import io

import pytest

from app.documents.export import export_contribution, export_period
from app.documents.verify import verify_document
from tests.documents.support import approve_period, read_docx
from tests.factories import fill_sections


def _approved_export(world, period=False):
    approve_period(world)
    if period:
        return export_period(world.user("auditor"), world.period_id)
    return export_contribution(world.user("auditor"), world.contribution().id)


def _edited(data: bytes, old: str, new: str) -> bytes:
    document = read_docx(data)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    if old in paragraph.text:
                        paragraph.runs[0].text = paragraph.runs[0].text.replace(old, new)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()



def assert_summary_edit_named(report) -> None:
    """"Arbetet pågår" edited to "Arbetet avbröts" in Norr's text of the summary's first
    city-wide topic: named by topic and area, with the words."""
    assert not report.matches and "changed after the export" in report.summary
    assert [(d.chapter, d.heading) for d in report.differences] == [
        ("Sammanfattning per stadsövergripande område: 1. Unga i risk för kriminalitet",
         "Norr")]
    assert ("insert", "avbröts") in [(s.op, s.text.strip()) for s in
                                     report.differences[0].segments]

def test_untouched_export_of_an_approved_version_matches(world):
    exported = _approved_export(world)
    report = verify_document(exported.data)
    assert report.matches, report.summary
    assert "approved version of 'Lägesbild januari 2030 Norr'" in report.summary
    assert "approved by Approver on " in report.summary and "contribution.finalize" in \
        report.summary
    assert report.fingerprint == exported.fingerprint
    assert "Exported by Auditor" in report.details[0]


def test_untouched_period_export_matches(world):
    report = verify_document(_approved_export(world, period=True).data)
    assert report.matches, report.summary
    assert "consolidation.approve" in report.summary


def test_edited_export_is_rejected_naming_the_section_and_the_change(world):
    exported = _approved_export(world)
    edited = _edited(exported.data, "Arbetet pågår enligt plan.", "Arbetet är avslutat.")
    report = verify_document(edited)
    assert not report.matches
    assert "changed after the export" in report.summary
    assert {d.heading for d in report.differences} == {
        "1. Unga i risk för kriminalitet", "2. Otillåten påverkan", "3. Ordningsvakter",
        "Trygghet i norr"}
    segments = report.differences[0].segments
    assert ("delete", "pågår enligt plan. ") in [(s.op, s.text) for s in segments]
    assert ("insert", "är avslutat. ") in [(s.op, s.text) for s in segments]


def test_a_draft_export_is_not_an_approved_version(world):
    fill_sections(world, "Norr")
    exported = export_contribution(world.user("drafter"), world.contribution().id)
    report = verify_document(exported.data)
    assert not report.matches
    assert "draft (UTKAST)" in report.summary


def test_unknown_or_missing_fingerprint(world):
    exported = _approved_export(world)
    document = read_docx(exported.data)
    footer = document.sections[0].footer.paragraphs[0]
    footer.runs[0].text = footer.runs[0].text.replace(exported.fingerprint, "f" * 64)
    buffer = io.BytesIO()
    document.save(buffer)
    report = verify_document(buffer.getvalue())
    assert not report.matches and "was not issued by this system" in report.summary
    footer.runs[0].text = "Ingen fotnot"
    buffer = io.BytesIO()
    document.save(buffer)
    report = verify_document(buffer.getvalue())
    assert not report.matches and "no fingerprint" in report.summary


def test_cli_verify_exit_status_and_diff(world, runner, tmp_path):
    exported = _approved_export(world)
    good = tmp_path / "good.docx"
    good.write_bytes(exported.data)
    result = runner.invoke(args=["documents", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("MATCH: ")
    bad = tmp_path / "bad.docx"
    bad.write_bytes(_edited(exported.data, "enligt plan", "enligt ingen plan"))
    result = runner.invoke(args=["documents", "verify", str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("NO MATCH: ")
    assert "--- Lägesbild januari 2030 Norr / Trygghet i norr" in result.output
    assert "{+ingen +}" in result.output


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"not a zip at all", "not a readable DOCX"),
])
def test_cli_verify_refuses_unreadable_files(world, runner, tmp_path, content, message):
    path = tmp_path / "x.docx"
    path.write_bytes(content)
    result = runner.invoke(args=["documents", "verify", str(path)])
    assert result.exit_code == 1 and message in result.output


def test_an_edit_in_the_periods_summary_is_found_naming_the_topic_and_the_area(world):
    exported = _approved_export(world, period=True)
    assert verify_document(exported.data).matches
    document = read_docx(exported.data)
    summary_table = document.tables[1]  # after the areas' table: the first city-wide topic
    assert summary_table.rows[0].cells[0].text == "Område"
    cell = summary_table.rows[1].cells[1]
    run = cell.paragraphs[0].runs[0]
    run.text = run.text.replace("Arbetet pågår", "Arbetet avbröts")
    buffer = io.BytesIO()
    document.save(buffer)
    assert_summary_edit_named(verify_document(buffer.getvalue()))
# --- PDF, and what differs in words ---------------------------------------------------------

def _pdf_edited(exported, edit) -> bytes:
    """The exported PDF as someone who edited it in a PDF editor would leave it: the same
    layout, footer and fingerprint, one thing changed."""
    import copy

    from app.documents.pdf_format import render_pdf

    content = copy.deepcopy(exported.content)
    edit(content)
    return render_pdf(content, exported.exported_at, exported.fingerprint)


def test_an_untouched_approved_pdf_matches(world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")
    report = verify_document(exported.data)
    assert report.matches, (report.summary, report.findings)
    assert "approved version of 'Lägesbild januari 2030 Norr'" in report.summary
    assert report.fingerprint == exported.fingerprint
    period = export_period(world.user("auditor"), world.period_id, "pdf")
    assert verify_document(period.data).matches


def test_an_edited_pdf_names_the_section_and_the_words(world):
    from dataclasses import replace

    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")

    def edit(content):
        sections = content.chapters[0].sections
        sections[1] = replace(sections[1], text=sections[1].text.replace("pågår enligt plan",
                                                                        "är avslutat"))
    report = verify_document(_pdf_edited(exported, edit))
    assert not report.matches and "changed after the export" in report.summary
    assert [d.heading for d in report.differences] == ["2. Otillåten påverkan"]
    assert report.findings == ["The text of '2. Otillåten påverkan' differs: the file lacks "
                               "“pågår enligt plan.” and has “är avslutat.” instead."]


def test_a_changed_title_is_reported_as_the_title_not_as_every_section_missing(world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id)
    document = read_docx(exported.data)
    document.paragraphs[0].runs[0].text = "Lägesbild januari 2030 Söder"
    buffer = io.BytesIO()
    document.save(buffer)
    report = verify_document(buffer.getvalue())
    assert not report.matches
    assert report.differences == []
    assert report.findings == ["The title differs: the file says 'Lägesbild januari 2030 "
                               "Söder', the system 'Lägesbild januari 2030 Norr'."]


def test_a_pdf_whose_title_and_footer_name_another_area_says_both(world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")

    def edit(content):
        content.title = content.chapters[0].title = "Lägesbild januari 2030 Väster"
        content.area = "Väster"
    report = verify_document(_pdf_edited(exported, edit))
    assert not report.matches
    assert "The title differs: the file says 'Lägesbild januari 2030 Väster', the system " \
           "'Lägesbild januari 2030 Norr'." in report.findings
    assert "The area differs: the file's footer says 'Väster', the export was of 'Norr'." \
        in report.findings
    assert report.differences == []


def test_missing_added_and_renamed_sections_are_named(world):
    from dataclasses import replace

    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")

    def edit(content):
        sections = content.chapters[0].sections
        sections[0] = replace(sections[0], title="Unga i riskzonen")
        del sections[2]
        sections.append(replace(sections[-1], title="Nytt område", text="Ny text."))
    findings = verify_document(_pdf_edited(exported, edit)).findings
    assert "The heading '1. Unga i risk för kriminalitet' reads '1. Unga i riskzonen' in the " \
           "file." in findings
    assert "The section '3. Ordningsvakter' is missing from the file." in findings
    assert "The file has a section 'Nytt område' that the system does not have." in findings


def test_a_draft_pdf_says_draft_and_a_pdf_without_footer_no_fingerprint(world):
    fill_sections(world, "Norr")
    exported = export_contribution(world.user("drafter"), world.contribution().id, "pdf")
    report = verify_document(exported.data)
    assert not report.matches and "draft (UTKAST)" in report.summary
    assert "The file is an export of a draft (UTKAST), not of an approved version." in \
        report.findings
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Lagesbild januari 2030 Norr")
    report = verify_document(bytes(pdf.output()))
    assert not report.matches and "no fingerprint" in report.summary


def test_cli_verify_a_pdf_in_swedish(world, runner, tmp_path):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")
    good = tmp_path / "good.pdf"
    good.write_bytes(exported.data)
    result = runner.invoke(args=["documents", "verify", "--language", "sv", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ÖVERENSSTÄMMER: Filen stämmer med den fastställda "
                                    "versionen av 'Lägesbild januari 2030 Norr', fastställd av")

    def edit(content):
        content.title = content.chapters[0].title = "Lägesbild februari 2030 Norr"
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(_pdf_edited(exported, edit))
    result = runner.invoke(args=["documents", "verify", "--language", "sv", str(bad)])
    assert result.exit_code == 1
    assert "Rubriken skiljer sig: filen säger 'Lägesbild februari 2030 Norr', systemet " \
           "'Lägesbild januari 2030 Norr'." in result.output
    english = runner.invoke(args=["documents", "verify", str(bad)])
    assert "The title differs" in english.output and english.output.startswith("NO MATCH: ")


def test_an_edit_in_the_period_pdfs_summary_is_found_naming_the_topic_and_the_area(world):
    """The period's PDF carries the summary per city-wide topic too, and verify reads it back:
    an edit there alone (the area's own chapter untouched) is found, in words."""
    from app.documents.docx_format import DocumentContent

    approve_period(world)
    exported = export_period(world.user("auditor"), world.period_id, "pdf")
    assert verify_document(exported.data).matches

    class EditedSummary(DocumentContent):
        @property
        def topics(self):
            topics = DocumentContent.topics.fget(self)
            heading, texts = topics[0]
            area, text = texts[0]
            texts[0] = (area, text.replace("Arbetet pågår", "Arbetet avbröts"))
            return topics

    def edit(content):
        content.__class__ = EditedSummary

    assert_summary_edit_named(verify_document(_pdf_edited(exported, edit)))
