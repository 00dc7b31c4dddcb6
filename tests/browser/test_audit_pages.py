"""The auditor in a real browser, on the demo data: finds who returned the seed area's
contribution and why, compares the approved text with the first draft, exports the period's
events and verifies the export with the standard-library tool; axe-core finds no violations
on any auditor page, in Swedish and English."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from app.demo.loader import DEMO_PASSWORD

AUDITOR = "revisor"
TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


def log_in_as_auditor(page, live_server) -> None:
    page.goto("/login")
    page.get_by_label("E-postadress").fill(live_server.user(AUDITOR).email)
    page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mina uppgifter")


def choose_contribution(page, search: str, name: str, show: str = "Visa händelser") -> None:
    """The filter's search, then choose among the suggestions (no list of every one)."""
    page.get_by_role("searchbox", name=re.compile("^(Bidrag|Contribution)$")).fill(search)
    page.get_by_role("button", name=show).click()
    page.locator(".audit-suggestions").get_by_role("link", name=name).click()


def open_seed_history(page) -> None:
    """From the log, filtered to the seed area's past contribution, to its history."""
    page.get_by_role("navigation", name="Huvudmeny").get_by_role(
        "link", name="Händelselogg").click()
    choose_contribution(page, "december 2022 Järva", "december 2022 — Järva")
    page.get_by_role("link", name="Historik för bidrag").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Historik")


def test_auditor_finds_who_returned_the_contribution_and_why(page, live_server,
                                                             assert_accessible, screenshot):
    log_in_as_auditor(page, live_server)
    page.get_by_role("link", name="Händelselogg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Händelselogg")
    assert_accessible(page)
    page.get_by_label("Område").select_option(label="Järva")
    page.get_by_label("Åtgärd").select_option(label="Bidraget återsänt för ändringar")
    page.get_by_role("button", name="Visa händelser").click()
    rows = page.locator("table.audit-events tbody tr")
    expect(rows).to_have_count(1)
    police = live_server.user("polis.jarva")
    expect(rows.first).to_contain_text(police.name)
    expect(rows.first).to_contain_text("Kommentaren saknas")
    expect(rows.first).to_contain_text("Bidraget återsänt för ändringar")
    expect(rows.first).to_contain_text("Bidrag: december 2022 — Järva")
    expect(rows.first.locator("code")).to_have_count(0)
    screenshot(page, "audit-log-return")
    assert_accessible(page)


def test_auditor_compares_the_approved_text_with_the_first_draft(page, live_server,
                                                                 assert_accessible,
                                                                 screenshot):
    log_in_as_auditor(page, live_server)
    open_seed_history(page)
    assert_accessible(page)
    page.get_by_role("navigation", name="Revisionsvyer för bidraget").get_by_role(
        "link", name="Ursprung").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ursprung")
    expect(page.locator("main")).to_contain_text(
        "Nuvarande status: Fastställd. Texterna nedan är de fastställda versionerna.")
    assert_accessible(page)
    screenshot(page, "audit-provenance")
    places = page.get_by_role("region", name="Otrygga brottsutsatta platser")
    places.get_by_role("link", name="Jämför det första utkastet med den här versionen").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jämför versioner")
    expect(page.locator(".audit-diff ins").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "audit-compare")


def test_as_of_and_verify_pages(page, live_server, assert_accessible, screenshot):
    log_in_as_auditor(page, live_server)
    open_seed_history(page)
    page.get_by_label("Visa bidraget som det såg ut vid (svensk tid)").fill(
        "2022-11-20T12:00:00")
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Vid en viss tidpunkt")
    expect(page.locator("main")).to_contain_text("Polisgranskning")
    assert_accessible(page)
    page.goto("/audit/verify")
    expect(page.get_by_role("status")).to_contain_text(
        "Kedjan har ännu inte kontrollerats från gränssnittet.")
    assert_accessible(page)
    page.get_by_role("button", name="Kontrollera hela kedjan nu").click()
    expect(page.get_by_role("status")).to_contain_text("Verifierad: kedjan är obruten.")
    expect(page.locator("main")).to_contain_text("Kontrollerad av")
    assert_accessible(page)
    screenshot(page, "audit-verify")


def test_auditor_exports_the_period_and_verifies_it(page, live_server, tmp_path):
    log_in_as_auditor(page, live_server)
    page.get_by_role("link", name="Händelselogg").click()
    page.get_by_label("Period").select_option(label="december 2022")
    page.get_by_role("button", name="Visa händelser").click()
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="CSV för Excel").click()
    csv_path = tmp_path / "period.csv"
    csv_download.value.save_as(csv_path)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbfseq;occurred_at;")
    with page.expect_download() as period_download:
        page.get_by_role("link", name="JSON Lines, kontrollerbar").first.click()
    period_path = tmp_path / "period.jsonl"
    period_download.value.save_as(period_path)
    partial = subprocess.run([sys.executable, "-I", "-S", str(TOOL), "--partial",
                              str(period_path)], capture_output=True, text=True)
    assert partial.returncode == 0, partial.stderr
    page.goto("/audit/verify")
    with page.expect_download() as full_download:
        page.get_by_role("link", name="JSON Lines, kontrollerbar").click()
    full_path = tmp_path / "full.jsonl"
    full_download.value.save_as(full_path)
    result = subprocess.run([sys.executable, "-I", "-S", str(TOOL), str(full_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: ")


def test_every_auditor_page_in_english_has_no_violations(page, live_server, assert_accessible):
    log_in_as_auditor(page, live_server)
    page.get_by_role("button", name="English").click()
    page.get_by_role("link", name="Event log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Event log")
    assert_accessible(page)
    page.get_by_role("searchbox", name="Contribution").fill("december 2022 Järva")
    page.get_by_role("button", name="Show events").click()
    assert_accessible(page)  # with the suggestions
    page.locator(".audit-suggestions").get_by_role("link",
                                                   name="december 2022 — Järva").click()
    assert_accessible(page)
    page.get_by_role("link", name="History of contribution").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("History")
    assert_accessible(page)
    page.get_by_role("button", name="Compare").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Compare revisions")
    assert_accessible(page)
    page.go_back()
    page.get_by_role("link", name="Provenance").click()
    assert_accessible(page)
    page.get_by_role("link", name="As of a moment").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("As of a moment")
    assert_accessible(page)
    page.goto("/audit/verify")
    page.get_by_role("button", name="Verify the whole chain now").click()
    expect(page.get_by_role("status")).to_contain_text("Verified: the chain is intact.")
    assert_accessible(page)


def test_the_codes_toggle_in_swedish_and_english(page, live_server, assert_accessible,
                                                 screenshot):
    """Labels by default; "Visa koderna", a plain link, adds the raw codes the export has,
    and the filter and the paging keep them."""
    log_in_as_auditor(page, live_server)
    open_seed_history(page)
    main = page.locator("main")
    expect(main).to_contain_text("Bidraget skickat till polisen")
    expect(main.locator("code.audit-code")).to_have_count(0)
    page.get_by_role("link", name="Visa koderna").click()
    expect(main.locator("code.audit-code", has_text="contribution.submit").first).to_be_visible()
    assert_accessible(page)
    screenshot(page, "audit-history-codes")
    page.get_by_role("navigation", name="Revisionsvyer för bidraget").get_by_role(
        "link", name="Händelser i loggen").click()
    page.get_by_role("link", name="Visa koderna").click()
    page.get_by_label("Åtgärd").select_option(value="contribution.return")
    page.get_by_role("button", name="Visa händelser").click()
    expect(page.locator("table.audit-events tbody tr").first.locator(
        "code", has_text="contribution.return")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="Dölj koderna").click()
    expect(main.locator("code.audit-code")).to_have_count(0)

    page.get_by_role("button", name="English").click()
    expect(page.locator("table.audit-events tbody tr").first).to_contain_text(
        "Contribution returned for changes")
    assert_accessible(page)
    page.get_by_role("link", name="Show the codes").click()
    expect(page.locator("table.audit-events tbody tr").first.locator(
        "code", has_text="contribution.return")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "audit-log-codes-en")
