"""The web verifier: upload an exported DOCX or PDF, see whether it matches and what differs,
in Swedish (or English); only a reader of the exported lägesbild sees the report; a bad file
gets a message, never a 500; nothing is written."""
from __future__ import annotations

import io
import json

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


# --- a fingerprint typed in from paper -------------------------------------------------------

def _typed(web, fingerprint: str):
    token = web.csrf_token("/documents/verify")
    return web.client.post("/documents/verify/fingerprint",
                           data={"csrf_token": token, "fingerprint": fingerprint})


def _printed(web, path: str) -> str:
    token = web.csrf_token(path)
    location = web.client.post(path, data={"csrf_token": token}).headers["Location"]
    return location.rsplit("fingerprint=", 1)[1]


def test_a_printed_fingerprint_typed_in_names_the_approved_version(web, world):
    approve_period(world)
    web.log_in_as("auditor")
    fingerprint = _printed(web, f"/contributions/{world.contribution().id}/print")
    before = _events()
    # As read off paper: in groups, in capitals, over two lines.
    typed = " ".join(fingerprint[i:i + 8] for i in range(0, 64, 8)).upper()
    typed = typed[:36] + "\n" + typed[36:]
    response = _typed(web, typed)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fingeravtrycket hör till den fastställda versionen</h2>" in html
    assert ("Fingeravtrycket hör till den fastställda versionen av &#39;Lägesbild januari 2030 "
            "Norr&#39;, fastställd av Approver") in html
    assert "Utfärdat för: en utskrift från utskriftsvyn." in html
    assert _events() == before  # verifying writes nothing


def test_a_fingerprint_of_texts_changed_since_says_so_in_english(web, world):
    from app.contributions import operations as contributions
    from app.core.unit_of_work import operation
    from tests.factories import fill_sections

    fill_sections(world)
    web.log_in_as("drafter")
    fingerprint = _printed(web, f"/contributions/{world.contribution().id}/print")
    draft = _typed(web, fingerprint).get_data(as_text=True)
    assert "hör till ett utkast (UTKAST)" in draft
    section = world.sections("Norr")[0]
    with operation(world.user("drafter")):
        contributions.edit_section(world.user("drafter"), section.id, "- Ny text.",
                                   section.version)
    web.client.post("/language", data={"lang": "en", "next": "/documents/verify",
                                       "csrf_token": web.csrf_token("/documents/verify")})
    html = _typed(web, fingerprint).get_data(as_text=True)
    assert "the texts in the system have changed since, so the paper is not the current " \
           "version" in html
    assert "Issued for: a print from the print view." in html


def test_an_unknown_or_malformed_fingerprint_gets_a_message(web, world):
    web.log_in_as("drafter")
    unknown = _typed(web, "ab" * 32)
    assert unknown.status_code == 200
    assert f"Fingeravtrycket {'ab' * 32} har inte utfärdats av det här systemet." in \
        unknown.get_data(as_text=True)
    for typed in ("", "abc", "g" * 64, "ab" * 33, "x" * 5000):
        response = _typed(web, typed)
        assert response.status_code == 400, typed
        assert "Ett fingeravtryck är 64 tecken" in response.get_data(as_text=True)
    assert web.client.post("/documents/verify/fingerprint",
                           data={"fingerprint": "ab" * 32}).status_code == 400  # no CSRF


def test_a_reader_of_another_area_learns_nothing_from_a_fingerprint(web, world, audit_events):
    approve_period(world)
    exported = export_contribution(world.user("auditor"), world.contribution("Söder").id, "pdf")
    web.log_in_as("drafter")  # Norr's
    response = _typed(web, exported.fingerprint)
    assert response.status_code == 403
    assert "Söder" not in response.get_data(as_text=True)
    assert [json.loads(e.data)["attempted"] for e in
            audit_events("security.permission_denied")] == ["document.verify"]
