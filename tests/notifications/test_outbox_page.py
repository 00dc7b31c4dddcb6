"""The outbox for administrators (/admin/outbox): counts by state and a paged list of who
was sent what kind of message, with attempts and errors; never a subject or a body; 403 and
a security event for everyone else."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.clock import frozen_at, now
from app.core.unit_of_work import operation
from app.notifications import sender
from app.notifications.presenters import outbox_page
from tests import flow
from tests.contributions.support import denials, page, text_of
from tests.factories import SETUP, advance, fill_sections, run
from tests.notifications.support import choose

PATH = "/admin/outbox"


def counts(html: str) -> dict[str, int]:
    return {state: int(number) for state, number in re.findall(
        r'class="notifications-count" data-state="(\w+)">(\d+)<', html)}


@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver",
                                 "auditor"])
def test_only_an_administrator_sees_the_outbox(web, world, key):
    web.log_in_as(key)
    assert web.client.get(PATH).status_code == 403
    assert [d["attempted"] for d in denials()] == ["notifications.view_outbox"]
    assert 'href="/admin/outbox"' not in page(web, "/")


def test_anonymous_is_sent_to_sign_in(web, world):
    response = web.client.get(PATH)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_admin_sees_counts_and_each_message_without_what_it_says(web, world, smtp_port):
    choose(world, "consolidator", "digest")
    fill_sections(world, "Norr")
    contribution_id = world.contribution("Norr").id
    run(world, "drafter", flow.submit, contribution_id)
    run(world, "reviewer", flow.return_with_remarks, contribution_id,
        [contributions.RemarkInput("Hemlig synpunkt om Norr.")])
    advance(world, "Söder", "reviewed")  # one to Söder's reviewer; two to the coordinators
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user("drafter2"), False)
    sender.deliver_due()  # the server is away: the first one fails an attempt
    web.log_in_as("admin")
    start = page(web, "/")
    assert '<a href="/admin/outbox">Utkorg</a>' in start
    html = page(web, PATH)
    assert counts(html) == {"queued": 6, "held": 1, "in_digest": 0, "sent": 0, "failed": 0}
    text = text_of(html)
    assert "Hemlig synpunkt" not in text  # no body
    assert "har skickats tillbaka" not in text and "väntar på din granskning" not in text
    assert "ConnectionRefusedError" in text  # the first message's last error
    assert "reviewer@example.se" in text and "contribution.submit" in text
    assert "Väntar på sammanfattningen" in text and "inaktiverad" in text
    rows = re.findall(r"<tr>\s*<th scope=\"row\"", html)
    assert len(rows) == 7
    assert '<th scope="col">Senaste fel</th>' in html


def test_a_state_filter_and_paging_newest_first(web, world, mailbox):
    for area in ("Norr", "Söder"):
        advance(world, area, "reviewed")  # seven messages
    assert sender.deliver_due().sent == 7
    web.log_in_as("admin")
    html = page(web, f"{PATH}?state=sent")
    assert counts(html)["sent"] == 7
    assert "Meddelanden i läget ”Skickade”, nyaste först" in text_of(html)
    first = outbox_page("sent", size=3)
    assert [row.state for row in first.rows] == ["sent"] * 3
    second = outbox_page("sent", first.older_before_id, size=3)
    third = outbox_page("sent", second.older_before_id, size=3)
    ids = [row.id for p in (first, second, third) for row in p.rows]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    assert third.older_before_id is None
    older = page(web, f"{PATH}?before={ids[1]}")
    assert counts(older)["sent"] == 7 and f'data-label="Nr">{ids[2]}<' in older
    assert f'data-label="Nr">{ids[0]}<' not in older and f'data-label="Nr">{ids[1]}<' not in older


def test_a_message_given_up_shows_as_not_sent(web, world, smtp_port):
    advance(world, "Norr", "police_review")
    moment = now()
    for attempt in range(sender.MAX_ATTEMPTS):
        with frozen_at(moment + timedelta(hours=attempt)):
            sender.deliver_due()
    web.log_in_as("admin")
    html = page(web, f"{PATH}?state=failed")
    assert counts(html)["failed"] == 1
    assert "Inte skickade (uppgivna)" in text_of(html)
    assert f'data-label="Försök">{sender.MAX_ATTEMPTS}<' in html


@pytest.mark.parametrize("query", ["state=lost", "before=abc", "before=99999999999999"])
def test_bad_filters_are_refused_with_a_message(web, world, query):
    web.log_in_as("admin")
    response = web.client.get(f"{PATH}?{query}")
    assert response.status_code == 400
    assert "error-message" in response.get_data(as_text=True)


def test_the_outbox_in_english(web, world):
    web.log_in_as("admin")
    web.client.post("/language", data={"csrf_token": web.csrf_token("/"), "lang": "en"})
    html = page(web, PATH)
    assert "<h1>Outbox</h1>" in html and "No messages." in html
