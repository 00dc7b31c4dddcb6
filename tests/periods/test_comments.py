"""The approver's remarks typed with "Fastställ" are never lost: the approval is refused until
"Fastställ med kommentar" is chosen, which saves them with it."""
from __future__ import annotations

from app.core.transitions import CommentsNotConfirmed
from tests import flow
from tests.factories import run
from tests.periods.test_consolidation_pages import (
    both_consolidated,
    consolidation,
    consolidation_action,
    page,
    path,
)
from tests.support import refused


def awaiting_approval(world) -> int:
    both_consolidated(world)
    consolidation_id = consolidation(world).id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    return consolidation_id


def test_approval_with_remarks_is_refused_until_confirmed(world):
    consolidation_id = awaiting_approval(world)

    _, events = refused(world, "approver", CommentsNotConfirmed, flow.approve_consolidation,
                        consolidation_id, remarks=["Bra jobbat."])

    assert events == []
    assert consolidation(world).state == "awaiting_approval"


def test_confirmed_approval_keeps_the_comment(world):
    consolidation_id = awaiting_approval(world)

    run(world, "approver", flow.approve_consolidation, consolidation_id,
        remarks=["Bra jobbat."], comments_confirmed=True)

    approved = consolidation(world)
    assert approved.state == "approved"
    assert [(r.text, r.trigger) for r in approved.remarks] == [("Bra jobbat.", "approve")]


def test_the_page_sends_the_remarks_with_the_approval_and_asks(web, world):
    awaiting_approval(world)
    web.log_in_as("approver")
    html = page(web, world)
    approve_url = path(world, "/transition/approve")
    assert f'form="consolidation-return" formaction="{approve_url}">Fastställ</button>' in html
    assert ">Fastställ med kommentar</button>" in html

    response = consolidation_action(web, world, "approve", token_from=path(world),
                                    remarks="Ett förbehåll.")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Välj ”Fastställ med kommentar”" in html
    assert 'id="error-return"' in html and ">Ett förbehåll.</textarea>" in html
    assert consolidation(world).state == "awaiting_approval"

    response = consolidation_action(web, world, "approve", token_from=path(world),
                                    remarks="Ett förbehåll.", with_comments="1")

    assert response.status_code == 302
    assert consolidation(world).state == "approved"
    assert "Ett förbehåll." in page(web, world)
