"""Remarks typed with an approval are never lost: the approval is refused until the reviewer
chooses "Godkänn med kommentar", which saves them with it (issue 15: a remark typed beside a
section vanished when "Godkänn" was clicked)."""
from __future__ import annotations

from app.contributions import operations as contributions
from app.contributions.operations import RemarkInput
from app.core.transitions import CommentsNotConfirmed
from app.extensions import db
from app.models import Section
from tests import flow
from tests.contributions.support import act, events_of, fresh_contribution, page, textarea
from tests.factories import advance, data_of, run
from tests.support import refused
from tests.web_support import shown_after_redirect


def test_an_approval_with_remarks_is_refused_until_confirmed(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[2]

    error, events = refused(world, "reviewer", CommentsNotConfirmed, flow.approve,
                            contribution.id, remarks=[RemarkInput("Bra!", section.id)])

    assert events == []
    assert "with comments" in error.message
    assert fresh_contribution(contribution.id).state == "police_review"


def test_a_confirmed_approval_saves_the_remarks_as_comments(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[2]

    run(world, "reviewer", flow.approve, contribution.id, comments_confirmed=True,
        remarks=[RemarkInput("Bra beskrivning.", section.id), RemarkInput("  ")])

    contribution = fresh_contribution(contribution.id)
    assert contribution.state == "reviewed"
    [remark] = contribution.remarks
    assert (remark.text, remark.section_id, remark.trigger) == \
        ("Bra beskrivning.", section.id, "approve")
    event = events_of(contribution.id)[-1]
    assert event.action == "contribution.approve"
    assert data_of(event)["remarks"] == [{"remark_id": remark.id, "section_id": section.id,
                                          "text": "Bra beskrivning."}]


def test_an_approval_without_remarks_needs_no_confirmation(world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")

    run(world, "reviewer", flow.approve, contribution.id, remarks=[RemarkInput(" \n ")])

    assert fresh_contribution(contribution.id).state == "reviewed"
    assert fresh_contribution(contribution.id).remarks == []


def test_the_approve_button_sends_the_remark_boxes(web, world):
    """On the reviewer's page every action's button submits the review form, so the boxes'
    text travels with "Godkänn" too, and the review form offers "Godkänn med kommentar"."""
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    web.log_in_as("reviewer")

    html = page(web, f"/contributions/{contribution.id}")

    approve_url = f"/contributions/{contribution.id}/transition/approve"
    assert f'form="review-form" formaction="{approve_url}">Godkänn</button>' in html
    assert f'name="with_comments" value="1" formaction="{approve_url}"' in html
    assert ">Godkänn med kommentar</button>" in html


def test_approve_with_a_typed_remark_asks_and_keeps_what_was_typed(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[-1]
    web.log_in_as("reviewer")
    field = f"remark_section_{section.id}"

    response = act(web, contribution.id, "approve", **{field: "Utveckla gärna."})

    html = shown_after_redirect(web, response)
    assert "Du har skrivit anmärkningar. Välj ”Godkänn med kommentar”" in html
    assert 'id="review-error"' in html
    assert textarea(html, field) == "Utveckla gärna."
    assert fresh_contribution(contribution.id).state == "police_review"
    assert events_of(contribution.id)[-1].action == "contribution.submit"


def test_approve_with_comments_saves_them_and_shows_them_to_the_drafter(web, world, other_web):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[-1]
    web.log_in_as("reviewer")

    response = act(web, contribution.id, "approve", with_comments="1",
                   remark_general="Tack, tydligt.",
                   **{f"remark_section_{section.id}": "Utveckla gärna."})

    assert response.status_code == 302
    assert fresh_contribution(contribution.id).state == "reviewed"
    other_web.log_in_as("drafter")
    html = page(other_web, f"/contributions/{contribution.id}")
    own = html[html.index(f'id="section-{section.id}"'):]
    assert "Utveckla gärna." in own[:own.index("</section>")]
    assert "Tack, tydligt." in html


def test_the_reviewer_gets_a_summary_of_the_changed_sections(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    changed = world.sections("Norr")[-1]
    run(world, "reviewer", flow.return_with_remarks, contribution.id,
        [RemarkInput("Mer om platserna.", changed.id)])
    db.session.rollback()
    fresh = db.session.get(Section, changed.id)
    run(world, "drafter", contributions.edit_section, changed.id, fresh.text + " Tillägg.",
        fresh.version)
    run(world, "drafter", flow.resubmit, contribution.id)
    web.log_in_as("reviewer")

    html = page(web, f"/contributions/{contribution.id}")

    summary = html[html.index('id="changes-summary"'):]
    summary = summary[:summary.index("</div>")]
    assert "1 avsnitt har ändrats sedan förra inskickningen:" in summary
    assert f'<a href="#section-{changed.id}">{changed.topic.heading}</a>' in summary
    assert summary.count("<li>") == 1


def test_the_summary_says_when_nothing_changed(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    run(world, "reviewer", flow.return_with_remarks, contribution.id, [RemarkInput("Nej.")])
    run(world, "drafter", flow.resubmit, contribution.id)
    web.log_in_as("reviewer")

    html = page(web, f"/contributions/{contribution.id}")

    assert "Inget avsnitt har ändrats sedan förra inskickningen." in html
