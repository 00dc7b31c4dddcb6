"""No personal identity number reaches the database or the audit trail, through any free text a
person can type or upload, on the web or the command line: each entry point gets the number in
the ways people write it (a hard wrap, a spaced or hyphenated date, 12 digits, a coordination
number), is refused with the position, and afterwards no table holds a trace of the digits.
(The guard itself, with generated numbers in every format and position: tests/core/.)"""
from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document
from sqlalchemy import select

from app.core.text_rules import find_identity_numbers
from app.extensions import db
from app.models import AuditEvent
from tests.documents.support import seed_bytes, use_seed_city_topics
from tests.factories import advance, fill_sections
from tests.support import identity_number_traces
from tests.web_support import input_values, shown_after_redirect


def _check_digit(nine: str) -> str:
    total = 0
    for index, ch in enumerate(nine):
        product = int(ch) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return str((10 - total % 10) % 10)


def _ten(born: date, serial: str, coordination: bool = False) -> str:
    nine = f"{born:%y%m}{born.day + (60 if coordination else 0):02d}{serial}"
    return nine + _check_digit(nine)


# Built here, not copied from anywhere (no real person's number in git).
TEN = _ten(date(1985, 7, 9), "317")
COORDINATION = _ten(date(1985, 7, 9), "317", coordination=True)


def forms(ten: str = TEN) -> dict[str, str]:
    """The number as issue 16 saw it get through, and the other ways people write it."""
    century = "19"
    yy, mm, dd, last = ten[:2], ten[2:4], ten[4:6], ten[6:]
    return {
        "hard wrap": f"{century}{yy}{mm}{dd}-\n{last}",
        "joined wrap": f"{century}{yy}{mm}{dd}- {last}",
        "spaced date": f"{century}{yy} {mm} {dd}-{last}",
        "hyphenated date": f"{century}{yy}-{mm}-{dd}-{last}",
        "12 digits": f"{century}{ten}",
        "plus": f"{yy}{mm}{dd}+{last}",
    }


ONE_LINE_FORMS = {k: v for k, v in forms().items() if "\n" not in v}


def assert_no_trace(*tens: str) -> None:
    for ten in tens or (TEN,):
        assert identity_number_traces(ten) == []


def assert_refused_without_the_number(html: str, ten: str = TEN) -> None:
    assert "personnummer" in html or "samordningsnummer" in html, html[:2000]
    assert find_identity_numbers(html) == [] and ten[:6] not in html  # never echoed


# --- the web --------------------------------------------------------------------------------

def _edit_form(web, section_id):
    page = web.client.get(f"/sections/{section_id}/edit")
    assert page.status_code == 200
    return input_values(page.get_data(as_text=True))


@pytest.mark.parametrize("written", forms().values(), ids=forms().keys())
def test_a_section_text(web, world, written):
    web.log_in_as("drafter")
    section_id = world.sections()[0].id
    values = _edit_form(web, section_id)
    response = web.client.post(f"/sections/{section_id}/edit", data={
        "csrf_token": values["csrf_token"][0], "expected_version": values["expected_version"][0],
        "text": f"Första raden.\nPersonen {written} greps."})
    html = shown_after_redirect(web, response)
    assert "rad 2, kolumn 10" in html
    assert_no_trace()


def test_a_coordination_number_in_a_section_text(web, world):
    web.log_in_as("drafter")
    section_id = world.sections()[0].id
    values = _edit_form(web, section_id)
    response = web.client.post(f"/sections/{section_id}/edit", data={
        "csrf_token": values["csrf_token"][0], "expected_version": values["expected_version"][0],
        "text": f"Gäller {COORDINATION[:6]}-{COORDINATION[6:]}"})
    assert "samordningsnummer" in shown_after_redirect(web, response)
    assert_no_trace(COORDINATION)


def _transition(web, world, trigger, **fields):
    contribution = world.contribution()
    token = web.csrf_token(f"/contributions/{contribution.id}")
    return web.client.post(f"/contributions/{contribution.id}/transition/{trigger}", data={
        "csrf_token": token, "expected_version": str(contribution.version), **fields})


@pytest.mark.parametrize("written", forms().values(), ids=forms().keys())
def test_a_reviewers_remark(web, world, written):
    fill_sections(world)
    advance(world, "Norr", "police_review")
    web.log_in_as("reviewer")
    response = _transition(web, world, "return", remark_general=f"Stryk {written}.")
    shown_after_redirect(web, response)
    assert world.contribution().state == "police_review"
    assert_no_trace()


def test_a_consolidators_reason(web, world):
    fill_sections(world)
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    response = _transition(web, world, "reopen", reason=f"Gäller {forms()['hard wrap']}")
    shown_after_redirect(web, response)
    contribution = world.contribution()
    response = web.client.post(
        f"/periods/{world.period_id}/contributions/{contribution.id}/exclusion", data={
            "csrf_token": web.csrf_token(f"/periods/{world.period_id}/consolidation"),
            "expected_version": str(contribution.version), "action": "exclude",
            "reason": f"Gäller {forms()['spaced date']}"})
    shown_after_redirect(web, response)
    assert world.contribution().state == "reviewed"
    assert_no_trace()


# The import: a text file like the seed, with the number where issue 16 saw it get through.
def _seed_with(old: str, new: str) -> bytes:
    text = seed_bytes().decode("utf-8")
    assert old in text
    return text.replace(old, new, 1).encode("utf-8")


def _seed_title() -> str:
    return seed_bytes().decode("utf-8").splitlines()[0]


@pytest.fixture
def jarva(world):
    from tests.documents.support import add_area

    use_seed_city_topics()
    return add_area("Järva")


def _upload(web, area_id, data: bytes, name="seed.txt", period="december 2022"):
    return web.client.post("/documents/import", data={
        "csrf_token": web.csrf_token("/documents/import"), "area_id": str(area_id),
        "period": period, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def _docx_with(cell_text: str = "Arbetet pågår.", title: str = "Lägesbild december 2022 Järva",
               core_title: str = "Lägesbild") -> bytes:
    document = Document()
    document.core_properties.title = core_title
    document.add_paragraph(title, style="Title")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ("Nr", "Stadsövergripande prioriterade områden",
                                                "Kommentarer"), strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("1.", "Unga i risk", cell_text), strict=True):
        cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


UPLOADS = {
    "wrapped in a section": lambda: _seed_with("SIG unga och unga vuxna löper på.",
                                               f"SIG unga löper på, se {forms()['hard wrap']}."),
    "in the title line": lambda: _seed_with(_seed_title(),
                                            f"{_seed_title()} {forms()['spaced date']}"),
    "in a local topic's title": lambda: _seed_with(
        "Otrygga brottsutsatta platser", f"Otrygga platser {forms()['hyphenated date']}"),
    "in a DOCX cell": lambda: _docx_with(cell_text=f"Se {forms()['joined wrap']}"),
    "in a DOCX title": lambda: _docx_with(title=f"Lägesbild december 2022 {forms()['plus']}"),
    "in a DOCX's properties": lambda: _docx_with(core_title=forms()["12 digits"]),
}


@pytest.mark.parametrize("build", UPLOADS.values(), ids=UPLOADS.keys())
def test_an_uploaded_file(web, world, jarva, build):
    web.log_in_as("consolidator")
    response = _upload(web, jarva, build(), name="lagesbild.docx")
    assert response.status_code == 400
    assert_refused_without_the_number(response.get_data(as_text=True))
    assert_no_trace()  # not even the pending upload


@pytest.mark.parametrize("written", ONE_LINE_FORMS.values(), ids=ONE_LINE_FORMS.keys())
def test_an_uploaded_files_name(web, world, jarva, written):
    web.log_in_as("consolidator")
    response = _upload(web, jarva, seed_bytes(), name=f"Järva {written}.txt")
    assert response.status_code == 400
    assert "I filnamnet finns något som ser ut som ett personnummer" in \
        response.get_data(as_text=True)
    assert_no_trace()


def _confirm(web, jarva, period="december 2022", filename="seed.txt"):
    from tests.documents.support import seed_mapping

    values = input_values(_upload(web, jarva, seed_bytes()).get_data(as_text=True))
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": values["source_sha256"][0],
            "area_id": str(jarva), "period": period, "filename": filename}
    form.update({f"block-{block}": target for block, target in seed_mapping().items()})
    return web.client.post("/documents/import/confirm", data=form)


def test_the_confirmations_period_and_file_name(web, world, jarva):
    web.log_in_as("consolidator")
    response = _confirm(web, jarva, period=f"december 2022 {forms()['joined wrap']}")
    assert response.status_code == 400
    assert "I periodens namn finns" in response.get_data(as_text=True)
    # A file name changed in the form between the preview and the confirmation.
    response = _confirm(web, jarva, filename=f"{forms()['12 digits']}.txt")
    assert response.status_code == 400
    assert "I filnamnet finns" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "document.import")) is None
    assert_no_trace()


def test_a_sign_in_with_a_number_for_an_e_mail_address(web, world):
    written = forms()["12 digits"]
    response = web.log_in(f"{written}@example.se", password="fel lösenord")
    assert response.status_code == 401
    db.session.rollback()
    failed = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login_failed")).all()
    assert failed, "the failure is still recorded"
    assert_no_trace()


def test_an_auditors_filter(web, world):
    web.log_in_as("auditor")
    for name in ("organisation", "action"):
        response = web.client.get("/audit/", query_string={name: forms()["hyphenated date"]})
        assert response.status_code == 400
    assert_no_trace()


# --- the command line -----------------------------------------------------------------------

def _invoke(runner, *args, input=None):
    result = runner.invoke(args=list(args), input=input)
    assert result.exit_code == 1, result.output
    assert "must not be stored" in result.output
    assert find_identity_numbers(result.output) == [] and TEN[:6] not in result.output
    return result


@pytest.mark.parametrize("written", forms().values(), ids=forms().keys())
def test_the_administrators_command_line(runner, world, written):
    name = f"Namn {written}"
    _invoke(runner, "organisations", "add", name, "--kind", "police")
    _invoke(runner, "areas", "add", name)
    _invoke(runner, "topics", "add", name, "--number", "9")
    _invoke(runner, "topics", "add", name, "--area", "Norr")
    _invoke(runner, "periods", "add", name, "--drafting-deadline", "2031-01-10",
            "--review-deadline", "2031-01-17", "--consolidation-deadline", "2031-01-24",
            "--approval-deadline", "2031-01-31")
    _invoke(runner, "users", "create", "--email", "ny@example.se", "--name", name,
            "--organisation", "Stadsledningskontoret", "--role", "auditor", "--password-stdin",
            input="ett långt lösenord\n")
    compact = "".join(ch for ch in written if ch.isdigit())
    _invoke(runner, "users", "create", "--email", f"{compact}@example.se", "--name", "Ny",
            "--organisation", "Stadsledningskontoret", "--role", "auditor", "--password-stdin",
            input="ett långt lösenord\n")
    assert_no_trace()


def test_the_import_command_line(runner, world, jarva, tmp_path):
    named = tmp_path / f"Järva {forms()['12 digits']}.txt"
    named.write_bytes(seed_bytes())
    _invoke(runner, "documents", "import", str(named), "--area", "Järva", "--period",
            "december 2022", "--yes")
    inside = tmp_path / "seed.txt"
    inside.write_bytes(UPLOADS["in a local topic's title"]())
    _invoke(runner, "documents", "import", str(inside), "--area", "Järva", "--period",
            "december 2022", "--yes")
    plain = tmp_path / "plain.txt"
    plain.write_bytes(seed_bytes())
    _invoke(runner, "documents", "import", str(plain), "--area", "Järva", "--period",
            f"december {forms()['plus']}", "--yes")
    assert_no_trace()


def test_the_audit_export_command_line(runner, world, tmp_path):
    _invoke(runner, "audit", "export", "--format", "jsonl", "--out", str(tmp_path / "x.jsonl"),
            "--organisation", forms()["spaced date"])
    assert not (tmp_path / "x.jsonl").exists()
    assert_no_trace()
