"""The workflow page: a diagram of each workflow drawn from its definition, and the text
alternative saying who may do what."""
from __future__ import annotations

import re

import pytest

from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW


def workflow_page(web, key: str = "drafter", language: str = "sv") -> str:
    web.log_in_as(key)
    if language == "en":
        web.client.post("/language", data={"lang": "en", "next": "/",
                                           "csrf_token": web.csrf_token("/")})
    response = web.client.get("/workflows")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_needs_a_signed_in_user(web, world):
    response = web.client.get("/workflows")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor",
                                 "admin"])
def test_every_role_sees_it_in_the_menu(web, world, key):
    html = workflow_page(web, key)
    assert '<a href="/workflows" aria-current="page">Arbetsflöde</a>' in html


def test_the_diagrams_draw_every_state_and_transition_of_the_definitions(web, world):
    html = workflow_page(web)

    assert html.count('role="img"') == 2
    for workflow in (CONTRIBUTION_WORKFLOW, CONSOLIDATION_WORKFLOW):
        for state in workflow.definition.states:
            assert f'data-state="{state.name}"' in html
            assert f">{state.label('sv')}</text>" in html
        for transition in workflow.definition.transitions:
            for source in transition.sources:
                assert (f'data-trigger="{transition.trigger}" data-from="{source}" '
                        f'data-to="{transition.dest}"') in html
    assert "Diagram: Ett områdes bidrag. Samma innehåll finns som text nedanför." in html
    assert "(Granskare (polis))" in html  # the roles on the arcs, translated
    assert "(systemet)" in html  # finalize is done by the system


def test_the_text_alternative_lists_who_may_do_what(web, world):
    html = workflow_page(web)

    rows = re.findall(r'<tr data-role="([a-z_]+)" data-trigger="([a-z_]+)">', html)
    contribution = {(role, trigger) for role, trigger in rows[:9]}
    expected = {(role, t.trigger)
                for role, transitions in CONTRIBUTION_WORKFLOW.triggers_by_role().items()
                for t in transitions}
    assert expected <= contribution
    assert ("system", "finalize") in set(rows)
    # The importer's state change is a declared transition too, with when the system fires it.
    assert ("system", "import_approved") in set(rows)
    assert "När periodens sammanställning fastställs." in html
    assert "När en samordnare importerar en äldre lägesbild som fastställts utanför" in html
    assert ("approver", "approve") in set(rows)
    assert ("consolidator", "submit_for_approval") in set(rows)
    assert "Alla avsnitt måste vara ifyllda." in html
    assert "Skriv minst en anmärkning." in html and "Ange ett skäl." in html
    assert '<li data-editor="consolidator">Samordnare: Sammanställd, Granskad' in html


def test_labels_are_escaped_in_the_svg(web, world):
    html = workflow_page(web)
    svg = html[html.index("<svg"):html.index("</svg>")]
    assert "<script" not in svg
    assert 'marker-end="url(#arrow-contribution)"' in svg


def test_in_english(web, world):
    html = workflow_page(web, language="en")

    assert '<html lang="en">' in html
    assert "<h1>Workflow</h1>" in html and "Who may do what" in html
    assert ">Police review</text>" in html and "Submit to police" in html
    assert "(Reviewer (police))" in html and "(the system)" in html
    assert "When the period&#39;s consolidation is approved." in html
    assert "Import (approved outside the system)" in html
    assert "Every section must be filled in." in html
