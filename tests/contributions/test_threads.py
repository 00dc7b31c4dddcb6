"""Remark threads (issue 15, item 2): a remark is answered by the area's drafters and police
reviewers and marked resolved by its author, each one audited operation; it stays open into
the next rounds until then; resubmitting while an open remark has no answer asks first; and
nobody else (another area, the administrator, the auditor, a forged form) gets in."""
from __future__ import annotations

import pytest

from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.contributions import threads
from app.contributions.operations import RemarkInput
from app.contributions.threads import UnansweredRemarks
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound, StaleVersion
from app.extensions import db
from app.models import Remark
from tests import flow
from tests.contributions.support import (
    denials,
    events_of,
    fresh_contribution,
    page,
    text_of,
    textarea,
    use_english,
)
from tests.factories import advance, data_of, events_since, head_seq, run
from tests.support import assert_security_event, identity_number_traces, refused
from tests.web_support import input_values, shown_after_redirect

TEN_DIGITS = "1212121212"  # 19121212-1212, the Tax Agency's test number (Luhn-valid)


def returned_with_remark(world) -> tuple[int, int]:
    """Norr returned by the reviewer with one remark on its last section: (contribution id,
    remark id)."""
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[-1]
    run(world, "reviewer", flow.return_with_remarks, contribution.id,
        [RemarkInput("Beskriv platserna.", section.id)])
    [remark] = fresh_contribution(contribution.id).remarks
    return contribution.id, remark.id


def remark(remark_id: int) -> Remark:
    db.session.rollback()
    return db.session.get(Remark, remark_id)


# -- answering and resolving ------------------------------------------------------------------

def test_the_drafter_answers_and_the_reviewer_resolves(world):
    contribution_id, remark_id = returned_with_remark(world)
    before = head_seq()

    run(world, "drafter", threads.reply, remark_id, "Platserna är nu beskrivna.", 1)
    run(world, "reviewer", threads.resolve, remark_id, 2)

    thread = remark(remark_id)
    [answer] = thread.replies
    assert (answer.text, answer.author_id, answer.round) == \
        ("Platserna är nu beskrivna.", world.users["drafter"], 2)
    assert thread.resolution.resolved_by_id == world.users["reviewer"]
    assert not thread.is_open and thread.version == 3
    reply_event, resolve_event = events_since(before)
    assert (reply_event.action, reply_event.object_type, reply_event.object_id,
            reply_event.contribution_id, reply_event.actor_id) == \
        ("remark.reply", "remark", str(remark_id), contribution_id, world.users["drafter"])
    assert data_of(reply_event)["text"] == "Platserna är nu beskrivna."
    assert data_of(reply_event)["reply_id"] == answer.id
    assert data_of(reply_event)["section_id"] == thread.section_id
    assert (resolve_event.action, resolve_event.actor_id) == \
        ("remark.resolve", world.users["reviewer"])
    assert data_of(resolve_event)["resolution_id"] == thread.resolution.id
    assert threads.open_remarks(fresh_contribution(contribution_id)) == []
    assert verify_chain().ok


@pytest.mark.parametrize("key", ["drafter", "drafter2", "reviewer", "reviewer2"])
def test_the_areas_drafters_and_reviewers_may_answer(world, key):
    _, remark_id = returned_with_remark(world)

    run(world, key, threads.reply, remark_id, "Svar.", 1)

    assert [r.author_id for r in remark(remark_id).replies] == [world.users[key]]


@pytest.mark.parametrize("key", ["drafter_south", "reviewer_south", "admin", "auditor",
                                 "consolidator", "approver"])
def test_nobody_else_may_answer(world, key):
    _, remark_id = returned_with_remark(world)

    error, events = refused(world, key, NotAllowed, threads.reply, remark_id, "Svar.", 1)

    assert_security_event(events, "security.permission_denied", world.users[key],
                          "remark.reply", "remark", remark_id)
    assert remark(remark_id).replies == []


@pytest.mark.parametrize("key", ["drafter", "drafter2", "reviewer2", "drafter_south",
                                 "reviewer_south", "admin", "auditor", "consolidator",
                                 "approver"])
def test_only_the_author_may_resolve(world, key):
    _, remark_id = returned_with_remark(world)

    error, events = refused(world, key, NotAllowed, threads.resolve, remark_id, 1)

    assert_security_event(events, "security.permission_denied", world.users[key],
                          "remark.resolve", "remark", remark_id)
    assert remark(remark_id).is_open


def test_the_coordinators_reopen_reason_is_a_thread_she_resolves(world):
    advance(world, "Norr", "reviewed")
    contribution_id = world.contribution("Norr").id
    run(world, "consolidator", flow.reopen, contribution_id, "Siffrorna saknas.")
    [reason] = fresh_contribution(contribution_id).remarks

    run(world, "drafter", threads.reply, reason.id, "Siffrorna är tillagda.", 1)
    run(world, "consolidator", threads.reply, reason.id, "Tack.", 2)
    run(world, "consolidator", threads.resolve, reason.id, 3)

    assert not remark(reason.id).is_open


def test_a_stale_version_is_a_conflict_and_changes_nothing(world):
    _, remark_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, remark_id, "Första svaret.", 1)

    refused(world, "drafter2", StaleVersion, threads.reply, remark_id, "Andra svaret.", 1)
    refused(world, "reviewer", StaleVersion, threads.resolve, remark_id, 1)

    assert [r.text for r in remark(remark_id).replies] == ["Första svaret."]
    assert remark(remark_id).is_open


def test_an_answer_with_an_identity_number_is_refused_and_kept_nowhere(world):
    _, remark_id = returned_with_remark(world)

    error, events = refused(world, "drafter", InvalidInput, threads.reply, remark_id,
                            f"Gäller 19{TEN_DIGITS[:6]}-{TEN_DIGITS[6:]}.", 1)

    assert events == []
    assert TEN_DIGITS not in error.message
    assert identity_number_traces(TEN_DIGITS) == []


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_an_empty_answer_is_refused(world, text):
    _, remark_id = returned_with_remark(world)

    error, events = refused(world, "drafter", InvalidInput, threads.reply, remark_id, text, 1)

    assert events == [] and "Write an answer" in error.message


def test_a_resolved_remark_takes_no_more_answers(world):
    _, remark_id = returned_with_remark(world)
    run(world, "reviewer", threads.resolve, remark_id, 1)

    _, events = refused(world, "drafter", InvalidTransition, threads.reply, remark_id,
                        "Sent svar.", 2)
    assert [e.action for e in events] == ["security.transition_refused"]
    refused(world, "reviewer", InvalidTransition, threads.resolve, remark_id, 2)


def test_an_approved_contributions_threads_are_closed(world):
    advance(world, "Norr", "police_review")
    norr = world.contribution("Norr").id
    run(world, "reviewer", flow.approve, norr, comments_confirmed=True,
        remarks=[RemarkInput("Bra, men kort.")])
    [comment] = fresh_contribution(norr).remarks
    run(world, "consolidator", flow.consolidate, norr)
    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id,
        "Inget bidrag denna period.")
    consolidation_id = world.period().consolidation.id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver", flow.approve_consolidation, consolidation_id)
    assert fresh_contribution(norr).state == "approved"

    error, _ = refused(world, "drafter", InvalidTransition, threads.reply, comment.id,
                       "För sent.", 1)
    assert "approved" in error.message
    refused(world, "reviewer", InvalidTransition, threads.resolve, comment.id, 1)


def test_a_consolidations_remark_has_no_thread(world):
    advance(world, "Norr", "consolidated")
    run(world, "consolidator", contributions.exclude, world.contribution("Söder").id,
        "Inget bidrag denna period.")
    consolidation_id = world.period().consolidation.id
    run(world, "consolidator", flow.submit_for_approval, consolidation_id)
    run(world, "approver", flow.return_consolidation, consolidation_id, ["Mer om Norr."])
    db.session.rollback()
    consolidation_remark = db.session.scalar(
        db.select(Remark).where(Remark.consolidation_id == consolidation_id))

    refused(world, "consolidator", NotFound, threads.reply, consolidation_remark.id,
            "Svar.", 1)


# -- across rounds, and the resubmission ------------------------------------------------------

def test_open_remarks_are_carried_into_the_next_round_until_resolved(world):
    contribution_id, first_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, first_id, "Delvis åtgärdat.", 1)
    run(world, "drafter", flow.resubmit, contribution_id)
    run(world, "reviewer", flow.return_with_remarks, contribution_id,
        [RemarkInput("Och siffrorna?")])

    contribution = fresh_contribution(contribution_id)
    assert contribution.round == 3
    assert [(r.id == first_id, r.round) for r in threads.open_remarks(contribution)] == \
        [(True, 1), (False, 2)]

    run(world, "reviewer", threads.resolve, first_id, 2)

    assert [r.text for r in threads.open_remarks(fresh_contribution(contribution_id))] == \
        ["Och siffrorna?"]


def test_resubmitting_with_an_unanswered_remark_asks_first(world):
    contribution_id, _ = returned_with_remark(world)

    error, events = refused(world, "drafter", UnansweredRemarks, contributions.transition,
                            contribution_id, "resubmit")

    assert events == []
    assert "Resubmit without answering" in error.message
    assert fresh_contribution(contribution_id).state == "returned"

    run(world, "drafter", contributions.transition, contribution_id, "resubmit",
        unanswered_confirmed=True)
    assert fresh_contribution(contribution_id).state == "police_review"


def test_an_answered_remark_needs_no_confirmation(world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, remark_id, "Åtgärdat.", 1)

    run(world, "drafter", contributions.transition, contribution_id, "resubmit")

    assert fresh_contribution(contribution_id).state == "police_review"


def test_the_authors_own_follow_up_is_no_answer(world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "reviewer", threads.reply, remark_id, "Se även förra årets text.", 1)

    assert threads.unanswered_remarks(fresh_contribution(contribution_id))
    refused(world, "drafter", UnansweredRemarks, contributions.transition, contribution_id,
            "resubmit")


def test_a_resolved_remark_needs_no_answer(world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "reviewer", threads.resolve, remark_id, 1)

    run(world, "drafter", contributions.transition, contribution_id, "resubmit")

    assert fresh_contribution(contribution_id).state == "police_review"


def test_open_remarks_are_counted_per_contribution(world):
    norr, remark_id = returned_with_remark(world)
    advance(world, "Söder", "police_review")
    south = world.contribution("Söder").id
    run(world, "reviewer_south", flow.return_with_remarks, south,
        [RemarkInput("Ett."), RemarkInput("Två.", world.sections("Söder")[0].id)])

    assert threads.open_remark_counts([norr, south]) == {norr: 1, south: 2}
    run(world, "reviewer", threads.resolve, remark_id, 1)
    assert threads.open_remark_counts([norr, south]) == {south: 2}
    assert threads.open_remark_counts([]) == {}


# -- the pages --------------------------------------------------------------------------------

def reply_form(web, contribution_id: int, remark_id: int) -> dict:
    html = page(web, f"/contributions/{contribution_id}")
    start = html.index(f'action="/remarks/{remark_id}/reply"')
    form = html[start:html.index("</form>", start)]
    values = input_values(form)
    return {"csrf_token": values["csrf_token"][0],
            "expected_version": values["expected_version"][0]}


def test_the_page_lists_open_remarks_on_top_with_links_to_their_sections(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    section = world.sections("Norr")[-1]
    web.log_in_as("drafter")

    html = page(web, f"/contributions/{contribution_id}")

    listing = html[html.index('id="open-remarks"'):]
    listing = listing[:listing.index("</section>")]
    assert "1 öppen anmärkning" in listing
    assert f'<a href="#section-{section.id}">{section.topic.heading}</a>' in listing
    assert "Beskriv platserna." in listing and "inget svar ännu" in listing
    assert html.index('id="open-remarks"') < html.index('id="section-')
    thread = html[html.index(f'id="remark-{remark_id}"'):]
    assert "Öppen, inget svar ännu" in thread
    assert f'action="/remarks/{remark_id}/reply"' in thread
    assert f'action="/remarks/{remark_id}/resolve"' not in html  # the drafter is no author


def test_an_answer_and_a_resolution_through_the_pages(web, world, other_web):
    contribution_id, remark_id = returned_with_remark(world)
    web.log_in_as("drafter")

    response = web.client.post(f"/remarks/{remark_id}/reply",
                               data=reply_form(web, contribution_id, remark_id)
                               | {"reply": "Nu beskrivna."})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(
        f"/contributions/{contribution_id}#remark-{remark_id}")
    other_web.log_in_as("reviewer")
    html = page(other_web, f"/contributions/{contribution_id}")
    thread = text_of(html[html.index(f'id="remark-{remark_id}"'):])
    assert "Öppen, besvarad" in thread and "Nu beskrivna." in thread
    start = html.index(f'action="/remarks/{remark_id}/resolve"')
    values = input_values(html[start:html.index("</form>", start)])

    response = other_web.client.post(f"/remarks/{remark_id}/resolve", data={
        "csrf_token": values["csrf_token"][0],
        "expected_version": values["expected_version"][0]})

    assert response.status_code == 302
    html = page(other_web, f"/contributions/{contribution_id}")
    assert 'id="open-remarks"' not in html
    assert "Markerad som åtgärdad av" in text_of(html[html.index(f'id="remark-{remark_id}"'):])
    assert [e.action for e in events_of(contribution_id)][-2:] == \
        ["remark.reply", "remark.resolve"]
    history = text_of(page(other_web, f"/contributions/{contribution_id}/history"))
    assert "Anmärkning besvarad" in history and "Svar: Nu beskrivna." in history
    assert "Anmärkning markerad som åtgärdad" in history


def test_a_refused_answer_stays_in_its_box_with_the_message_beside_it(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    web.log_in_as("drafter")
    typed = f"Personen 19{TEN_DIGITS[:6]}-{TEN_DIGITS[6:]} är kontaktad."

    response = web.client.post(f"/remarks/{remark_id}/reply",
                               data=reply_form(web, contribution_id, remark_id)
                               | {"reply": typed})

    html = shown_after_redirect(web, response)  # at the page's own address
    assert textarea(html, "reply") == typed
    assert (f'aria-invalid="true" aria-describedby="reply-error-{remark_id}"') in html
    error = html[html.index(f'id="reply-error-{remark_id}"'):]
    assert "personnummer" in error[:error.index("</span>")]
    assert remark(remark_id).replies == []


def test_a_stale_answer_form_is_a_conflict(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    web.log_in_as("drafter")
    form = reply_form(web, contribution_id, remark_id)
    run(world, "drafter2", threads.reply, remark_id, "Hann före.", 1)

    response = web.client.post(f"/remarks/{remark_id}/reply", data=form | {"reply": "Sent."})

    assert response.status_code == 409
    assert [r.text for r in remark(remark_id).replies] == ["Hann före."]


@pytest.mark.parametrize("key", ["drafter_south", "admin", "auditor"])
def test_a_forged_answer_or_resolution_is_refused_and_logged(web, world, key):
    contribution_id, remark_id = returned_with_remark(world)
    web.log_in_as(key)
    token = web.csrf_token("/")

    for action in ("reply", "resolve"):
        response = web.client.post(f"/remarks/{remark_id}/{action}", data={
            "csrf_token": token, "expected_version": "1", "reply": "Forged."})
        assert response.status_code == 403

    refusals = denials(remark_id)
    assert [d["attempted"] for d in refusals] == ["remark.reply", "remark.resolve"]
    assert {d["contribution_id"] for d in refusals} == {contribution_id}  # in its history
    assert remark(remark_id).replies == [] and remark(remark_id).is_open


def test_resubmitting_from_the_page_asks_about_unanswered_remarks(web, world):
    contribution_id, _ = returned_with_remark(world)
    web.log_in_as("drafter")
    html = page(web, f"/contributions/{contribution_id}")
    assert 'name="confirm_unanswered"' in html
    token = input_values(html)["csrf_token"][0]
    version = str(fresh_contribution(contribution_id).version)
    url = f"/contributions/{contribution_id}/transition/resubmit"

    response = web.client.post(url, data={"csrf_token": token, "expected_version": version})

    html = shown_after_redirect(web, response)  # at the page's own address
    assert 'aria-invalid="true"' in html[html.index('id="confirm-unanswered"') - 200:
                                         html.index('id="confirm-unanswered"') + 400]
    assert "Öppna anmärkningar utan svar: 1." in html
    assert fresh_contribution(contribution_id).state == "returned"

    response = web.client.post(url, data={"csrf_token": token, "expected_version": version,
                                          "confirm_unanswered": "1"})

    assert response.status_code == 302
    assert fresh_contribution(contribution_id).state == "police_review"


def test_the_start_page_counts_open_remarks(web, world):
    contribution_id, _ = returned_with_remark(world)
    web.log_in_as("drafter")

    html = page(web, "/")

    row = html[html.index(f'data-id="{contribution_id}"'):]
    row = row[:row.index("</tr>")]
    assert (f'<a class="task-open-remarks" href="/contributions/{contribution_id}'
            '#open-remarks">1 öppen anmärkning</a>') in row


def test_the_thread_in_english(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, remark_id, "Done.", 1)
    use_english(web)
    web.log_in_as("reviewer")

    html = text_of(page(web, f"/contributions/{contribution_id}"))

    assert "1 open remark" in html and "Open, answered" in html
    assert "Mark the remark resolved" in html and "Your answer to the remark" in html


def test_the_editor_shows_the_thread_without_its_forms(web, world):
    """The editor's page is one form (the text): the thread is shown there to read, and
    answered on the contribution page."""
    _, remark_id = returned_with_remark(world)
    run(world, "drafter2", threads.reply, remark_id, "Jag tar det här.", 1)
    section = world.sections("Norr")[-1]
    web.log_in_as("drafter")

    html = page(web, f"/sections/{section.id}/edit")

    assert "Jag tar det här." in html and "Öppen, besvarad" in html
    assert "/remarks/" not in html


def test_the_reviewer_sees_last_rounds_open_remark_on_top(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, remark_id, "Se texten nu.", 1)
    run(world, "drafter", contributions.transition, contribution_id, "resubmit")
    web.log_in_as("reviewer")

    html = page(web, f"/contributions/{contribution_id}")

    listing = html[html.index('id="open-remarks"'):]
    listing = text_of(listing[listing.index(">") + 1:listing.index("</section>")])
    assert listing.startswith("1 öppen anmärkning")
    assert "Beskriv platserna." in listing and "(besvarad)" in listing
    assert f'action="/remarks/{remark_id}/resolve"' in html


def test_no_confirmation_is_asked_once_every_open_remark_is_answered(web, world):
    contribution_id, remark_id = returned_with_remark(world)
    run(world, "drafter", threads.reply, remark_id, "Klart.", 1)
    web.log_in_as("drafter")

    html = page(web, f"/contributions/{contribution_id}")

    assert 'data-trigger="resubmit"' in html
    assert 'name="confirm_unanswered"' not in html
