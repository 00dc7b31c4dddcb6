"""The approver's remarks typed with "Fastställ" are never lost: the approval is refused until
"Fastställ med kommentar" is chosen, which saves them with it."""
from __future__ import annotations

from app.contributions import operations as contributions
from app.core.transitions import CommentsNotConfirmed
from app.extensions import db
from app.models import Section
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
from tests.web_support import shown_after_redirect


def awaiting_approval(world, edit=None) -> int:
    both_consolidated(world)
    if edit is not None:
        edit()
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
    assert 'name="confirm_lock" value="1" form="consolidation-return"' in html
    assert ">Fastställ med kommentar</button>" in html

    response = consolidation_action(web, world, "approve", token_from=path(world),
                                    remarks="Ett förbehåll.", confirm_lock="1")

    html = shown_after_redirect(web, response)
    assert "Välj ”Fastställ med kommentar”" in html
    assert 'id="error-comments"' in html and ">Ett förbehåll.</textarea>" in html
    assert consolidation(world).state == "awaiting_approval"

    response = consolidation_action(web, world, "approve", token_from=path(world),
                                    remarks="Ett förbehåll.", with_comments="1",
                                    confirm_lock="1")

    assert response.status_code == 302
    assert consolidation(world).state == "approved"
    assert "Ett förbehåll." in page(web, world)


def test_approval_asks_to_confirm_what_it_locks(web, world):
    awaiting_approval(world)
    web.log_in_as("approver")
    html = page(web, world)
    assert "Fastställelsen låser bidragen från 2 områden för gott: Norr, Söder." in html
    assert f'href="/periods/{world.period_id}/print"' in html

    response = consolidation_action(web, world, "approve", token_from=path(world))

    html = shown_after_redirect(web, response)
    assert 'id="confirm-lock-error"' in html and 'aria-invalid="true"' in html
    assert "Kryssa i rutan" in html
    assert consolidation(world).state == "awaiting_approval"


def test_a_non_approver_is_refused_before_being_asked(web, world):
    awaiting_approval(world)
    web.log_in_as("consolidator")

    response = consolidation_action(web, world, "approve", token_from=path(world))

    assert response.status_code == 403


def test_the_approver_sees_what_the_coordinator_changed_after_the_review(web, world):
    section = world.sections("Norr")[0]

    def coordinator_edits():
        db.session.rollback()
        fresh = db.session.get(Section, section.id)
        run(world, "consolidator", contributions.edit_section, section.id,
            fresh.text + " Samordnarens tillägg.", fresh.version)

    awaiting_approval(world, coordinator_edits)
    web.log_in_as("approver")

    html = page(web, world)

    summary = html[html.index('id="changed-after-review"'):]
    summary = summary[:summary.index('aria-labelledby="areas-heading"')]
    assert 'data-area="Norr"' in summary and 'data-area="Söder"' not in summary
    assert "Norr: 1 avsnitt" in summary and section.topic.heading in summary
    assert "<ins>" in summary and "Samordnarens tillägg." in summary


def test_no_change_after_the_review_is_said_too(web, world):
    awaiting_approval(world)
    web.log_in_as("approver")

    assert "Samordnaren har inte ändrat någon text efter polisens granskning." in page(web, world)
