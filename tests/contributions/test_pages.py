"""The contribution page: who may read it, what it shows, and its workflow actions."""
from __future__ import annotations

import pytest

from app.contributions import operations as contributions
from tests.contributions.support import (
    act,
    denials,
    events_of,
    fresh_contribution,
    page,
    text_of,
    textarea,
    use_english,
)
from tests.factories import advance, fill_sections, run
from tests.web_support import field_error, invalid_fields, shown_after_redirect

NORR = "Lägesbild januari 2030 — Norr"


def path(world, area: str = "Norr") -> str:
    return f"/contributions/{world.contribution(area).id}"


# -- who may read it ---------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["drafter", "drafter2", "reviewer", "reviewer2", "consolidator",
                                 "approver", "auditor"])
def test_roles_covering_the_area_or_the_city_may_read(web, world, key):
    web.log_in_as(key)

    html = page(web, path(world))

    assert f"<h1>{NORR}</h1>" in html
    assert denials() == []


@pytest.mark.parametrize("key", ["drafter_south", "reviewer_south", "admin"])
def test_others_are_refused_and_the_attempt_is_logged(web, world, key):
    contribution_id = world.contribution("Norr").id
    web.log_in_as(key)

    response = web.client.get(f"/contributions/{contribution_id}")

    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Åtkomst nekad" in html and "Trygghet i norr" not in html
    [denial] = denials(contribution_id)
    assert denial["attempted"] == "contribution.view"
    assert denial["contribution_id"] == contribution_id
    assert denial["actor"] == world.user(key).name


def test_history_is_refused_to_other_areas_too(web, world):
    contribution_id = world.contribution("Norr").id
    web.log_in_as("reviewer_south")

    assert web.client.get(f"/contributions/{contribution_id}/history").status_code == 403
    assert [d["attempted"] for d in denials(contribution_id)] == ["contribution.view"]


def test_signed_out_visitors_are_sent_to_log_in(web, world):
    response = web.client.get(path(world))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_unknown_contribution_is_404(web, world):
    web.log_in_as("drafter")

    html = page(web, "/contributions/9999", status=404)

    assert "Det finns inget bidrag 9999." in html


# -- what it shows -----------------------------------------------------------------------------

def test_sections_in_document_order_with_state_and_deadlines(web, world):
    web.log_in_as("drafter")

    html = page(web, path(world))
    text = text_of(html)

    assert "<title>" + NORR + " – Lägesbild</title>" in html
    headings = ["1. Unga i risk för kriminalitet", "2. Otillåten påverkan", "3. Ordningsvakter",
                "Trygghet i norr"]
    positions = [html.index(f">{h}</h3>") for h in headings]
    assert positions == sorted(positions)
    assert html.index("<h2>Stadsövergripande prioriterade områden</h2>") < positions[0]
    assert positions[2] < html.index("<h2>Lokalt prioriterade områden</h2>") < positions[3]
    assert 'data-state="draft">Utkast</span>' in html
    assert "Sista dagar för perioden januari 2030" in text
    assert "Skrivande 2030-01-10 Aktuellt steg" in text
    assert "Polisgranskning 2030-01-17" in text


def test_bullet_lines_become_a_list_and_user_html_is_escaped(web, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id,
        "Inledning <b>fet</b>\n- Första punkten\n• Andra punkten\n\nAvslutning <script>x</script>",
        section.version)
    web.log_in_as("drafter")

    html = page(web, path(world))

    assert ("<ul class=\"contrib-bullets\"><li>Första punkten</li><li>Andra punkten</li></ul>"
            in html)
    assert "<p>Inledning &lt;b&gt;fet&lt;/b&gt;</p>" in html
    assert "<p>Avslutning &lt;script&gt;x&lt;/script&gt;</p>" in html
    assert "<script>x" not in html


def test_page_in_english(web, world):
    use_english(web)
    web.log_in_as("drafter")

    html = page(web, path(world))
    text = text_of(html)

    assert '<html lang="en">' in html
    assert "Status: Draft" in text
    assert "City-wide topics" in text and "Local topics" in text
    assert "Every section must have text before the contribution can be sent to the police." \
        in text
    assert "Drafting 2030-01-10 Current step" in text


def test_drafter_is_told_which_sections_are_empty_and_cannot_submit(web, world):
    sections = world.sections("Norr")
    run(world, "drafter", contributions.edit_section, sections[0].id, "Text", 1)
    web.log_in_as("drafter")

    html = page(web, path(world))

    assert 'id="empty-sections"' in html
    empty = html[html.index('id="empty-sections"'):html.index("</div>", html.index(
        'id="empty-sections"'))]
    assert "1. Unga i risk" not in empty
    assert "2. Otillåten påverkan" in empty and "Trygghet i norr" in empty
    assert 'data-trigger="submit"' not in html


def test_edit_links_only_for_those_who_may_edit_now(web, world, other_web):
    web.log_in_as("drafter")
    other_web.log_in_as("reviewer")

    assert "contrib-edit-link" in page(web, path(world))
    assert "contrib-edit-link" not in page(other_web, path(world))


# -- actions -------------------------------------------------------------------------------------

def test_drafter_submits_once_every_section_is_filled(web, world):
    fill_sections(world, "Norr")
    contribution = world.contribution("Norr")
    web.log_in_as("drafter")
    html = page(web, path(world))
    assert 'data-trigger="submit"' in html and ">Skicka till polisen</button>" in html
    assert 'id="empty-sections"' not in html

    response = act(web, contribution.id, "submit")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/contributions/{contribution.id}"
    assert fresh_contribution(contribution.id).state == "police_review"
    html = page(web, path(world))
    assert f"Skickad till polisen: {NORR}." in html
    assert 'data-state="police_review">Polisgranskning</span>' in html
    assert 'data-trigger="withdraw"' in html


def test_actions_need_the_csrf_token(web, world):
    fill_sections(world, "Norr")
    contribution = world.contribution("Norr")
    web.log_in_as("drafter")

    response = act(web, contribution.id, "submit", token=False)

    assert response.status_code == 400
    assert "säkerhetskod" in response.get_data(as_text=True)
    assert fresh_contribution(contribution.id).state == "draft"


def test_stale_version_shows_the_conflict_page_and_changes_nothing(web, world, other_web):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    seen_version = contribution.version
    web.log_in_as("reviewer")
    other_web.log_in_as("drafter")
    assert act(other_web, contribution.id, "withdraw").status_code == 302  # meanwhile

    response = act(web, contribution.id, "approve", version=seen_version)

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Någon annan har ändrat bidraget" in html
    assert f'href="/contributions/{contribution.id}"' in html
    assert fresh_contribution(contribution.id).state == "draft"


def test_missing_version_is_bad_input(web, world):
    fill_sections(world, "Norr")
    contribution = world.contribution("Norr")
    web.log_in_as("drafter")
    token = web.csrf_token(path(world))

    response = web.client.post(f"/contributions/{contribution.id}/transition/submit",
                               data={"csrf_token": token})

    assert response.status_code == 400
    assert "Formuläret saknar den version du såg." in response.get_data(as_text=True)
    assert fresh_contribution(contribution.id).state == "draft"


def test_unknown_action_is_bad_input(web, world):
    contribution = world.contribution("Norr")
    web.log_in_as("drafter")

    response = act(web, contribution.id, "publish")

    assert "Okänd åtgärd" in shown_after_redirect(web, response)
    assert fresh_contribution(contribution.id).state == "draft"


def test_action_in_the_wrong_state_is_a_conflict(web, world):
    fill_sections(world, "Norr")
    contribution = world.contribution("Norr")
    web.log_in_as("drafter")

    response = act(web, contribution.id, "resubmit")

    assert response.status_code == 409
    assert fresh_contribution(contribution.id).state == "draft"


@pytest.mark.parametrize("key", ["reviewer_south", "drafter", "auditor", "admin"])
def test_approve_refused_to_the_wrong_role_or_area_and_logged(web, world, key):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    web.log_in_as(key)

    response = web.client.post(f"/contributions/{contribution.id}/transition/approve",
                               data={"csrf_token": web.csrf_token("/"),
                                     "expected_version": str(contribution.version)})

    assert response.status_code == 403
    assert fresh_contribution(contribution.id).state == "police_review"
    assert [d["attempted"] for d in denials(contribution.id)] == ["contribution.approve"]


def test_reviewer_approves(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    web.log_in_as("reviewer")
    html = page(web, path(world))
    assert ">Godkänn</button>" in html

    response = act(web, contribution.id, "approve")

    assert response.status_code == 302
    assert fresh_contribution(contribution.id).state == "reviewed"
    assert f"Godkänd av polisen: {NORR}." in page(web, path(world))


def test_reviewer_returns_with_remarks_shown_beside_their_sections(web, world, other_web):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[1]
    web.log_in_as("reviewer")
    html = page(web, path(world))
    assert 'id="review-form"' in html
    assert f'<label for="remark-section-{section.id}">Anmärkning om 2. Otillåten påverkan ' \
           "(frivillig)</label>" in html

    response = act(web, contribution.id, "return",
                   remark_general="Bra i stort.",
                   **{f"remark_section_{section.id}": "Beskriv resultaten."})

    assert response.status_code == 302
    assert fresh_contribution(contribution.id).state == "returned"
    other_web.log_in_as("drafter")
    html = page(other_web, path(world))
    general = html[html.index('class="contrib-general-remarks"'):]
    assert "Bra i stort." in general[:general.index("</section>")]
    own = html[html.index(f'id="section-{section.id}"'):]
    own = own[:own.index("</section>")]
    assert "Beskriv resultaten." in own
    assert "Återsänd för ändringar" in own and "Reviewer" in own
    assert "Polisen – lokalpolisområde Norr" in own
    assert 'data-trigger="resubmit"' in html and ">Skicka till polisen igen</button>" in html


def test_return_without_remarks_is_refused_with_the_message(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    use_english(web)
    web.log_in_as("reviewer")

    response = act(web, contribution.id, "return", remark_general="   ")

    assert "At least one remark is required." in shown_after_redirect(web, response)
    assert fresh_contribution(contribution.id).state == "police_review"
    assert [e.action for e in events_of(contribution.id)][-1] == "contribution.submit"


def test_bad_remark_is_refused_and_what_was_typed_is_kept(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[0]
    web.log_in_as("reviewer")
    typed = "Personen 811228-9874 nämns."

    response = act(web, contribution.id, "return", remark_general="Allmänt.",
                   **{f"remark_section_{section.id}": typed})

    html = shown_after_redirect(web, response)
    assert 'role="alert"' in html
    assert textarea(html, f"remark_section_{section.id}") == typed
    assert textarea(html, "remark_general") == "Allmänt."
    assert fresh_contribution(contribution.id).state == "police_review"


def test_consolidator_reopens_with_a_reason(web, world, other_web):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")
    html = page(web, path(world))
    assert '<label for="reason-reopen">Skäl (obligatoriskt): Öppna igen</label>' in html

    refused = act(web, contribution.id, "reopen", reason="")
    assert "Ange ett skäl." in shown_after_redirect(web, refused)
    assert fresh_contribution(contribution.id).state == "reviewed"

    response = act(web, contribution.id, "reopen", reason="Siffrorna behöver uppdateras.")

    assert response.status_code == 302
    assert fresh_contribution(contribution.id).state == "returned"
    other_web.log_in_as("drafter")
    html = page(other_web, path(world))
    general = html[html.index('class="contrib-general-remarks"'):]
    assert "Siffrorna behöver uppdateras." in general and "Återöppnad" in general


# -- exclude and include --------------------------------------------------------------------

def test_consolidator_excludes_with_a_reason_and_includes_again(web, world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")
    token = web.csrf_token(path(world))
    base = f"/contributions/{contribution.id}"

    refused = web.client.post(f"{base}/exclude", data={
        "csrf_token": token, "expected_version": contribution.version, "reason": " "})
    shown_after_redirect(web, refused)
    assert fresh_contribution(contribution.id).excluded_reason is None

    response = web.client.post(f"{base}/exclude", data={
        "csrf_token": token, "expected_version": contribution.version,
        "reason": "Området slogs ihop med ett annat."})
    assert response.status_code == 302
    assert fresh_contribution(contribution.id).excluded_reason == \
        "Området slogs ihop med ett annat."
    html = page(web, base)
    assert "Undantaget från sammanställningen" in html
    assert "Skäl till undantaget: Området slogs ihop med ett annat." in text_of(html)

    response = web.client.post(f"{base}/include", data={
        "csrf_token": token, "expected_version": fresh_contribution(contribution.id).version})
    assert response.status_code == 302
    assert fresh_contribution(contribution.id).excluded_reason is None
    assert "Åter med i sammanställningen" in page(web, base)


def test_exclude_with_a_stale_version_is_a_conflict(web, world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")

    response = web.client.post(f"/contributions/{contribution.id}/exclude", data={
        "csrf_token": web.csrf_token(path(world)), "expected_version": contribution.version - 1,
        "reason": "Skäl."})

    assert response.status_code == 409
    assert fresh_contribution(contribution.id).excluded_reason is None


@pytest.mark.parametrize("key", ["drafter", "reviewer", "approver"])
def test_only_the_consolidator_may_exclude(web, world, key):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as(key)
    assert "reason-exclude" not in page(web, path(world))

    response = web.client.post(f"/contributions/{contribution.id}/exclude", data={
        "csrf_token": web.csrf_token(path(world)), "expected_version": contribution.version,
        "reason": "Skäl."})

    assert response.status_code == 403
    assert fresh_contribution(contribution.id).excluded_reason is None
    assert [d["attempted"] for d in denials(contribution.id)] == ["contribution.exclude"]


def test_exclude_needs_the_csrf_token(web, world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")

    response = web.client.post(f"/contributions/{contribution.id}/exclude", data={
        "expected_version": contribution.version, "reason": "Skäl."})

    assert response.status_code == 400
    assert fresh_contribution(contribution.id).excluded_reason is None


# -- the start page links here -----------------------------------------------------------------

def test_start_page_links_each_contribution_to_its_page(web, world):
    web.log_in_as("drafter")

    html = page(web, "/")

    assert f'<a href="{path(world)}">{NORR}</a>' in html


def test_reviewer_sees_changes_since_last_periods_approved_text(web, world):
    """A first submission in a new period, carried forward from the approved one: the police
    see what the drafter changed against last period's approved text."""
    from datetime import date

    from app.admin import operations as admin
    from app.core.unit_of_work import operation
    from app.documents.carry_forward import carry_forward
    from tests.documents.support import approve_period
    from tests.factories import SETUP

    approve_period(world)
    with operation(SETUP):
        period = admin.create_period(
            SETUP, "februari 2030", drafting_deadline=date(2030, 2, 10),
            review_deadline=date(2030, 2, 17), consolidation_deadline=date(2030, 2, 24),
            approval_deadline=date(2030, 2, 28))
        carry_forward(SETUP, period.id)
        period_id = period.id
    from app.extensions import db
    from app.models import Contribution

    contribution = db.session.scalar(db.select(Contribution).where(
        Contribution.period_id == period_id, Contribution.area_id == world.areas["Norr"]))
    section = contribution.ordered_sections[0]
    run(world, "drafter", contributions.edit_section, section.id,
        section.text + " Nytt möte med skolorna i mars.", section.version)
    run(world, "drafter", contributions.transition, contribution.id, "submit")

    web.log_in_as("reviewer")
    html = page(web, f"/contributions/{contribution.id}")
    assert "Ändringar sedan förra periodens fastställda text" in html
    assert "<ins" in html and "Nytt möte med skolorna i mars." in html
    assert html.count("Inga ändringar.") >= 1  # the untouched sections say so
    assert f"/contributions/{contribution.id}/print" in html


# -- errors where they happened ---------------------------------------------------------------

def test_a_personnummer_in_a_remark_is_shown_at_its_box_on_the_pages_own_address(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    section = world.sections("Norr")[-1]
    web.log_in_as("reviewer")
    typed = "Personen 811228-9874 nämns."

    response = act(web, contribution.id, "return", remark_general="Allmänt.",
                   **{f"remark_section_{section.id}": typed})

    assert response.headers["Location"] == \
        f"/contributions/{contribution.id}#remark-section-{section.id}"
    html = shown_after_redirect(web, response)
    assert "ser ut som ett personnummer" in field_error(html, f"remark-section-{section.id}")
    assert invalid_fields(html) == [f"remark-section-{section.id}"]
    assert f'<a href="#remark-section-{section.id}">' in html  # the summary links to the box
    assert textarea(html, f"remark_section_{section.id}") == typed
    assert textarea(html, "remark_general") == "Allmänt."
    # Shown once: a reload shows the page as it is, with nothing stale.
    again = page(web, path(world))
    assert invalid_fields(again) == [] and "personnummer" not in again
    assert textarea(again, f"remark_section_{section.id}") == ""
    assert fresh_contribution(contribution.id).state == "police_review"


def test_a_missing_remark_is_shown_at_the_general_remark(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    web.log_in_as("reviewer")

    response = act(web, contribution.id, "return", remark_general="  ")

    assert response.headers["Location"] == f"/contributions/{contribution.id}#remark-general"
    html = shown_after_redirect(web, response)
    assert field_error(html, "remark-general") == "Fel: Skriv minst en anmärkning."
    assert "Skriv minst en anmärkning." not in page(web, path(world))


def test_a_reason_error_is_shown_at_the_reason_and_the_language_switch_then_works(web, world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")

    response = act(web, contribution.id, "reopen", reason="Gäller 811228-9874.")

    html = shown_after_redirect(web, response)
    assert "personnummer" in field_error(html, "reason-reopen")
    assert textarea(html, "reason") == "Gäller 811228-9874."
    # The language switch goes back to the page (a GET), not to the action's address.
    assert f'name="next" value="/contributions/{contribution.id}"' in html
    switched = web.client.post("/language", data={
        "lang": "en", "next": f"/contributions/{contribution.id}",
        "csrf_token": web.csrf_token(path(world))})
    assert switched.status_code == 302
    assert web.client.get(switched.headers["Location"]).status_code == 200
    assert fresh_contribution(contribution.id).state == "reviewed"


def test_an_approval_with_typed_remarks_asks_beside_the_buttons(web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    web.log_in_as("reviewer")

    response = act(web, contribution.id, "approve", remark_general="Bra.")

    html = shown_after_redirect(web, response)
    review = html[html.index('id="review-heading"'):]
    assert "Välj ”Godkänn med kommentar”" in review[:review.index("</section>")]
    assert 'id="error-summary"' in html and textarea(html, "remark_general") == "Bra."


def test_a_failure_on_one_contribution_is_not_shown_on_another(web, world):
    advance(world, "Norr", "police_review")
    advance(world, "Söder", "police_review")
    norr = world.contribution("Norr")
    web.log_in_as("consolidator")  # reads both; refused input only where the form was

    response = act(web, world.contribution("Norr").id, "exclude")  # unknown to the workflow
    assert response.status_code == 303
    other = page(web, path(world, "Söder"))
    assert 'id="error-summary"' not in other
    assert 'id="error-summary"' in page(web, f"/contributions/{norr.id}")
