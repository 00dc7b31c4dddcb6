"""Consolidate every reviewed contribution at once: a confirmation that lists them, each its
own audit event, a contribution that changed since the page was opened skipped and reported
without failing the batch, and only the coordinator."""
from __future__ import annotations

import pytest

from app.core.errors import InvalidInput, InvalidTransition, NotAllowed
from app.periods import operations as consolidations
from tests import flow
from tests.factories import advance, data_of, events_since, head_seq, run
from tests.periods.test_consolidation_pages import current, page
from tests.support import refused
from tests.web_support import shown_after_redirect

CONFIRM = "/periods/{period}/consolidation/consolidate-all"


def both_reviewed(world) -> dict[int, int]:
    for area in ("Norr", "Söder"):
        advance(world, area, "reviewed")
    return {world.contribution(a).id: world.contribution(a).version for a in ("Norr", "Söder")}


def test_every_confirmed_contribution_is_consolidated_with_its_own_event(world):
    chosen = both_reviewed(world)
    before = head_seq()

    done = run(world, "consolidator", consolidations.consolidate_all_reviewed,
               world.period_id, chosen)

    assert done.consolidated == ["Norr", "Söder"] and done.changed == [] == done.not_listed
    assert current(world, "Norr").state == current(world, "Söder").state == "consolidated"
    events = events_since(before)
    assert [e.action for e in events] == ["contribution.consolidate"] * 2
    assert sorted(data_of(e)["area"] for e in events) == ["Norr", "Söder"]


def test_a_contribution_changed_since_is_skipped_and_reported(world):
    chosen = both_reviewed(world)
    south = world.contribution("Söder")
    # Someone reopens and the police approve again after the page was opened: a new version.
    run(world, "consolidator", flow.reopen, south.id, "Ett fel i texten.")
    run(world, "drafter_south", flow.resubmit, south.id)
    run(world, "reviewer_south", flow.approve, south.id)

    done = run(world, "consolidator", consolidations.consolidate_all_reviewed,
               world.period_id, chosen)

    assert done.consolidated == ["Norr"] and done.changed == ["Söder"]
    assert current(world, "Norr").state == "consolidated"
    assert current(world, "Söder").state == "reviewed"


def test_one_reviewed_after_the_page_was_opened_is_left_alone(world):
    advance(world, "Norr", "reviewed")
    chosen = {world.contribution("Norr").id: world.contribution("Norr").version}
    advance(world, "Söder", "reviewed")

    done = run(world, "consolidator", consolidations.consolidate_all_reviewed,
               world.period_id, chosen)

    assert done.consolidated == ["Norr"] and done.not_listed == ["Söder"]
    assert current(world, "Söder").state == "reviewed"


def test_nothing_consolidated_is_refused_and_changes_nothing(world):
    chosen = both_reviewed(world)
    stale = {contribution_id: version - 1 for contribution_id, version in chosen.items()}

    error, events = refused(world, "consolidator", InvalidTransition,
                            consolidations.consolidate_all_reviewed, world.period_id, stale)

    assert "Nothing was consolidated" in error.message and events == []
    refused(world, "consolidator", InvalidInput, consolidations.consolidate_all_reviewed,
            world.period_id, {})


@pytest.mark.parametrize("key", ["approver", "reviewer", "drafter", "admin", "auditor"])
def test_only_the_coordinator(world, key):
    chosen = both_reviewed(world)

    _, events = refused(world, key, NotAllowed, consolidations.consolidate_all_reviewed,
                        world.period_id, chosen)

    assert [e.action for e in events] == ["security.permission_denied"]
    assert data_of(events[0])["attempted"] == "contribution.consolidate_all"
    assert current(world, "Norr").state == "reviewed"


def test_the_page_offers_confirms_and_reports(web, world):
    chosen = both_reviewed(world)
    web.log_in_as("consolidator")
    confirm = CONFIRM.format(period=world.period_id)

    html = page(web, world)
    assert f'href="{confirm}"' in html and "Sammanställ alla 2 granskade bidrag…" in html
    assert 'aria-labelledby="topic-nav-heading"' in html
    html = web.client.get(confirm).get_data(as_text=True)
    for contribution_id, version in chosen.items():
        assert f'name="contribution_{contribution_id}_version" value="{version}"' in html
    assert ">Sammanställ 2 bidrag</button>" in html

    response = web.client.post(confirm, data={
        "csrf_token": web.csrf_token(confirm),
        **{f"contribution_{cid}_version": str(v) for cid, v in chosen.items()}})

    assert response.status_code == 302
    html = page(web, world)
    assert "Sammanställda: Norr, Söder." in html
    assert current(world, "Söder").state == "consolidated"
    assert "granskade bidrag…" not in html


def test_the_page_reports_a_skipped_one(web, world):
    chosen = both_reviewed(world)
    web.log_in_as("consolidator")
    confirm = CONFIRM.format(period=world.period_id)
    token = web.csrf_token(confirm)
    run(world, "consolidator", flow.reopen, world.contribution("Söder").id, "Fel.")

    response = web.client.post(confirm, data={
        "csrf_token": token,
        **{f"contribution_{cid}_version": str(v) for cid, v in chosen.items()}})

    assert response.status_code == 302
    html = page(web, world)
    assert "Sammanställda: Norr." in html
    assert "ändrats efter att du öppnade sidan: Söder." in html


@pytest.mark.parametrize("form", [{"contribution_x_version": "1"},
                                  {"contribution_1_version": "-3"}, {}])
def test_a_damaged_form_changes_nothing(web, world, form):
    both_reviewed(world)
    web.log_in_as("consolidator")
    confirm = CONFIRM.format(period=world.period_id)

    response = web.client.post(confirm, data={"csrf_token": web.csrf_token(confirm), **form})

    html = shown_after_redirect(web, response)
    assert 'id="error-consolidate-all"' in html
    assert ("Formuläret är skadat" in html) or ("Inga bidrag valdes" in html)
    assert current(world, "Norr").state == "reviewed"


def test_the_confirmation_is_refused_to_others(web, world):
    both_reviewed(world)
    web.log_in_as("approver")

    assert web.client.get(CONFIRM.format(period=world.period_id)).status_code == 403
