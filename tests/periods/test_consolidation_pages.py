"""The consolidation page: every area's text per topic, the coordinator's actions on each
area (consolidate, reopen, exclude, include), submitting for approval, and the approver's
approve or return — with role checks, CSRF, stale versions and bad input."""
from __future__ import annotations

import re

import pytest

from app.contributions import operations as contributions
from app.extensions import db
from app.models import Consolidation
from tests import flow
from tests.factories import advance, fill_sections, run
from tests.web_support import field_error, input_values, invalid_fields, shown_after_redirect


def path(world, tail: str = "") -> str:
    return f"/periods/{world.period_id}/consolidation{tail}"


def page(web, world, status: int = 200) -> str:
    response = web.client.get(path(world))
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def consolidation(world) -> Consolidation:
    db.session.rollback()
    return world.period().consolidation


def contribution_action(web, world, area: str, trigger: str, **form):
    contribution = world.contribution(area)
    data = {"csrf_token": web.csrf_token(path(world)),
            "expected_version": contribution.version, **form}
    return web.client.post(
        f"/periods/{world.period_id}/contributions/{contribution.id}/transition/{trigger}",
        data=data)


def exclusion(web, world, area: str, action: str, **form):
    contribution = world.contribution(area)
    data = {"csrf_token": web.csrf_token(path(world)), "action": action,
            "expected_version": contribution.version, **form}
    return web.client.post(
        f"/periods/{world.period_id}/contributions/{contribution.id}/exclusion", data=data)


def consolidation_action(web, world, trigger: str, token_from=None, **form):
    data = {"csrf_token": web.csrf_token(token_from or "/"),
            "expected_version": consolidation(world).version, **form}
    return web.client.post(path(world, f"/transition/{trigger}"), data=data)


def current(world, area: str):
    """The contribution as the requests committed it."""
    db.session.rollback()
    return world.contribution(area)


def both_consolidated(world) -> None:
    advance(world, "Norr", "consolidated")
    advance(world, "Söder", "consolidated")


# -- who may see it -------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["consolidator", "approver", "auditor"])
def test_the_city_office_may_read_it(web, world, key):
    web.log_in_as(key)
    html = page(web, world)
    assert "<h1>Sammanställningen för januari 2030</h1>" in html


@pytest.mark.parametrize("key", ["drafter", "reviewer", "drafter_south", "admin"])
def test_others_are_refused_and_it_is_logged(web, world, key, audit_events):
    web.log_in_as(key)
    html = page(web, world, 403)
    assert "Bara samordnaren, fastställaren och revisorer får se sammanställningen." in html
    assert "consolidation.view" in audit_events("security.permission_denied")[-1].data


def test_unknown_period_is_404(web, world):
    web.log_in_as("consolidator")
    assert web.client.get("/periods/999/consolidation").status_code == 404


# -- the texts side by side -----------------------------------------------------------------

def test_every_areas_text_per_topic_escaped_with_bullets_as_lists(web, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id,
        "Inledning <script>alert(1)</script>\n- Första punkten\n- Andra punkten", section.version)
    web.log_in_as("auditor")

    html = page(web, world)

    assert "<h3 id=\"topic-" in html and "1. Unga i risk för kriminalitet" in html
    texts = html[html.index('<h3 id="topic-'):]  # after the topic navigation
    topic = texts  # the first topic's texts, and no other topic's
    assert "2. Otillåten påverkan" not in topic
    assert 'data-area="Norr"' in topic and 'data-area="Söder"' in topic
    assert "Inledning &lt;script&gt;alert(1)&lt;/script&gt;" in topic
    assert "<script>alert(1)" not in html
    assert "<li>Första punkten</li><li>Andra punkten</li>" in topic
    assert "(ingen text)" in topic  # Söder has written nothing yet
    assert "Trygghet i norr" not in texts  # one topic at a time
    local = web.client.get(path(world) + "?topic=local").get_data(as_text=True)
    local = local[local.index('<h2 id="local-topics-heading">'):]
    assert "Trygghet i norr" in local and "Trygghet i söder" in local
    assert "Inledning" not in local


def test_the_texts_one_topic_at_a_time_with_links_to_each(web, world):
    web.log_in_as("consolidator")
    html = page(web, world)
    links = re.findall(r'<a href="([^"]+)#texts"( aria-current="page")?>([^<]+)</a>', html)
    assert [label for _href, _current, label in links] == [
        "1. Unga i risk för kriminalitet", "2. Otillåten påverkan", "3. Ordningsvakter",
        "Lokalt prioriterade områden"]
    assert links[0][1] and not any(current for _href, current, _label in links[1:])
    second = web.client.get(links[1][0].replace("&amp;", "&")).get_data(as_text=True)
    texts = second[second.index('<div id="texts">'):]
    assert "2. Otillåten påverkan" in texts and "1. Unga i risk" not in texts
    assert 'aria-current="page">2. Otillåten påverkan' in second


@pytest.mark.parametrize("topic", ["999", "abc", "-1", "local2"])
def test_an_unknown_topic_is_refused_with_a_message(web, world, topic):
    web.log_in_as("consolidator")
    response = web.client.get(path(world) + f"?topic={topic}")
    assert response.status_code == 400
    assert "Sammanställningen har inget tema" in response.get_data(as_text=True)


def test_consolidator_gets_wording_links_and_actions_the_approver_does_not(web, world,
                                                                           other_web):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    other_web.log_in_as("approver")

    html = page(web, world)
    seen_by_approver = page(other_web, world)

    norr = world.contribution("Norr")
    first = world.sections("Norr")[0]
    assert f"/sections/{first.id}/edit?next=" in html
    assert "Redigera formuleringen" in html
    assert f"/contributions/{norr.id}/transition/consolidate" in html
    assert ">Sammanställ</button>" in html and "Öppna igen…" in html
    assert "Undanta…" in html
    # Söder is still a draft: no wording edits there.
    assert f"/sections/{world.sections('Söder')[0].id}/edit" not in html
    for fragment in ("Redigera formuleringen", "/transition/consolidate", "Undanta…"):
        assert fragment not in seen_by_approver


# -- the coordinator's actions on one area --------------------------------------------------

def test_consolidate_an_area(web, world, audit_events):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")

    response = contribution_action(web, world, "Norr", "consolidate")

    assert response.status_code == 302 and response.headers["Location"] == path(world)
    html = page(web, world)
    assert "Sammanställd: Lägesbild januari 2030 — Norr." in html
    assert current(world, "Norr").state == "consolidated"
    assert len(audit_events("contribution.consolidate")) == 1


def test_reopen_needs_a_reason_and_keeps_what_was_typed(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")

    response = contribution_action(web, world, "Norr", "reopen", reason="   ")

    html = shown_after_redirect(web, response)
    assert "Ange ett skäl." in html and 'role="alert"' in html
    assert current(world, "Norr").state == "reviewed"

    response = contribution_action(web, world, "Norr", "reopen", reason="Siffrorna saknas.")
    assert response.status_code == 302
    assert current(world, "Norr").state == "returned"
    assert "Återöppnad: Lägesbild januari 2030 — Norr." in page(web, world)


def test_exclude_needs_a_reason_then_include_again(web, world):
    web.log_in_as("consolidator")

    response = exclusion(web, world, "Söder", "exclude", reason="")
    assert "Ange ett skäl för att undanta bidraget." in shown_after_redirect(web, response)
    assert current(world, "Söder").excluded_reason is None

    assert exclusion(web, world, "Söder", "exclude", reason="Inget underlag.").status_code == 302
    html = page(web, world)
    assert "Undantaget från sammanställningen: Lägesbild januari 2030 — Söder." in html
    assert "Inget underlag." in html and "Ta med Söder igen" in html
    assert current(world, "Söder").excluded_reason == "Inget underlag."

    assert exclusion(web, world, "Söder", "include").status_code == 302
    assert "Åter med i sammanställningen" in page(web, world)
    assert current(world, "Söder").excluded_reason is None


@pytest.mark.parametrize("key", ["approver", "auditor", "drafter"])
def test_only_the_coordinator_may_act_on_an_area(web, world, key):
    advance(world, "Norr", "reviewed")
    web.log_in_as(key)
    contribution = world.contribution("Norr")
    data = {"csrf_token": web.csrf_token("/"), "expected_version": contribution.version}

    consolidate = web.client.post(f"/periods/{world.period_id}/contributions/{contribution.id}"
                                  "/transition/consolidate", data=data)
    exclude = web.client.post(f"/periods/{world.period_id}/contributions/{contribution.id}"
                              "/exclusion", data={**data, "action": "exclude", "reason": "x"})

    assert consolidate.status_code == 403 and exclude.status_code == 403
    contribution = current(world, "Norr")
    assert contribution.state == "reviewed" and contribution.excluded_reason is None


def test_a_contribution_of_another_period_is_404(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    contribution = world.contribution("Norr")
    response = web.client.post(
        f"/periods/999/contributions/{contribution.id}/transition/consolidate",
        data={"csrf_token": web.csrf_token("/"), "expected_version": contribution.version})
    assert response.status_code == 404


def test_stale_version_is_a_conflict(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    contribution = world.contribution("Norr")
    token = web.csrf_token(path(world))

    response = web.client.post(
        f"/periods/{world.period_id}/contributions/{contribution.id}/transition/consolidate",
        data={"csrf_token": token, "expected_version": contribution.version - 1})

    assert response.status_code == 409
    assert current(world, "Norr").state == "reviewed"


def test_missing_version_is_bad_input(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    contribution = world.contribution("Norr")
    response = web.client.post(
        f"/periods/{world.period_id}/contributions/{contribution.id}/transition/consolidate",
        data={"csrf_token": web.csrf_token("/")})
    assert response.status_code == 400
    assert "Formuläret saknar den version du såg." in response.get_data(as_text=True)


def test_forms_need_the_csrf_token(web, world):
    advance(world, "Norr", "reviewed")
    web.log_in_as("consolidator")
    contribution = world.contribution("Norr")

    for url in (f"/periods/{world.period_id}/contributions/{contribution.id}"
                "/transition/consolidate",
                f"/periods/{world.period_id}/contributions/{contribution.id}/exclusion",
                path(world, "/transition/submit_for_approval")):
        response = web.client.post(url, data={"expected_version": 1, "action": "exclude",
                                              "reason": "x"})
        assert response.status_code == 400, url
    contribution = current(world, "Norr")
    assert contribution.state == "reviewed" and contribution.excluded_reason is None


# -- submitting for approval, approving, returning ------------------------------------------

def test_submit_is_blocked_until_every_area_is_settled_and_says_which_remain(web, world):
    advance(world, "Norr", "consolidated")
    web.log_in_as("consolidator")

    html = page(web, world)

    assert "”Skicka för fastställelse” går inte ännu:" in html
    assert "Ännu inte sammanställda eller undantagna: Söder" in html
    assert "/transition/submit_for_approval" not in html
    response = consolidation_action(web, world, "submit_for_approval", token_from=path(world))
    assert response.status_code == 409
    assert consolidation(world).state == "open"


def test_the_whole_consolidation_round(web, world, other_web, audit_events):
    both_consolidated(world)
    web.log_in_as("consolidator")
    other_web.log_in_as("approver")

    html = page(web, world)
    assert input_values(html)["expected_version"]
    response = consolidation_action(web, world, "submit_for_approval", token_from=path(world))
    assert response.status_code == 302
    assert "Skickad för fastställelse" in page(web, world)
    assert consolidation(world).state == "awaiting_approval"

    approver_page = page(other_web, world)
    assert "Anmärkningar till samordnaren (obligatoriskt för att skicka tillbaka)" in approver_page
    assert ">Fastställ</button>" in approver_page

    # Returning needs a remark: nothing changes without one.
    response = consolidation_action(other_web, world, "return", remarks="  ")
    assert "Skriv minst en anmärkning." in shown_after_redirect(other_web, response)
    assert consolidation(world).state == "awaiting_approval"

    response = consolidation_action(other_web, world, "return",
                                    remarks="Rubrik 3 <saknas> i Söder.")
    assert response.status_code == 302
    assert consolidation(world).state == "open"
    html = page(web, world)
    assert "Anmärkningar från fastställaren" in html
    assert "Rubrik 3 &lt;saknas&gt; i Söder." in html

    consolidation_action(web, world, "submit_for_approval", token_from=path(world))
    response = consolidation_action(other_web, world, "approve", confirm_lock="1")
    assert response.status_code == 302
    assert "Fastställd" in page(other_web, world)
    assert consolidation(world).state == "approved"
    assert current(world, "Norr").state == "approved"
    assert len(audit_events("consolidation.approve")) == 1


def test_the_coordinator_may_not_approve(web, world):
    both_consolidated(world)
    run(world, "consolidator", flow.submit_for_approval, consolidation(world).id)
    web.log_in_as("consolidator")

    response = consolidation_action(web, world, "approve")

    assert response.status_code == 403
    assert consolidation(world).state == "awaiting_approval"


def test_approving_a_stale_version_is_a_conflict(web, world):
    both_consolidated(world)
    run(world, "consolidator", flow.submit_for_approval, consolidation(world).id)
    web.log_in_as("approver")
    token = web.csrf_token(path(world))

    response = web.client.post(path(world, "/transition/approve"),
                               data={"csrf_token": token, "expected_version": 1})

    assert response.status_code == 409
    assert consolidation(world).state == "awaiting_approval"


def test_unknown_action_is_bad_input(web, world):
    web.log_in_as("consolidator")
    response = consolidation_action(web, world, "explode")
    assert "Okänd åtgärd" in shown_after_redirect(web, response)


def test_page_in_english(web, world):
    advance(world, "Norr", "reviewed")
    fill_sections(world, "Söder", "drafter_south")
    web.log_in_as("consolidator")
    web.client.post("/language", data={"lang": "en", "next": "/",
                                       "csrf_token": web.csrf_token("/")})

    html = page(web, world)

    assert '<html lang="en">' in html
    assert "<h1>The consolidation for januari 2030</h1>" in html
    assert "City-wide topics" in html and "Edit the wording" in html
    assert ">Consolidate</button>" in html and "Exclude…" in html
    assert "Not yet consolidated or excluded: Norr, Söder" in html


def test_the_police_return_through_the_period_page_as_through_the_contribution_page(
        web, world, audit_events):
    """The police cannot see the consolidation page; a return without remarks posted to the
    period's route must say that remarks are required (on the contribution's page), not that
    the consolidation may not be viewed - and with remarks it returns, as from that page."""
    advance(world, "Norr", "police_review")
    web.log_in_as("reviewer")
    contribution = world.contribution()
    route = f"/periods/{world.period_id}/contributions/{contribution.id}/transition/return"
    token = web.csrf_token(f"/contributions/{contribution.id}")
    response = web.client.post(route, data={"csrf_token": token,
                                            "expected_version": contribution.version})
    html = shown_after_redirect(web, response)
    assert "Skriv minst en anmärkning." in html
    assert "sammanställning" not in html.split("<main", 1)[-1].split("</h1>", 1)[0].lower()
    assert audit_events("security.permission_denied") == []
    assert current(world, "Norr").state == "police_review"

    response = web.client.post(route, data={"csrf_token": token,
                                            "expected_version": contribution.version,
                                            "remark_general": "Komplettera avsnittet."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contributions/{contribution.id}"  # theirs to see
    assert current(world, "Norr").state == "returned"
    assert [e.action for e in audit_events("contribution.return")] == ["contribution.return"]


# -- errors where they happened ---------------------------------------------------------------

def test_a_reason_error_is_shown_at_its_box_on_the_consolidation_pages_address(web, world):
    advance(world, "Norr", "reviewed")
    contribution = world.contribution("Norr")
    web.log_in_as("consolidator")

    response = contribution_action(web, world, "Norr", "reopen", reason="Gäller 811228-9874.")

    key = f"reopen-{contribution.id}"
    assert response.headers["Location"] == f"{path(world)}#reason-{key}"
    html = shown_after_redirect(web, response)
    assert "personnummer" in field_error(html, f"reason-{key}")
    assert '<details class="periods-reason" open>' in html
    assert ">Gäller 811228-9874.</textarea>" in html
    again = page(web, world)
    assert invalid_fields(again) == [] and "811228" not in again


def test_an_exclusion_without_a_reason_is_shown_at_its_box(web, world):
    contribution = world.contribution("Söder")
    web.log_in_as("consolidator")

    response = exclusion(web, world, "Söder", "exclude", reason=" ")

    html = shown_after_redirect(web, response)
    assert field_error(html, f"exclude-{contribution.id}") == \
        "Fel: Ange ett skäl för att undanta bidraget."
    assert invalid_fields(page(web, world)) == []


def test_the_approvals_errors_are_at_the_lock_box_and_the_remarks(web, world):
    both_consolidated(world)
    run(world, "consolidator", flow.submit_for_approval, consolidation(world).id)
    web.log_in_as("approver")

    response = consolidation_action(web, world, "approve", token_from=path(world))
    assert response.headers["Location"] == f"{path(world)}#confirm-lock"
    html = shown_after_redirect(web, response)
    assert "Kryssa i rutan" in field_error(html, "confirm-lock")
    assert "Fastställelsen låser" in field_error(html, "confirm-lock")  # still described

    response = consolidation_action(web, world, "return", token_from=path(world),
                                    remarks="Se 811228-9874.")
    html = shown_after_redirect(web, response)
    assert "personnummer" in field_error(html, "remarks-return")
    assert ">Se 811228-9874.</textarea>" in html
    assert invalid_fields(page(web, world)) == []
    assert consolidation(world).state == "awaiting_approval"
