"""The city's Word template (LAGESBILD_DOCX_TEMPLATE): a template of the city's own (its font,
its header with a logo, its margins) is what the export writes into; a template that is
missing, no DOCX, or lacks the styles stops the app at start, naming the setting, and refuses
an export with a clear message (never an error page, nothing recorded)."""
from __future__ import annotations

import io

import pytest
from docx import Document
from docx.shared import Cm, Pt
from PIL import Image
from sqlalchemy import select

from app.config import ConfigurationError
from app.core.errors import InvalidInput
from app.documents.docx_format import DEFAULT_TEMPLATE, render_docx
from app.documents.export import export_contribution, export_period
from app.documents.template import template_bytes
from app.extensions import db
from app.models import AuditEvent
from tests.conftest import _make_app
from tests.documents.support import read_docx
from tests.documents.test_docx_format import FINGERPRINT, MOMENT, NS, attribute, period, xml
from tests.factories import fill_sections

CITY_FONT = "Georgia"


def logo_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (0, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def city_template(path, *, with_styles: bool = True) -> str:
    """A template as a city makes one in Word: its font, a header with its logo and name, its
    own margins, and some instructions in the body (which the export drops)."""
    document = Document()
    document.styles["Normal"].font.name = CITY_FONT
    document.styles["Normal"].font.size = Pt(11)
    document.styles["Title"].font.name = CITY_FONT
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(3)
    header = section.header.paragraphs[0]
    header.add_run().add_picture(io.BytesIO(logo_png()), width=Cm(3))
    header.add_run("Stockholms stad")
    document.add_paragraph("Mallens instruktioner: skriv inte här.")
    if not with_styles:
        document.styles["Table Grid"].delete()
    document.save(path)
    return str(path)


def test_the_package_ships_a_neutral_default_that_passes_its_own_check():
    assert DEFAULT_TEMPLATE.is_file()
    assert template_bytes(None) == DEFAULT_TEMPLATE.read_bytes()


def test_an_export_is_written_into_the_citys_template(app, world, tmp_path):
    app.config["DOCX_TEMPLATE"] = city_template(tmp_path / "stad.docx")
    fill_sections(world, "Norr")
    data = export_contribution(world.user("drafter"), world.contribution().id).data
    document = read_docx(data)
    assert document.styles["Normal"].font.name == CITY_FONT
    header = document.sections[0].header
    assert header.paragraphs[0].text == "Stockholms stad"
    assert header.paragraphs[0]._p.findall(".//w:drawing", NS)  # the logo
    assert header.paragraphs[1].text == "UTKAST – ej fastställd"  # below the template's
    assert any(name.startswith("word/media/") for name in _names(data))
    assert round(document.sections[0].left_margin.cm, 2) == 3
    texts = [p.text for p in document.paragraphs]
    assert "Mallens instruktioner: skriv inte här." not in texts
    assert texts[0] == "Lägesbild januari 2030 Norr"
    # The tables fill the template's text width (its Letter page less 2 × 3 cm), not A4's.
    page = document.sections[0]
    text_width = (page.page_width - page.left_margin - page.right_margin) // 635  # EMU per twip
    widths = [int(attribute(column, "w")) for column in
              xml(data, "word/document.xml").find(".//w:tblGrid", NS)]
    assert abs(sum(widths) - text_width) <= len(widths)
    assert round(page.page_width.cm, 2) == 21.59
    # Swedish whatever the template's language was.
    languages = xml(data, "word/styles.xml").iterfind(".//w:lang", NS)
    assert {attribute(language, "val") for language in languages} == {"sv-SE"}


def test_a_template_replaced_on_disk_is_used_without_a_restart(app, world, tmp_path):
    path = tmp_path / "stad.docx"
    app.config["DOCX_TEMPLATE"] = city_template(path)
    export_period(world.user("approver"), world.period_id)
    replacement = Document(path)
    replacement.styles["Normal"].font.name = "Verdana"
    replacement.save(path)
    data = export_period(world.user("approver"), world.period_id).data
    assert read_docx(data).styles["Normal"].font.name == "Verdana"


@pytest.mark.parametrize("make, message", [
    (lambda tmp: str(tmp / "finns-inte.docx"),
     "does not exist: there is no file finns-inte.docx"),
    (lambda tmp: _write(tmp / "mall.docx", b"not a zip"), "is not a usable DOCX file (mall.docx)"),
    (lambda tmp: city_template(tmp / "utan.docx", with_styles=False),
     "lacks the styles Table Grid"),
])
def test_a_bad_template_stops_the_app_at_start_naming_the_setting(tmp_path, monkeypatch, make,
                                                                  message):
    path = make(tmp_path)
    monkeypatch.setenv("LAGESBILD_DOCX_TEMPLATE", path)
    monkeypatch.setenv("LAGESBILD_INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(ConfigurationError) as refused:
        _make_app(f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert str(refused.value).startswith(f"LAGESBILD_DOCX_TEMPLATE={path!r}: ")
    assert message in str(refused.value)


def test_a_template_that_went_missing_refuses_the_export_and_records_nothing(app, world,
                                                                            tmp_path):
    path = tmp_path / "stad.docx"
    app.config["DOCX_TEMPLATE"] = city_template(path)
    path.unlink()
    with pytest.raises(InvalidInput, match="there is no file stad.docx"):
        export_contribution(world.user("drafter"), world.contribution().id)
    assert db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "document.export")).all() == []


def test_the_download_page_says_so_in_swedish_not_an_error_page(app, web, world, tmp_path):
    app.config["DOCX_TEMPLATE"] = str(tmp_path / "borta.docx")
    web.log_in_as("approver")
    token = web.csrf_token("/documents/")
    response = web.client.post(f"/periods/{world.period_id}/export.docx",
                               data={"csrf_token": token})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Wordmallen för dokument (LAGESBILD_DOCX_TEMPLATE) finns inte" in page
    assert "borta.docx" in page and str(tmp_path) not in page


def test_render_takes_the_template_it_is_given(tmp_path):
    template = (tmp_path / "stad.docx")
    city_template(template)
    document = read_docx(render_docx(period(), MOMENT, FINGERPRINT, template.read_bytes()))
    assert document.styles["Normal"].font.name == CITY_FONT
    assert document.sections[0].header.paragraphs[0].text == "Stockholms stad"


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _names(data: bytes) -> list[str]:
    import zipfile

    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_a_template_with_its_own_first_and_even_pages_gets_the_marks_on_those_too(app, world,
                                                                                 tmp_path):
    path = tmp_path / "forsta-sidan.docx"
    template = Document(city_template(path))
    template.sections[0].different_first_page_header_footer = True
    template.sections[0].first_page_header.paragraphs[0].add_run("Stockholms stad, försättsblad")
    template.settings.odd_and_even_pages_header_footer = True
    template.save(path)
    app.config["DOCX_TEMPLATE"] = str(path)
    fill_sections(world, "Norr")
    exported = export_contribution(world.user("drafter"), world.contribution().id)
    section = read_docx(exported.data).sections[0]
    for header, footer in ((section.header, section.footer),
                           (section.first_page_header, section.first_page_footer),
                           (section.even_page_header, section.even_page_footer)):
        assert "UTKAST – ej fastställd" in [p.text for p in header.paragraphs]
        assert exported.fingerprint in "\n".join(p.text for p in footer.paragraphs)
    assert section.first_page_header.paragraphs[0].text == "Stockholms stad, försättsblad"
