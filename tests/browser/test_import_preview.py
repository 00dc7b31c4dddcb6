"""The import preview in a real browser: a row split and a part discarded before the import,
the page reflowing at 320 px, no axe violations; and the demo's cross-reference page showing
the seed's references as links (issue 15 item 7)."""
from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.browser.support import log_in

COORDINATOR = "samordnare"
SEED = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "000_1dce9511288ad7b6.txt"


def _fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_row_is_split_and_a_part_discarded_in_the_preview(page, live_server,
                                                            assert_accessible):
    log_in(page, live_server.user(COORDINATOR).email)
    page.goto("/documents/import")
    page.locator("#import-file").set_input_files(str(SEED))
    page.locator("#import-area").select_option(label="Järva")
    page.locator("#import-period").fill("december 2018")
    page.locator("form.form button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kontrollera fördelningen")

    # The seed's slid rows, corrected: the second row's first line continues "Nyrekrytering";
    # the rest of that row is split off and discarded.
    page.locator("select#block-local-2").select_option(value="local:Nyrekrytering")
    page.get_by_label("Dela texten under Kriminella konflikter före rad").select_option("2")
    page.locator('button[name="split"][value="local-2"]').click()
    second_part = page.locator("select#block-local-2\\.2")
    expect(second_part).to_be_visible()
    expect(page.locator("select#block-local-2")).to_have_value("local:Nyrekrytering")
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert _fits(page, 320), "the preview scrolls sideways at 320 px"
    page.set_viewport_size({"width": 1280, "height": 900})

    second_part.select_option(value="discard")
    page.get_by_role("button", name="Importera (fastställd utanför systemet)").click()
    expect(page.locator(".flash")).to_contain_text(
        "Dokumentet importerades som lägesbilden för Järva för december 2018")
    # The kept first line is under "Nyrekrytering"; the discarded part is nowhere.
    expect(page.locator("body")).to_contain_text("I dagsläget inkluderar naven enbart")
    expect(page.locator("body")).not_to_contain_text("Naven ska arbeta både på individ-")


def test_the_demos_cross_references_are_shown_as_links(page, live_server, assert_accessible):
    log_in(page, live_server.user(COORDINATOR).email)
    page.goto("/documents/")
    section = page.locator("section.doc-period", has_text="Lägesbild december 2022")
    section.get_by_role("link", name="Hänvisningar: Järva").click()
    table = page.locator("table.doc-xref")
    expect(table).to_contain_text("Arbetet hanteras inom ramen för de lokalt prioriterade "
                                  "områdena nyrekrytering och kriminella konflikter, se nedan.")
    expect(table).to_contain_text("området otrygga brottsutsatta platser, se nedan.")
    assert_accessible(page)
