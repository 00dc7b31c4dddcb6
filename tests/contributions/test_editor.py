"""The section editor: who may open it, saving with a version check, the conflict page that
keeps what the user typed, and bad input refused with the user's text kept."""
from __future__ import annotations

import hashlib
import json

import pytest

from app.contributions import operations as contributions
from app.models import SectionRevision
from tests.contributions.support import (
    denials,
    fresh_section,
    page,
    save,
    text_of,
    textarea,
    use_english,
)
from tests.factories import advance, run
from tests.web_support import field_error, input_values, invalid_fields, shown_after_redirect


def editor_path(section_id: int) -> str:
    return f"/sections/{section_id}/edit"


def test_drafter_opens_the_editor_with_the_current_text(web, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "- Första\n- Andra", 1)
    web.log_in_as("drafter")

    html = page(web, editor_path(section.id))

    assert "<h1>Redigera ”1. Unga i risk för kriminalitet”</h1>" in html
    assert '<label for="section-text">Text för ”1. Unga i risk för kriminalitet”</label>' in html
    assert textarea(html, "text") == "- Första\n- Andra"
    assert input_values(html)["expected_version"] == [str(fresh_section(section.id).version)]
    assert "contributions.js" in html and "data-warn-unsaved" in html


def test_drafter_saves_a_section(web, world):
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")

    response = save(web, section.id, "- Arbetet pågår.\n- Nya möten.")

    assert response.status_code == 302
    contribution_id = world.contribution("Norr").id
    assert response.headers["Location"] == f"/contributions/{contribution_id}#section-{section.id}"
    saved = fresh_section(section.id)
    assert saved.text == "- Arbetet pågår.\n- Nya möten."
    assert saved.version == 2
    html = page(web, f"/contributions/{contribution_id}")
    assert "Texten för ”1. Unga i risk för kriminalitet” sparades." in html
    assert "<li>Nya möten.</li>" in html


def test_saving_the_same_text_says_nothing_changed(web, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Samma", 1)
    web.log_in_as("drafter")

    response = save(web, section.id, "Samma")

    assert response.status_code == 302
    assert fresh_section(section.id).version == 2
    html = page(web, response.headers["Location"].split("#")[0])
    assert "Inget att spara" in html


def test_saving_needs_the_csrf_token(web, world):
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")

    response = save(web, section.id, "Text", token=False)

    assert response.status_code == 400
    assert fresh_section(section.id).text == ""


@pytest.mark.parametrize("key", ["reviewer", "approver", "auditor", "drafter_south", "admin"])
def test_editor_refused_without_an_editing_role_and_logged(web, world, key):
    section = world.sections("Norr")[0]
    web.log_in_as(key)

    response = web.client.get(editor_path(section.id))

    assert response.status_code == 403
    assert len(denials()) == 1


@pytest.mark.parametrize("key", ["reviewer", "drafter_south", "consolidator"])
def test_saving_refused_without_an_editing_role_and_logged(web, world, key):
    section = world.sections("Norr")[0]
    web.log_in_as(key)
    token = web.csrf_token("/")

    response = web.client.post(editor_path(section.id), data={
        "csrf_token": token, "expected_version": "1", "text": "Intrång"})

    assert response.status_code in (403, 409)
    assert fresh_section(section.id).text == ""
    if key != "consolidator":  # the consolidator may edit, only not in this state
        assert response.status_code == 403
        assert [d["attempted"] for d in denials(section.id)] == ["section.edit"]


def test_editor_is_a_conflict_when_the_state_does_not_allow_editing(web, world, audit_events):
    advance(world, "Norr", "police_review")
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")

    response = web.client.get(editor_path(section.id))

    assert response.status_code == 409
    assert "Du kan inte redigera bidraget när det har status ”Polisgranskning”." in \
        response.get_data(as_text=True)
    # Refused as the save would be, and logged as the save's refusal is.
    refused = audit_events("security.transition_refused")
    assert [json.loads(e.data)["attempted"] for e in refused] == ["section.edit"]
    assert refused[0].object_id == str(section.id)


def test_consolidator_edits_wording_of_a_reviewed_contribution(web, world):
    advance(world, "Norr", "reviewed")
    section = world.sections("Norr")[0]
    web.log_in_as("consolidator")

    response = save(web, section.id, "Justerad formulering.")

    assert response.status_code == 302
    saved = fresh_section(section.id)
    assert saved.text == "Justerad formulering."
    assert saved.revisions[-1].cause == "consolidation_edit"


def test_unknown_section_is_404(web, world):
    web.log_in_as("drafter")

    assert web.client.get(editor_path(9999)).status_code == 404


# -- the conflict page -------------------------------------------------------------------------

def test_stale_save_shows_both_texts_and_keeps_what_was_typed(web, world, other_web):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Mötet hölls i mars.", 1)
    web.log_in_as("drafter")
    other_web.log_in_as("drafter2")
    seen = fresh_section(section.id).version
    assert save(other_web, section.id, "Mötet hölls i april.").status_code == 302

    response = save(web, section.id, "Mötet hölls i mars med skolan.", version=seen)

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Någon annan har sparat texten" in html
    assert "Sparad av Drafter2, Norra stadsdelsförvaltningen" in html
    saved_part = html[html.index('id="saved-text"'):]
    assert "Mötet hölls i april." in saved_part[:saved_part.index("</div>")]
    # Word diff from the saved text to the user's: both marked, with text labels.
    assert ('<del><span class="contrib-sr-only">Borttaget: </span>april.'
            '<span class="contrib-sr-only"> (slut på borttagning)</span></del>') in html
    assert ('<ins><span class="contrib-sr-only">Tillagt: </span>mars med skolan.'
            '<span class="contrib-sr-only"> (slut på tillägg)</span></ins>') in html
    # Nothing typed is lost, and the form saves against the new version.
    assert textarea(html, "text") == "Mötet hölls i mars med skolan."
    current = fresh_section(section.id)
    assert current.text == "Mötet hölls i april."
    assert input_values(html)["expected_version"] == [str(current.version)]
    assert 'data-dirty="true"' in html

    again = save(web, section.id, textarea(html, "text"), version=current.version)

    assert again.status_code == 302
    assert fresh_section(section.id).text == "Mötet hölls i mars med skolan."


def test_conflict_page_in_english(web, world, other_web):
    section = world.sections("Norr")[0]
    use_english(web)
    web.log_in_as("drafter")
    other_web.log_in_as("drafter2")
    assert save(other_web, section.id, "Först.").status_code == 302

    response = save(web, section.id, "Min text.", version=1)

    assert response.status_code == 409
    text = text_of(response.get_data(as_text=True))
    assert "Someone else saved this text" in text
    assert "Your text was not saved, and nothing was lost" in text
    assert "Removed: Först." in text and "Added: Min text." in text


def test_a_save_from_the_same_persons_other_tab_is_not_someone_elses(web, world):
    """The same drafter in two tabs: the page says she saved it elsewhere, not "someone else"."""
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")
    first_tab_version = fresh_section(section.id).version
    assert save(web, section.id, "Sparat i den andra fliken.",
                version=first_tab_version).status_code == 302

    response = save(web, section.id, "Skrivet i den första fliken.", version=first_tab_version)

    assert response.status_code == 409
    text = text_of(response.get_data(as_text=True))
    assert "Du har sparat texten på annat håll" in text
    assert "Sparad av dig" in text
    assert "Någon annan" not in text
    assert "Skrivet i den första fliken." in text  # nothing lost
    assert fresh_section(section.id).text == "Sparat i den andra fliken."


# -- bad input -----------------------------------------------------------------------------------

BAD_TEXTS = {
    "personnummer": ("Kontakt: 811228-9874 var med.", "personnummer"),
    "control character": ("Rad ett\x07 rad två", "U+0007"),
    "too long": ("a" * 20_001, "20"),
}


@pytest.mark.parametrize("case", BAD_TEXTS)
def test_bad_text_is_refused_with_the_message_and_the_text_kept(web, world, case):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Sparad text.", 1)
    typed, in_message = BAD_TEXTS[case]
    web.log_in_as("drafter")

    response = save(web, section.id, typed)

    html = shown_after_redirect(web, response)
    error = html[html.index('id="section-text-error"'):]
    error = error[:error.index("</p>")]
    assert in_message in error
    assert "Inget sparades. Din text finns kvar i rutan nedan." in html
    assert 'aria-invalid="true"' in html
    kept = textarea(html, "text")
    assert kept == typed.replace("\r", "")
    assert fresh_section(section.id).text == "Sparad text."
    assert len(fresh_section(section.id).revisions) == 1


def test_missing_version_is_bad_input(web, world):
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")

    response = web.client.post(editor_path(section.id), data={
        "csrf_token": web.csrf_token(editor_path(section.id)), "text": "Text"})

    assert response.status_code == 400
    assert fresh_section(section.id).text == ""
    assert SectionRevision.query.filter_by(section_id=section.id).count() == 0


def test_conflict_diff_ignores_the_browsers_line_breaks(web, world, other_web):
    """Browsers send CRLF; the diff compares the text as it would be saved."""
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Se nedan.", 1)
    web.log_in_as("drafter")
    other_web.log_in_as("drafter2")
    assert save(other_web, section.id, "Se nedan.\n- Från norr.").status_code == 302

    response = save(web, section.id, "Se nedan.\r\n- Från söder.", version=2)

    assert response.status_code == 409
    diff = response.get_data(as_text=True).split('class="contrib-diff">')[1].split("</div>")[0]
    assert diff.startswith("Se nedan.\n- Från <del>")
    assert diff.count("<ins>") == 1 and "söder." in diff


def test_wording_edit_returns_to_the_page_it_came_from(web, world):
    """The coordinator edits from the consolidation page and lands back there."""
    advance(world, "Norr", "reviewed")
    section = world.sections("Norr")[0]
    back = f"/periods/{world.period_id}/consolidation"
    web.log_in_as("consolidator")
    html = page(web, f"{editor_path(section.id)}?next={back}")
    assert back in input_values(html)["next"]  # (the language switch carries its own next)
    token = input_values(html)["csrf_token"][0]
    response = web.client.post(editor_path(section.id), data={
        "csrf_token": token, "text": "- Justerad formulering.", "next": back,
        "expected_version": fresh_section(section.id).version})
    assert response.status_code == 302 and response.headers["Location"] == back
    assert fresh_section(section.id).text == "- Justerad formulering."


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_wording_edit_never_returns_off_site(web, world, target):
    advance(world, "Norr", "reviewed")
    section = world.sections("Norr")[0]
    web.log_in_as("consolidator")
    html = page(web, editor_path(section.id))
    response = web.client.post(editor_path(section.id), data={
        "csrf_token": input_values(html)["csrf_token"][0], "text": "- Ny.", "next": target,
        "expected_version": fresh_section(section.id).version})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/contributions/{world.contribution().id}")


def test_an_error_is_shown_at_the_box_on_the_editors_own_address_once(web, world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Sparad text.", 1)
    web.log_in_as("drafter")
    typed = "Första raden.\nPersonen 811228-9874 greps."

    response = save(web, section.id, typed)

    assert response.headers["Location"] == f"/sections/{section.id}/edit"
    html = shown_after_redirect(web, response)
    message = field_error(html, "section-text")
    assert "rad 2, kolumn 10" in message and "Inget sparades" in message
    assert textarea(html, "text") == typed
    # The version the text was typed on is kept: a change by someone else meanwhile is
    # still a conflict, never overwritten.
    assert input_values(html)["expected_version"] == [str(fresh_section(section.id).version)]
    again = web.client.get(f"/sections/{section.id}/edit").get_data(as_text=True)
    assert invalid_fields(again) == [] and textarea(again, "text") == "Sparad text."


def test_a_text_too_large_to_keep_is_shown_in_place_with_the_language_switch_to_the_page(
        web, world):
    section = world.sections("Norr")[0]
    web.log_in_as("drafter")
    # Words that do not compress: more than the session cookie can carry.
    typed = "Lång text med 811228-9874. " + " ".join(
        hashlib.sha256(str(n).encode()).hexdigest()[:8] for n in range(1200))

    response = save(web, section.id, typed)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "personnummer" in field_error(html, "section-text")
    assert textarea(html, "text") == typed
    assert f'name="next" value="/sections/{section.id}/edit"' in html
