"""The documents pages: print views, downloads, import preview and confirm, carry-forward and
cross-references; access per role, CSRF, 400 on bad uploads."""
from __future__ import annotations

import io
import json
from html import unescape

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import Contribution, Period, Section
from tests.documents.support import (
    add_area,
    approve_period,
    read_docx,
    seed_bytes,
    seed_mapping,
    use_seed_city_topics,
)
from tests.factories import SETUP, fill_sections
from tests.web_support import input_values


def _ids(world):
    return world.contribution().id, world.period_id


# --- print views ----------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
def test_readers_see_the_print_view_marked_utkast(web, world, key):
    fill_sections(world)
    contribution_id, _ = _ids(world)
    web.log_in_as(key)
    html = web.client.get(f"/contributions/{contribution_id}/print").get_data(as_text=True)
    assert "<h1>Lägesbild januari 2030 Norr</h1>" in html
    assert 'class="doc-draft-mark"' in html and "UTKAST" in html
    assert "Stadsövergripande prioriterade områden" in html and "<li>Arbetet pågår" in html
    assert "print.css" in html


@pytest.mark.parametrize("key", ["drafter_south", "reviewer_south", "admin"])
def test_others_may_not_see_the_print_view(web, world, key, audit_events):
    contribution_id, period_id = _ids(world)
    web.log_in_as(key)
    assert web.client.get(f"/contributions/{contribution_id}/print").status_code == 403
    assert web.client.get(f"/periods/{period_id}/print").status_code == 403
    assert web.client.get(f"/contributions/{contribution_id}/cross-references").status_code \
        == 403
    refusals = audit_events("security.permission_denied")
    assert [json.loads(e.data)["attempted"] for e in refusals] == [
        "document.print", "document.print", "section.cross_reference"]


def test_period_print_view_for_city_roles(web, world):
    approve_period(world)
    web.log_in_as("auditor")
    html = web.client.get(f"/periods/{world.period_id}/print").get_data(as_text=True)
    assert "<h1>Lägesbild januari 2030</h1>" in html and "Sammanfattning" in html
    assert "Lägesbild januari 2030 Söder" in html and "doc-draft-mark" not in html


def test_the_period_print_view_reads_like_the_document(web, world):
    """The cover (subtitle, approval line, the areas' states), the summary per city-wide topic
    with every area's text, then each area: as the DOCX and the PDF."""
    approve_period(world)
    web.log_in_as("auditor")
    html = web.client.get(f"/periods/{world.period_id}/print").get_data(as_text=True)
    order = ["<h1>Lägesbild januari 2030</h1>", "Stadsövergripande lägesbild",
             "Fastställd av Approver", ">Områden och status</h2>",
             ">Sammanfattning per stadsövergripande område</h2>",
             ">1. Unga i risk för kriminalitet</h3>", ">Norr</th>", ">Söder</th>",
             ">Lägesbild januari 2030 Norr</h2>", ">Lägesbild januari 2030 Söder</h2>"]
    place = 0
    for text in order:  # each after the one before
        place = html.find(text, place)
        assert place != -1, text
    contribution = web.client.get(f"/contributions/{world.contribution().id}/print")
    assert "Fastställd av Approver" in contribution.get_data(as_text=True)


def _print(web, path: str):
    token = web.csrf_token(path)
    return web.client.post(path, data={"csrf_token": token})


@pytest.mark.parametrize("kind", ["contribution", "period"])
def test_print_with_a_fingerprint_records_an_export_and_shows_it(web, world, audit_events,
                                                                 kind):
    approve_period(world)
    path = (f"/contributions/{world.contribution().id}/print" if kind == "contribution"
            else f"/periods/{world.period_id}/print")
    web.log_in_as("auditor")
    plain = web.client.get(path).get_data(as_text=True)
    assert 'class="doc-footer"' not in plain and "har inget fingeravtryck" in plain
    response = _print(web, path)
    assert response.status_code == 303
    event = audit_events("document.export")[-1]
    recorded = json.loads(event.data)
    assert recorded["format"] == "print" and "file_sha256" not in recorded
    assert response.headers["Location"].endswith(f"{path}?fingerprint={recorded['fingerprint']}")
    html = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="doc-footer"' in html
    assert f"Fingeravtryck (SHA-256): {recorded['fingerprint']}" in html
    assert f"händelse {recorded['audit_head_seq']}" in html
    assert "bär fingeravtrycket från sin export" in html
    # Printed again: a new export event, a new fingerprint (the audit head moved on).
    again = _print(web, path).headers["Location"]
    assert again != response.headers["Location"]
    assert len(audit_events("document.export")) == 2


def test_a_print_fingerprint_is_not_shown_once_the_texts_changed(web, world, audit_events):
    fill_sections(world)
    contribution_id = world.contribution().id
    path = f"/contributions/{contribution_id}/print"
    web.log_in_as("drafter")
    location = _print(web, path).headers["Location"]
    assert 'class="doc-footer"' in web.client.get(location).get_data(as_text=True)
    from app.contributions import operations as contributions

    section = world.sections("Norr")[0]
    with operation(world.user("drafter")):
        contributions.edit_section(world.user("drafter"), section.id, "- En ny text.",
                                   section.version)
    html = web.client.get(location).get_data(as_text=True)
    assert 'class="doc-footer"' not in html
    assert "Texterna har ändrats sedan fingeravtrycket utfärdades" in html
    assert "Skriv ut igen med nytt fingeravtryck" not in html


@pytest.mark.parametrize("fingerprint", ["ab" * 32, "nonsense", "AB" * 40, "'><script>"])
def test_an_unknown_or_malformed_fingerprint_in_the_address_shows_none(web, world, fingerprint):
    fill_sections(world)
    web.log_in_as("drafter")
    response = web.client.get(f"/contributions/{world.contribution().id}/print",
                              query_string={"fingerprint": fingerprint})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="doc-footer"' not in html
    assert "hör inte till någon utskrift av det här dokumentet" in html and "<script>" not in html


def test_a_print_fingerprint_of_another_document_is_not_shown(web, world, audit_events):
    approve_period(world)
    web.log_in_as("auditor")
    location = _print(web, f"/periods/{world.period_id}/print").headers["Location"]
    fingerprint = location.rsplit("=", 1)[1]
    html = web.client.get(f"/contributions/{world.contribution().id}/print",
                          query_string={"fingerprint": fingerprint}).get_data(as_text=True)
    assert 'class="doc-footer"' not in html
    assert "hör inte till någon utskrift av det här dokumentet" in html


def test_printing_needs_csrf_and_reading_rights(web, world, audit_events):
    contribution_id = world.contribution().id
    web.log_in_as("drafter")
    assert web.client.post(f"/contributions/{contribution_id}/print").status_code == 400
    web.log_out()
    web.log_in_as("drafter_south")
    token = web.csrf_token("/")
    assert web.client.post(f"/contributions/{contribution_id}/print",
                           data={"csrf_token": token}).status_code == 403
    assert web.client.post(f"/periods/{world.period_id}/print",
                           data={"csrf_token": token}).status_code == 403
    assert audit_events("document.export") == []


def test_print_view_needs_login_and_an_existing_contribution(web, world):
    assert web.client.get(f"/contributions/{world.contribution().id}/print").status_code == 302
    web.log_in_as("drafter")
    assert web.client.get("/contributions/9999/print").status_code == 404


# --- downloads ------------------------------------------------------------------------------

def test_download_docx(web, world, audit_events):
    contribution_id, _ = _ids(world)
    web.log_in_as("drafter")
    token = web.csrf_token(f"/contributions/{contribution_id}/print")
    response = web.client.post(f"/contributions/{contribution_id}/export.docx",
                               data={"csrf_token": token})
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "lagesbild-januari-2030-norr-utkast.docx" in response.headers["Content-Disposition"]
    document = read_docx(response.data)
    fingerprint = json.loads(audit_events("document.export")[0].data)["fingerprint"]
    assert fingerprint in document.sections[0].footer.paragraphs[0].text


def test_download_needs_csrf_and_a_reader(web, world, audit_events):
    contribution_id, period_id = _ids(world)
    web.log_in_as("drafter")
    assert web.client.post(f"/contributions/{contribution_id}/export.docx").status_code == 400
    token = web.csrf_token("/documents/")
    assert web.client.post(f"/periods/{period_id}/export.docx",
                           data={"csrf_token": token}).status_code == 403
    assert audit_events("document.export") == []
    assert len(audit_events("security.permission_denied")) == 1


def test_period_download_for_the_approver(web, world):
    web.log_in_as("approver")
    token = web.csrf_token("/documents/")
    response = web.client.post(f"/periods/{world.period_id}/export.docx",
                               data={"csrf_token": token})
    assert response.status_code == 200
    assert read_docx(response.data).paragraphs[0].text == "Lägesbild januari 2030"


# --- overview -------------------------------------------------------------------------------

def test_overview_lists_what_the_user_may_read(web, world):
    web.log_in_as("drafter")
    html = web.client.get("/documents/").get_data(as_text=True)
    assert f"/contributions/{world.contribution().id}/print" in html
    assert f"/contributions/{world.contribution('Söder').id}/print" not in html
    assert f"/periods/{world.period_id}/print" not in html
    assert "/documents/import" not in html
    web.log_out()
    web.log_in_as("consolidator")
    html = web.client.get("/documents/").get_data(as_text=True)
    assert f"/periods/{world.period_id}/print" in html and "/documents/import" in html


def test_menu_entry(web, world):
    web.log_in_as("reviewer")
    assert 'href="/documents/"' in web.client.get("/").get_data(as_text=True)


# --- carry-forward --------------------------------------------------------------------------

def test_carry_forward_from_the_overview(web, world, audit_events):
    from datetime import date

    from app.admin import operations as admin
    from app.core.unit_of_work import operation
    from tests.factories import SETUP

    approve_period(world)
    with operation(SETUP):
        period_id = admin.create_period(
            SETUP, "mars 2030", drafting_deadline=date(2030, 3, 10),
            review_deadline=date(2030, 3, 17), consolidation_deadline=date(2030, 3, 24),
            approval_deadline=date(2030, 3, 31)).id
    # The administrator opens periods but writes no text: no button, and a POST is refused.
    web.log_in_as("admin")
    html = web.client.get("/documents/").get_data(as_text=True)
    assert f"/periods/{period_id}/carry-forward" not in html
    assert f"/contributions/{world.contribution().id}/print" not in html  # no content
    response = web.client.post(f"/periods/{period_id}/carry-forward",
                               data={"csrf_token": web.csrf_token("/documents/")})
    assert response.status_code == 403
    assert len(audit_events("contribution.carry_forward")) == 0
    web.log_out()
    web.log_in_as("consolidator")
    html = web.client.get("/documents/").get_data(as_text=True)
    assert f"/periods/{period_id}/carry-forward" in html
    assert web.client.post(f"/periods/{period_id}/carry-forward").status_code == 400
    response = web.client.post(f"/periods/{period_id}/carry-forward",
                               data={"csrf_token": web.csrf_token("/documents/")})
    assert response.status_code == 302
    assert "8 avsnitt utgår nu från förra periodens fastställda texter." in \
        web.client.get("/documents/").get_data(as_text=True)
    assert len(audit_events("contribution.carry_forward")) == 2


# --- cross-references -----------------------------------------------------------------------

def test_cross_reference_form(web, world, audit_events):
    contribution = world.contribution()
    city, local = contribution.ordered_sections[0], contribution.ordered_sections[-1]
    web.log_in_as("drafter")
    path = f"/contributions/{contribution.id}/cross-references"
    html = web.client.get(path).get_data(as_text=True)
    assert f'action="/sections/{city.id}/cross-reference"' in html
    response = web.client.post(f"/sections/{city.id}/cross-reference", data={
        "csrf_token": web.csrf_token(path), "local_topic_id": str(local.topic_id),
        "version": str(city.version)})
    assert response.status_code == 302
    html = web.client.get(path).get_data(as_text=True)
    assert "området trygghet i norr, se nedan." in html
    assert len(audit_events("section.cross_reference")) == 1
    response = web.client.post(f"/sections/{city.id}/cross-reference", data={
        "csrf_token": web.csrf_token(path), "local_topic_id": "x", "version": "1"})
    assert response.status_code == 400
    web.log_out()
    web.log_in_as("reviewer")
    assert 'action="/sections/' not in web.client.get(path).get_data(as_text=True)


# --- import ---------------------------------------------------------------------------------

@pytest.fixture
def jarva(world):
    use_seed_city_topics()
    return add_area("Järva")


def _upload(web, area_id, data: bytes, name="seed.txt", period="december 2022"):
    return web.client.post("/documents/import", data={
        "csrf_token": web.csrf_token("/documents/import"), "area_id": str(area_id),
        "period": period, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


def test_import_the_seed_through_the_preview(web, world, jarva, audit_events):
    web.log_in_as("consolidator")
    response = _upload(web, jarva, seed_bytes())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Kontrollera fördelningen" in html
    assert "Perioden december 2022 finns inte" in html
    assert "Otrygga brottsutsatta platser" in html and "(ny)" in html
    values = input_values(html)
    source = values["source_sha256"][0]
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": source,
            "area_id": str(jarva), "period": "december 2022", "filename": "seed.txt"}
    form.update({f"block-{block}": target for block, target in seed_mapping().items()})
    response = web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    contribution = db.session.scalar(select(Contribution).where(Contribution.area_id == jarva))
    assert response.headers["Location"] == f"/contributions/{contribution.id}/print"
    assert contribution.state == "approved"
    html = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "importerades som lägesbilden för Järva för december 2022, märkt importerad" in html
    assert "Status: Importerad (fastställd utanför systemet)" in html
    assert "doc-draft-mark" not in html
    assert len(audit_events("document.import")) == 1


def test_import_confirm_with_an_unplaced_text_shows_the_preview_again(web, world, jarva,
                                                                      audit_events):
    web.log_in_as("consolidator")
    values = input_values(_upload(web, jarva, seed_bytes()).get_data(as_text=True))
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": values["source_sha256"][0],
            "area_id": str(jarva), "period": "december 2022", "filename": "seed.txt"}
    form.update({f"block-{b}": t for b, t in seed_mapping().items()})
    form["block-local-4"] = ""
    response = web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Varje text måste placeras under ett område" in html
    assert 'name="block-local-4"' in html
    assert audit_events("document.import") == []
    assert db.session.scalar(select(Period).where(Period.name == "december 2022")) is None


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.txt", "Filen är tom."),
    (b"%PDF-1.4", "old.pdf", "PDF-filen är skadad och kan inte läsas"),
    (b"PK\x03\x04garbage", "x.docx", "inte en läsbar DOCX-fil"),
])
def test_bad_uploads_are_400_with_a_message(web, world, jarva, data, name, message):
    web.log_in_as("consolidator")
    response = _upload(web, jarva, data, name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_oversized_uploads_are_refused(web, world, jarva, monkeypatch):
    from app.documents import importer as documents_import

    # A small cap stands in for 10 MB (large request bodies make the test client spool).
    monkeypatch.setattr(documents_import, "MAX_FILE_BYTES", 2 * 1024 * 1024)
    web.log_in_as("consolidator")
    response = _upload(web, jarva, b"L" * 64, name="x.txt")
    assert response.status_code == 400 and "Filen ser inte ut som en lägesbild" in \
        response.get_data(as_text=True)
    monkeypatch.setattr(documents_import, "MAX_FILE_BYTES", 32)
    response = _upload(web, jarva, b"L" * 64, name="x.txt")
    assert response.status_code == 400
    assert "Filen är större än 0 MB." in response.get_data(as_text=True)


def test_upload_form_checks(web, world, jarva):
    web.log_in_as("consolidator")
    response = _upload(web, 999, seed_bytes())
    assert response.status_code == 400 and "Välj vilket område" in response.get_data(as_text=True)
    response = _upload(web, jarva, seed_bytes(), period=" ")
    assert response.status_code == 400
    response = web.client.post("/documents/import", data={"area_id": str(jarva),
                                                          "period": "december 2022"})
    assert response.status_code == 400  # no CSRF token
    response = web.client.post("/documents/import/confirm", data={
        "csrf_token": web.csrf_token("/documents/import"), "source_sha256": "../../etc",
        "area_id": str(jarva), "period": "x"})
    assert response.status_code == 400


@pytest.mark.parametrize("key", ["drafter", "reviewer", "approver", "auditor", "admin"])
def test_only_the_coordinator_imports(web, world, key, audit_events):
    web.log_in_as(key)
    assert web.client.get("/documents/import").status_code == 403
    assert len(audit_events("security.permission_denied")) == 1


def test_import_can_start_the_areas_draft_from_the_imported_texts(web, world, audit_events):
    """Söder's januari 2030 is an empty draft: the preview offers to start it."""
    web.log_in_as("consolidator")
    html = _upload(web, world.areas["Söder"], seed_bytes(), period="december 2029") \
        .get_data(as_text=True)
    assert 'name="carry_forward_period_id"' in html and ">januari 2030<" in html
    values = input_values(html)
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": values["source_sha256"][0],
            "area_id": str(world.areas["Söder"]), "period": "december 2029",
            "filename": "seed.txt", "carry_forward_period_id": str(world.period_id)}
    blocks = [k for k in input_values(html) if k.startswith("block-")]
    form.update({f"block-{b}": "local:Trygghet i söder"
                 for b in [f"city-{i}" for i in range(1, 11)]
                 + [f"local-{i}" for i in range(1, 5)]})
    assert not blocks  # selects, not inputs
    response = web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert len(audit_events("document.import")) == 1
    assert len(audit_events("contribution.carry_forward")) == 1
    # The draft now has the imported lägesbild's local topics; its own one got the text.
    local = next(s for s in world.sections("Söder") if s.topic.title == "Trygghet i söder")
    assert local.text.startswith("Arbetet hanteras")


def test_the_preview_splits_and_discards_blocks_and_warns_in_swedish(web, world, jarva,
                                                                    audit_events):
    web.log_in_as("consolidator")
    seed = seed_bytes().decode("utf-8").replace("[Ange område här]", "Södermalm")
    html = unescape(_upload(web, jarva, seed.encode("utf-8")).get_data(as_text=True))
    assert "Dokumentets rubrik nämner området 'Södermalm', men det ska importeras till " \
        "Järva" in html
    assert "– ta bort den här texten –" in html and 'name="split"' in html
    values = input_values(html)
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": values["source_sha256"][0],
            "area_id": str(jarva), "period": "december 2022", "filename": "seed.txt"}
    form.update({f"block-{b}": t for b, t in seed_mapping().items()})
    # "Check the warnings again" with the corrected mapping: row 1 points at a topic that
    # now gets no text.
    response = web.client.post("/documents/import/revise", data=form)
    assert response.status_code == 200
    assert "säger \"se nedan\" om det lokala området 'Otrygga brottsutsatta platser', men " \
        "ingen text är placerad under det området." in unescape(response.get_data(as_text=True))
    # Split the text under "Kriminella konflikter" before its line 2, discard the new part.
    response = web.client.post("/documents/import/revise", data=form | {
        "split": "local-2", "split_at-local-2": "2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="block-local-2.2"' in html
    assert 'name="splits-local-2" value="2"' in html
    response = web.client.post("/documents/import/revise", data=form | {
        "split": "local-2", "split_at-local-2": "x"})
    assert response.status_code == 400
    assert "Välj raden där den andra delen börjar." in response.get_data(as_text=True)
    response = web.client.post("/documents/import/confirm", data=form | {
        "splits-local-2": "2", "block-local-2.2": "discard"})
    assert response.status_code == 302, response.get_data(as_text=True)
    contribution = db.session.scalar(select(Contribution).where(Contribution.area_id == jarva))
    texts = {s.topic.title: s.text for s in contribution.sections}
    assert texts["Nyrekrytering"].count("\n") == 6  # six lines of row 1, one of row 2
    events = audit_events("document.import")
    assert len(events) == 1  # the revisions stored nothing
    data = json.loads(events[0].data)
    assert data["mapping"]["local-2.2"] == "discard"


def test_two_local_topics_chosen_on_the_cross_reference_page_show_everywhere(web, world,
                                                                          audit_events):
    with operation(SETUP):
        topic = admin.create_topic(SETUP, "Nyrekrytering", area_name="Norr")
        db.session.add(Section(contribution_id=world.contribution().id, topic_id=topic.id))
    contribution = world.contribution()
    sections = contribution.ordered_sections
    city = sections[0]
    first, second = [s.topic for s in sections if s.topic.scope == "local"]
    web.log_in_as("drafter")
    path = f"/contributions/{contribution.id}/cross-references"
    html = web.client.get(path).get_data(as_text=True)
    assert f'id="xref2-{city.id}" name="second_topic_id"' in html
    form = {"csrf_token": web.csrf_token(path), "local_topic_id": str(first.id),
            "version": str(city.version)}
    response = web.client.post(f"/sections/{city.id}/cross-reference",
                               data=form | {"second_topic_id": str(first.id)})
    assert response.status_code == 400
    assert "Välj två olika lokala områden, eller bara ett." in response.get_data(as_text=True)
    assert audit_events("section.cross_reference") == []
    response = web.client.post(f"/sections/{city.id}/cross-reference",
                               data=form | {"second_topic_id": str(second.id)})
    assert response.status_code == 302
    html = unescape(web.client.get(path).get_data(as_text=True))
    assert (f"de lokalt prioriterade områdena {first.title.lower()} och "
            f"{second.title.lower()}, se nedan.") in html
    html = web.client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert (f"Hanteras inom de lokalt prioriterade områdena ”{first.title}” och "
            f"”{second.title}”.") in unescape(html)
