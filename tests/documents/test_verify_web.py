"""The web verifier: upload an exported DOCX or PDF, see whether it matches and what differs,
in Swedish (or English); only a reader of the exported lägesbild sees the report; a bad file
gets a message, never a 500; nothing is written."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.documents.export import export_contribution, export_period
from app.extensions import db
from app.models import AuditEvent
from tests.documents.support import approve_period, read_docx


def _verify(web, data: bytes, name: str):
    token = web.csrf_token("/documents/verify")
    return web.client.post("/documents/verify", data={
        "csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def _events() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_an_untouched_pdf_matches_in_swedish(web, world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id, "pdf")
    web.log_in_as("drafter")
    assert "/documents/verify" in web.client.get("/documents/").get_data(as_text=True)
    before = _events()
    response = _verify(web, exported.data, "norr.pdf")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Filen stämmer</h2>" in html
    assert "Filen stämmer med den fastställda versionen av &#39;Lägesbild januari 2030 " \
           "Norr&#39;, fastställd av Approver" in html
    assert _events() == before  # verifying writes nothing


def test_a_docx_with_a_changed_title_and_text_says_what_differs(web, world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution().id)
    document = read_docx(exported.data)
    document.paragraphs[0].runs[0].text = "Lägesbild januari 2031 Norr"
    comment = document.tables[0].rows[1].cells[2].paragraphs[0]
    comment.runs[0].text = comment.runs[0].text.replace("enligt plan", "enligt ingen plan")
    buffer = io.BytesIO()
    document.save(buffer)
    web.log_in_as("consolidator")
    html = _verify(web, buffer.getvalue(), "norr.docx").get_data(as_text=True)
    assert "Filen stämmer inte</h2>" in html
    assert "Rubriken skiljer sig: filen säger &#39;Lägesbild januari 2031 Norr&#39;, systemet " \
           "&#39;Lägesbild januari 2030 Norr&#39;." in html
    assert "Texten i &#39;1. Unga i risk för kriminalitet&#39; skiljer sig: filen saknar – " \
           "och har “ingen” i stället." in html
    assert "<ins>" in html and "ingen" in html


def test_the_report_in_english(web, world):
    approve_period(world)
    exported = export_period(world.user("auditor"), world.period_id, "pdf")
    web.log_in_as("approver")
    web.client.post("/language", data={"lang": "en", "next": "/documents/verify",
                                       "csrf_token": web.csrf_token("/documents/verify")})
    html = _verify(web, exported.data, "period.pdf").get_data(as_text=True)
    assert "The file matches</h2>" in html and "consolidation.approve" in html


def test_a_reader_of_another_area_sees_no_report(web, world):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution("Söder").id, "pdf")
    web.log_in_as("drafter")  # Norr's
    response = _verify(web, exported.data, "soder.pdf")
    assert response.status_code == 403
    assert "Lägesbild januari 2030 Söder" not in response.get_data(as_text=True)


def test_bad_files_get_a_message(web, world):
    web.log_in_as("drafter")
    for data, message in ((b"%PDF-1.7 trasig", "PDF-filen är skadad och kan inte läsas."),
                          (b"", "Välj en fil att kontrollera.")):
        response = _verify(web, data, "x.pdf") if data else web.client.post(
            "/documents/verify", data={"csrf_token": web.csrf_token("/documents/verify")})
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    foreign = _verify(web, "Lägesbild maj 2020 Norr\n".encode(), "x.docx")
    assert foreign.status_code == 400 and "DOCX" in foreign.get_data(as_text=True)
    assert web.client.post("/documents/verify").status_code == 400  # no CSRF token
