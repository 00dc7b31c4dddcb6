"""The start page ("Mina uppgifter"): what each role may act on now, with the workflow's labels."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from tests.factories import advance, fill_sections

NOTHING_TO_DO = "Du har inget att göra just nu."
NORR = "Lägesbild januari 2030 — Norr"
SODER = "Lägesbild januari 2030 — Söder"


@dataclass
class Row:
    kind: str
    title: str = ""
    state: str = ""
    actions: dict[str, str] = field(default_factory=dict)  # data-action -> label


class _TaskTable(HTMLParser):
    """Reads the rows of the tasks table: title, state label and the offered actions."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self._capture: str | None = None
        self._action: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "tr" and "data-kind" in attributes:
            self.rows.append(Row(attributes["data-kind"]))
        elif not self.rows:
            return
        elif tag == "th" and attributes.get("scope") == "row":
            self._capture = "title"
        elif tag == "span" and "state" in (attributes.get("class") or "").split():
            self._capture = "state"
        elif tag == "li" and attributes.get("data-action"):
            self._capture, self._action = "action", attributes["data-action"]

    def handle_endtag(self, tag):
        if tag in ("th", "span", "li"):
            self._capture = None

    def handle_data(self, data):
        if self._capture is None:
            return
        row = self.rows[-1]
        if self._capture == "action":
            row.actions[self._action] = row.actions.get(self._action, "") + data.strip()
        else:
            setattr(row, self._capture, getattr(row, self._capture) + data.strip())


def tasks(web) -> list[Row]:
    response = web.client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    parser = _TaskTable()
    parser.feed(html)
    assert (NOTHING_TO_DO in html) == (not parser.rows)
    return parser.rows


def rows_titled(rows: list[Row], title: str) -> list[Row]:
    return [row for row in rows if row.title == title]


def test_page_is_swedish_and_shows_who_is_signed_in(web, world):
    web.log_in_as("drafter")

    html = web.client.get("/").get_data(as_text=True)

    assert '<html lang="sv">' in html
    assert "<h1>Mina uppgifter</h1>" in html
    assert '<span class="user-name">Drafter</span>' in html
    assert '<span class="user-org">Norra stadsdelsförvaltningen</span>' in html
    assert "(Skribent – Norr)" in html
    assert ">Logga ut</button>" in html


def test_drafter_sees_their_draft_to_edit(web, world):
    web.log_in_as("drafter")

    rows = tasks(web)

    assert [row.title for row in rows] == [NORR]
    [norr] = rows
    assert norr.kind == "contribution"
    assert norr.state == "Utkast"
    # Not every section has text yet, so it cannot be sent to the police.
    assert norr.actions == {"edit": "Redigera texterna"}


def test_drafter_may_submit_once_every_section_is_filled(web, world):
    fill_sections(world, "Norr")
    web.log_in_as("drafter")

    [norr] = rows_titled(tasks(web), NORR)

    assert norr.actions == {"edit": "Redigera texterna", "submit": "Skicka till polisen"}


def test_submitter_may_withdraw_while_the_police_have_it(web, world, other_web):
    advance(world, "Norr", "police_review")
    web.log_in_as("drafter")
    other_web.log_in_as("drafter2")

    [norr] = rows_titled(tasks(web), NORR)
    assert norr.state == "Polisgranskning"
    assert norr.actions == {"withdraw": "Dra tillbaka"}
    # The other drafter of the office did not submit it: nothing to do for them.
    assert tasks(other_web) == []


def test_reviewer_sees_nothing_until_it_is_submitted(web, world):
    fill_sections(world, "Norr")
    web.log_in_as("reviewer")

    assert tasks(web) == []


def test_reviewer_sees_it_once_in_police_review_with_approve_and_return(web, world):
    advance(world, "Norr", "police_review")
    web.log_in_as("reviewer")

    rows = tasks(web)

    assert len(rows) == 1
    [norr] = rows
    assert norr.title == NORR
    assert norr.state == "Polisgranskning"
    assert norr.actions == {"approve": "Godkänn", "return": "Skicka tillbaka"}


def test_returned_contribution_goes_back_to_the_drafter(web, world, other_web):
    advance(world, "Norr", "returned")
    web.log_in_as("drafter")
    other_web.log_in_as("reviewer")

    [norr] = tasks(web)
    assert norr.state == "Återsänd"
    assert norr.actions == {"edit": "Redigera texterna", "resubmit": "Skicka till polisen igen"}
    assert tasks(other_web) == []


def test_other_area_sees_only_its_own(web, world, other_web):
    advance(world, "Norr", "police_review")
    web.log_in_as("drafter_south")
    other_web.log_in_as("reviewer_south")

    south_drafter_rows = tasks(web)
    assert [row.title for row in south_drafter_rows] == [SODER]
    assert rows_titled(south_drafter_rows, NORR) == []
    assert tasks(other_web) == []  # Söder's own is still a draft; Norr's is not theirs


def test_consolidator_sees_reviewed_contributions(web, world):
    advance(world, "Norr", "reviewed")
    advance(world, "Söder", "police_review")
    web.log_in_as("consolidator")

    rows = tasks(web)

    assert [row.title for row in rows] == [NORR]
    [norr] = rows
    assert norr.state == "Granskad"
    assert norr.actions == {"edit": "Redigera texterna", "consolidate": "Sammanställ",
                            "reopen": "Öppna igen"}


def test_consolidator_may_submit_the_period_once_all_are_consolidated(web, world):
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "consolidated")
    web.log_in_as("consolidator")

    rows = tasks(web)

    [consolidation] = [row for row in rows if row.kind == "consolidation"]
    assert consolidation.title == "Sammanställd lägesbild januari 2030"
    assert consolidation.state == "Öppen"
    assert consolidation.actions == {"submit_for_approval": "Skicka för fastställelse"}
    assert {row.title for row in rows if row.kind == "contribution"} == {NORR, SODER}
    assert all(row.state == "Sammanställd" for row in rows if row.kind == "contribution")


@pytest.mark.parametrize("key", ["auditor", "approver", "admin"])
def test_roles_without_work_see_nothing_to_do(web, world, key):
    advance(world, "Norr", "reviewed")
    advance(world, "Söder", "police_review")
    web.log_in_as(key)

    response = web.client.get("/")

    html = response.get_data(as_text=True)
    assert NOTHING_TO_DO in html
    assert "<table" not in html
    assert tasks(web) == []
