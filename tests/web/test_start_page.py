"""The start page ("Mina uppgifter"): what each role may act on now, with the workflow's labels."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from tests import flow
from tests.factories import advance, fill_sections, run

NOTHING_TO_DO = "Du har inget att göra just nu."
NORR = "Lägesbild januari 2030 — Norr"
SODER = "Lägesbild januari 2030 — Söder"


@dataclass
class Row:
    kind: str
    group: str = ""
    deadline: str = ""  # ISO date
    overdue: bool = False
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
        self._waiting = False  # the "waiting for others" list is not the user's tasks

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and attributes.get("data-group") == "waiting":
            self._waiting = True
        if self._waiting:
            return
        if tag == "tr" and "data-kind" in attributes:
            self.rows.append(Row(attributes["data-kind"], attributes.get("data-group", ""),
                                 overdue=attributes.get("data-overdue") == "true"))
        elif not self.rows:
            return
        elif tag == "th" and attributes.get("scope") == "row":
            self._capture = "title"
        elif tag == "span" and "state" in (attributes.get("class") or "").split():
            self._capture = "state"
        elif tag == "time":
            self.rows[-1].deadline = attributes.get("datetime", "")
        elif tag == "li" and attributes.get("data-action"):
            self._capture, self._action = "action", attributes["data-action"]

    def handle_endtag(self, tag):
        if tag in ("th", "span", "li"):
            self._capture = None

    def handle_data(self, data):
        if self._capture is None or self._waiting:
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
    assert consolidation.title == "Sammanställningen för januari 2030"
    assert consolidation.state == "Öppen"
    assert consolidation.actions == {"submit_for_approval": "Skicka för fastställelse"}
    assert {row.title for row in rows if row.kind == "contribution"} == {NORR, SODER}
    assert all(row.state == "Sammanställd" for row in rows if row.kind == "contribution")


@pytest.mark.parametrize("key", ["auditor", "approver"])
def test_roles_without_work_see_nothing_to_do(web, world, key):
    advance(world, "Norr", "reviewed")
    advance(world, "Söder", "police_review")
    web.log_in_as(key)

    response = web.client.get("/")

    html = response.get_data(as_text=True)
    assert NOTHING_TO_DO in html
    # No task table; the approver sees the consolidation waiting with the coordinators.
    assert html.count("<table") == (1 if key == "approver" else 0)
    assert ('data-group="waiting"' in html) == (key == "approver")
    assert tasks(web) == []


def test_an_administrator_sees_the_admin_pages_instead(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("admin")
    html = web.client.get("/").get_data(as_text=True)
    assert NOTHING_TO_DO not in html and 'data-group="admin"' in html
    assert 'href="/admin/users"' in html and "<table" not in html


# -- grouped by what to do, with the step's deadline ------------------------------------------

def groups_in_order(html: str) -> list[str]:
    import re
    return re.findall(r'<section class="task-group" data-group="([a-z]+)"', html)


def test_each_task_is_grouped_with_the_deadline_of_its_step(web, world, other_web):
    advance(world, "Norr", "returned")
    fill_sections(world, "Söder", "drafter_south")
    web.log_in_as("drafter")
    other_web.log_in_as("drafter_south")

    [norr] = tasks(web)
    [south] = tasks(other_web)

    assert (norr.group, norr.deadline, norr.overdue) == ("returned", "2030-01-10", False)
    assert (south.group, south.deadline) == ("draft", "2030-01-10")
    html = web.client.get("/").get_data(as_text=True)
    assert '<h2 id="group-returned">Återsänt till dig <span class="task-count">(1)</span></h2>' \
        in html
    assert "Försenad" not in html


def test_reviewer_consolidator_and_approver_deadlines(web, world, other_web):
    from tests.factories import run

    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "police_review")
    web.log_in_as("reviewer_south")
    other_web.log_in_as("consolidator")

    [review] = tasks(web)
    assert (review.group, review.deadline) == ("review", "2030-01-17")
    consolidator_rows = tasks(other_web)
    assert {(row.title, row.group, row.deadline) for row in consolidator_rows} == {
        (NORR, "consolidate", "2030-01-24")}

    south = world.contribution("Söder").id
    run(world, "reviewer_south", flow.approve, south)
    run(world, "consolidator", flow.consolidate, south)
    run(world, "consolidator", flow.submit_for_approval,
        world.period().consolidation.id)
    web.log_out()
    web.log_in_as("approver")
    [approve] = tasks(web)
    assert (approve.kind, approve.group, approve.deadline) == ("consolidation", "approve",
                                                                "2030-01-31")


def test_groups_come_in_the_order_of_the_work(web, world):
    from app.extensions import db
    from app.models import Membership

    advance(world, "Norr", "returned")
    advance(world, "Söder", "reviewed")
    # One person who drafts for Norr and coordinates the city (to see several groups at once).
    db.session.add(Membership(user_id=world.users["drafter"], role="consolidator"))
    db.session.commit()
    web.log_in_as("drafter")

    html = web.client.get("/").get_data(as_text=True)

    assert groups_in_order(html) == ["returned", "consolidate"]


def test_overdue_is_marked_in_text_once_the_deadline_has_passed(web, world):
    from datetime import date

    from app.admin import operations as admin
    from app.core.unit_of_work import operation
    from tests.factories import SETUP

    with operation(SETUP):
        admin.create_period(SETUP, "januari 2020", drafting_deadline=date(2020, 1, 10),
                            review_deadline=date(2020, 1, 17),
                            consolidation_deadline=date(2020, 1, 24),
                            approval_deadline=date(2020, 1, 31))
    web.log_in_as("drafter")

    rows = tasks(web)
    html = web.client.get("/").get_data(as_text=True)

    assert {(row.title, row.overdue) for row in rows} == {
        ("Lägesbild januari 2020 — Norr", True), (NORR, False)}
    assert '<strong class="task-overdue"><span aria-hidden="true">⚠</span> Försenad</strong>' \
        in html
    assert html.count("Försenad") == 1


def test_grouping_uses_the_day_in_stockholm():
    from datetime import UTC, datetime

    from app.core.clock import frozen_at
    from app.web.tasks import today

    # 23:30 UTC on 31 December is already New Year's Day in Stockholm.
    with frozen_at(datetime(2029, 12, 31, 23, 30, tzinfo=UTC)):
        assert today().isoformat() == "2030-01-01"


def test_titles_link_to_the_pages_where_the_work_is_done(web, world):
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "consolidated")
    web.log_in_as("consolidator")

    html = web.client.get("/").get_data(as_text=True)

    assert f'<a href="/contributions/{world.contribution("Norr").id}">{NORR}</a>' in html
    assert f'<a href="/periods/{world.period_id}/consolidation">' in html


def test_start_page_in_english(web, world):
    advance(world, "Norr", "returned")
    web.log_in_as("drafter")
    web.client.post("/language", data={"lang": "en", "next": "/",
                                       "csrf_token": web.csrf_token("/")})

    html = web.client.get("/").get_data(as_text=True)

    assert "Returned to you" in html and "Deadline" in html and "Resubmit to police" in html


def _waiting_rows(html: str) -> dict[str, str]:
    """Each "waiting for others" row: the title and who holds it."""
    section = html.split('data-group="waiting" aria-labelledby', 1)
    if len(section) == 1:
        return {}
    rows = re.findall(r'<a href="[^"]+">([^<]+)</a>.*?<td class="task-holders">([^<]*)</td>',
                      section[1], re.S)
    return dict(rows)


def test_the_drafter_sees_her_contribution_waiting_with_the_police_and_whom(web, world):
    advance(world, "Norr", "police_review")
    web.log_in_as("drafter2")  # not the submitter: nothing to do, but it is hers too
    html = web.client.get("/").get_data(as_text=True)
    assert "Väntar på andra" in html
    rows = _waiting_rows(html)
    (holders,) = [h for title, h in rows.items() if "Norr" in title]
    names = sorted([world.user("reviewer").name, world.user("reviewer2").name])
    assert holders == ", ".join(names)


def test_the_coordinator_sees_the_consolidation_waiting_with_the_approvers(web, world):
    for area in ("Norr", "Söder"):
        advance(world, area, "consolidated")
    run(world, "consolidator", flow.submit_for_approval, world.period().consolidation.id)
    web.log_in_as("consolidator")
    rows = _waiting_rows(web.client.get("/").get_data(as_text=True))
    (holders,) = [h for title, h in rows.items() if "januari 2030" in title]
    assert holders == ", ".join(sorted([world.user("approver").name,
                                        world.user("approver2").name]))


def test_nothing_waits_on_others_for_someone_without_work_in_the_flow(web, world):
    web.log_in_as("auditor")
    assert "Väntar på andra" not in web.client.get("/").get_data(as_text=True)
