"""The documents pages in a real browser: the overview, print views (with the UTKAST mark and
page numbers in print), the import form and its mapping preview; no axe-core violations in sv
or en."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.support import log_in, switch_to_english
from tests.documents.support import pdf_pages

COORDINATOR = "samordnare"
SEED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "000_1dce9511288ad7b6.txt"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_documents_pages_are_accessible(page, live_server, assert_accessible, screenshot,
                                        language, tmp_path):
    log_in(page, live_server.user(COORDINATOR).email)
    if language == "en":
        switch_to_english(page)
    page.goto("/documents/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Dokument" if language == "sv" else "Documents")
    screenshot(page, f"documents-{language}")
    assert_accessible(page)

    # The approved december 2022 lägesbild of Järva (the seed's texts): no draft mark.
    page.get_by_role("link", name="Utskriftsvy: Järva" if language == "sv"
                     else "Print view: Järva").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Lägesbild")
    assert_accessible(page)
    screenshot(page, f"documents-print-{language}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Ladda ned PDF/A" if language == "sv"
                         else "Download PDF/A").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)

    page.goto("/documents/verify")
    page.locator("#verify-file").set_input_files(str(SEED))
    page.locator("#verify-file").locator("xpath=ancestor::form").locator("button").click()
    expect(page.get_by_role("alert")).to_be_visible()  # the seed is no export: a message
    assert_accessible(page)
    page.locator("#verify-file").set_input_files(str(exported))
    page.locator("#verify-file").locator("xpath=ancestor::form").locator("button").click()
    # The file is recognised as the export it is (the first Järva is the current draft).
    expect(page.locator(".doc-verify-report li").first).to_contain_text(
        "Exporterad av" if language == "sv" else "Exported by")
    assert_accessible(page)
    screenshot(page, f"documents-verify-{language}")

    page.goto("/documents/import")
    assert_accessible(page)
    page.locator("#import-file").set_input_files(str(SEED))
    page.locator("#import-area").select_option(label="Järva")
    page.locator("#import-period").fill("december 2019")
    page.locator("form.form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kontrollera fördelningen" if language == "sv" else "Check the mapping")
    expect(page.locator("select#block-local-2")).to_have_value("local:Kriminella konflikter")
    screenshot(page, f"documents-import-preview-{language}")
    assert_accessible(page)


def test_the_draft_mark_and_page_numbers_are_printed(page, live_server, tmp_path):
    log_in(page, live_server.user(COORDINATOR).email)
    page.goto("/documents/")
    period = live_server.current_period
    section = page.locator("section.doc-period", has_text=f"Lägesbild {period}")
    section.get_by_role("link", name="Utskriftsvy av den sammanställda lägesbilden").click()
    mark = page.locator(".doc-draft-mark")
    expect(mark).to_contain_text("UTKAST")
    page.emulate_media(media="print")
    # In the flow above the title, not a box over it; the margin repeats it on every page.
    assert mark.evaluate("el => getComputedStyle(el).position") == "static"
    title = page.get_by_role("heading", level=1)
    assert mark.bounding_box()["y"] + mark.bounding_box()["height"] <= title.bounding_box()["y"]
    assert page.locator(".site-header").evaluate("el => getComputedStyle(el).display") == "none"
    pdf = page.pdf()
    assert pdf[:4] == b"%PDF"
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is not installed (apt-get install poppler-utils)")
    (tmp_path / "printed.pdf").write_bytes(pdf)
    pages = pdf_pages(tmp_path / "printed.pdf", pdftotext)
    assert len(pages) > 1 and all("UTKAST – ej fastställd" in text for text in pages)
    for number, text in enumerate(pages, start=1):
        assert f"Sida {number} av {len(pages)}" in text


def test_a_mistaken_mapping_is_refused_in_the_preview(page, live_server):
    log_in(page, live_server.user(COORDINATOR).email)
    page.goto("/documents/import")
    page.locator("#import-file").set_input_files(str(SEED))
    page.locator("#import-area").select_option(label="Järva")
    page.locator("#import-period").fill("december 2019")
    page.locator("form.form button[type=submit]").click()
    page.locator("select#block-local-3").select_option(value="")
    page.get_by_role("button", name="Importera (fastställd utanför systemet)").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Varje text måste placeras under ett område eller tas bort. Inte placerade: "
        "Otillåten påverkan.")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_print_with_a_fingerprint_and_verify_it_from_paper(page, live_server, assert_accessible,
                                                           screenshot, language, tmp_path):
    """Print the period with a fingerprint: the page shows it, the printed pages carry it, it
    reflows at 320 px; typed into the verifier, it names the document it belongs to."""
    log_in(page, live_server.user(COORDINATOR).email)
    if language == "en":
        switch_to_english(page)
    page.goto("/documents/")
    period = live_server.current_period
    section = page.locator("section.doc-period", has_text=f"Lägesbild {period}")
    section.get_by_role("link", name="Utskriftsvy av den sammanställda lägesbilden" if
                        language == "sv" else "Print view of the consolidated lägesbild").click()
    expect(page.locator(".doc-topics h2")).to_have_text(
        "Sammanfattning per stadsövergripande område")
    page.get_by_role("button", name="Skriv ut med fingeravtryck" if language == "sv"
                     else "Print with a fingerprint").click()
    footer = page.locator(".doc-footer")
    expect(footer).to_contain_text("Fingeravtryck (SHA-256):")
    fingerprint = footer.inner_text().split("Fingeravtryck (SHA-256): ")[1][:64]
    assert_accessible(page)
    screenshot(page, f"documents-print-fingerprint-{language}")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(media="print")
    (tmp_path / "printed.pdf").write_bytes(page.pdf())
    page.emulate_media(media="screen")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.fail("pdftotext is not installed (apt-get install poppler-utils)")
    printed = " ".join(pdf_pages(tmp_path / "printed.pdf", pdftotext))
    assert fingerprint in "".join(printed.split())

    page.goto("/documents/verify")
    page.locator("#verify-fingerprint").fill(fingerprint.upper())
    page.get_by_role("button", name="Kontrollera fingeravtrycket" if language == "sv"
                     else "Verify the fingerprint").click()
    expect(page.locator(".doc-verify-report li").first).to_contain_text(
        "Exporterad av" if language == "sv" else "Exported by")
    assert_accessible(page)
    page.locator("#verify-fingerprint").fill("inte ett fingeravtryck")
    page.get_by_role("button", name="Kontrollera fingeravtrycket" if language == "sv"
                     else "Verify the fingerprint").click()
    expect(page.locator("#fingerprint-error")).to_be_visible()
    expect(page.locator("#verify-fingerprint")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)
