"""The review diff (what changed since the previous submission) and the history tab."""
from __future__ import annotations

from app.contributions import operations as contributions
from app.contributions.operations import RemarkInput
from tests.contributions.support import page, text_of, use_english
from tests.factories import advance, run


def returned_and_fixed(world):
    """Submitted, returned with a remark on the first section, fixed and resubmitted."""
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    first = world.sections("Norr")[0]
    run(world, "reviewer", contributions.transition, contribution.id, "return",
        remarks=[RemarkInput("Beskriv resultaten.", first.id)])
    first = world.sections("Norr")[0]
    before = first.text
    run(world, "drafter", contributions.edit_section, first.id,
        before.replace("enligt plan", "bättre än väntat") + "\n- Tre nya möten.",
        first.version)
    run(world, "drafter", contributions.transition, contribution.id, "resubmit",
        unanswered_confirmed=True)
    return contribution.id, first.id


# -- review diff -------------------------------------------------------------------------------

def test_first_submission_shows_no_diff(web, world):
    advance(world, "Norr", "police_review")
    web.log_in_as("reviewer")

    html = page(web, f"/contributions/{world.contribution('Norr').id}")

    assert "Ändringar sedan förra inskickningen" not in html
    assert "<ins>" not in html.split('class="contrib-sections"')[1]


def test_reviewer_sees_what_was_fixed_after_a_return(web, world):
    contribution_id, first_id = returned_and_fixed(world)
    web.log_in_as("reviewer2")

    html = page(web, f"/contributions/{contribution_id}")

    first = html[html.index(f'id="section-{first_id}"'):]
    first = first[:first.index("</section>")]
    assert "Ändringar sedan förra inskickningen" in first
    assert ('<del><span class="contrib-sr-only">Borttaget: </span>enligt plan.'
            in first.replace("enligt plan. ", "enligt plan."))
    assert '<ins><span class="contrib-sr-only">Tillagt: </span>bättre än väntat.' in first
    assert "Tre nya möten." in first
    # The remark it answered is beside it.
    assert "Beskriv resultaten." in first
    second_id = world.sections("Norr")[1].id
    second = html[html.index(f'id="section-{second_id}"'):]
    second = second[:second.index("</section>")]
    assert "Inga ändringar." in second and "<ins>" not in second
    # The legend explains the marks in words.
    assert "Så markeras ändringar:" in html


def test_review_diff_in_english(web, world):
    contribution_id, _ = returned_and_fixed(world)
    use_english(web)
    web.log_in_as("reviewer2")

    text = text_of(page(web, f"/contributions/{contribution_id}"))

    assert "Changes since the previous submission" in text
    assert "Added: bättre än väntat." in text and "Removed: enligt plan." in text


# -- history -----------------------------------------------------------------------------------

def test_history_lists_every_step_with_who_when_and_what(web, world):
    contribution_id, first_id = returned_and_fixed(world)
    web.log_in_as("auditor")

    html = page(web, f"/contributions/{contribution_id}/history")
    text = text_of(html)

    assert 'aria-current="page">Historik</a>' in html
    actions = [chunk.split('"')[0] for chunk in html.split('data-action="')[1:]]
    assert actions == ["section.edit"] * 4 + ["contribution.submit", "contribution.return",
                                              "section.edit", "contribution.resubmit"]
    # The labels of app/audit/labels.py, the same as on the auditors' pages.
    assert "Bidraget skickat till polisen" in text and "Bidraget återsänt för ändringar" in text
    assert "Status ändrades från Utkast till Polisgranskning." in text
    assert "Status ändrades från Polisgranskning till Återsänd." in text
    assert "Reviewer, Polisen – lokalpolisområde Norr" in text
    assert "Drafter, Norra stadsdelsförvaltningen" in text
    assert "1. Unga i risk för kriminalitet: Beskriv resultaten." in text
    assert "Text ändrad: 1. Unga i risk för kriminalitet" in text


def test_history_shows_the_diff_of_each_edit(web, world):
    contribution_id, _ = returned_and_fixed(world)
    web.log_in_as("drafter")

    html = page(web, f"/contributions/{contribution_id}/history")

    events = html.split('<li class="contrib-event"')[1:]
    fix = [e for e in events if 'data-action="section.edit"' in e][-1]
    assert '<del><span class="contrib-sr-only">Borttaget: </span>enligt plan.' in \
        fix.replace("enligt plan. ", "enligt plan.")
    assert '<ins><span class="contrib-sr-only">Tillagt: </span>bättre än väntat.' in fix
    first_edit = events[0]
    assert "<ins>" in first_edit and "<del>" not in first_edit  # from empty to the first text


def test_history_times_are_stockholm_time(web, world, app):
    from datetime import UTC, datetime

    from app.core.clock import frozen_at

    section = world.sections("Norr")[0]
    with frozen_at(datetime(2030, 1, 5, 23, 30, tzinfo=UTC)):
        run(world, "drafter", contributions.edit_section, section.id, "Text.", 1)
    web.log_in_as("drafter")

    html = page(web, f"/contributions/{world.contribution('Norr').id}/history")

    assert ">2030-01-06 00:30</time>" in html  # UTC+1 in winter


def test_history_leaves_out_refused_attempts(web, world, other_web):
    contribution_id = world.contribution("Norr").id
    other_web.log_in_as("drafter_south")
    assert other_web.client.get(f"/contributions/{contribution_id}").status_code == 403
    web.log_in_as("drafter")

    html = page(web, f"/contributions/{contribution_id}/history")

    assert "security." not in html
    assert "Inget har hänt ännu." in html


def test_history_in_english(web, world):
    contribution_id, _ = returned_and_fixed(world)
    use_english(web)
    web.log_in_as("consolidator")

    text = text_of(page(web, f"/contributions/{contribution_id}/history"))

    assert "Everything that has happened to this contribution, oldest first." in text
    assert "Contribution returned for changes" in text
    assert "Contribution resubmitted to the police" in text
    assert "Status changed from Police review to Returned." in text
    assert "Text edited: 1. Unga i risk för kriminalitet" in text


def test_consolidation_edit_is_labelled_in_the_history(web, world):
    advance(world, "Norr", "reviewed")
    section = world.sections("Norr")[0]
    run(world, "consolidator", contributions.edit_section, section.id, "Ny formulering.",
        section.version)
    web.log_in_as("drafter")

    text = text_of(page(web, f"/contributions/{world.contribution('Norr').id}/history"))

    assert "Formulering ändrad av samordnaren: 1. Unga i risk för kriminalitet" in text
    assert "Consolidator, Stadsledningskontoret" in text
