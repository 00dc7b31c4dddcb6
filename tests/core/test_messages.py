"""The services' refusals reach the user in the user's language: each message keeps its English
text (str(error), error.message, the audit trail) and is shown translated, with its parameters
filled in, workflow states and actions by their labels, and numbers grouped the reader's way."""
from __future__ import annotations

import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.pofile import read_po
from flask import session

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.contributions.operations import RemarkInput
from app.core.errors import DomainError, InvalidInput, InvalidTransition, NotAllowed, StaleVersion
from app.core.messages import N_, Label, Msg, translate
from app.core.text_rules import MAX_SECTION_CHARS, luhn_ok
from app.core.unit_of_work import operation
from app.periods import operations as consolidations
from tests.factories import SETUP, advance, run

APP = Path(__file__).resolve().parents[2] / "app"
OPERATIONS_PO = [APP / package / "translations" / "sv.po"
                 for package in ("core", "contributions", "periods", "admin")]


def shown(app, message, language: str) -> str:
    """What a user with `language` chosen sees for a refusal (as the error page shows it)."""
    with app.test_request_context("/"):
        session["lang"] = language
        flask_babel.refresh()  # the locale is cached per app context, shared by the test
        try:
            if isinstance(message, DomainError):
                return message.translated(flask_babel.gettext)
            return message.translated()
        finally:
            flask_babel.refresh()


def refusal(world, key: str, function, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        run(world, key, function, *args, **kwargs)
    return info.value


def personnummer() -> str:
    """A valid personnummer (YYMMDD-NNNC), built here so no real person's number is in git."""
    digits = "850709317"
    check = next(str(d) for d in range(10) if luhn_ok(digits + str(d)))
    return f"{digits[:6]}-{digits[6:]}{check}"


# --------------------------------------------------------------------------------------------
# Workflow refusals
# --------------------------------------------------------------------------------------------


def test_not_allowed_names_the_action_by_its_button_label(app, world):
    error = refusal(world, "drafter_south", contributions.transition,
                    world.contribution("Norr").id, "submit")
    assert isinstance(error, NotAllowed)
    assert error.message == "You do not have a role that may 'submit' this contribution."
    assert shown(app, error, "sv") == (
        "Du har ingen roll som får välja ”Skicka till polisen” för bidraget.")
    assert shown(app, error, "en") == (
        "You do not have a role that may 'Submit to police' this contribution.")


def test_wrong_state_names_the_state_by_its_label(app, world):
    contribution_id = world.contribution("Norr").id
    error = refusal(world, "reviewer", contributions.transition, contribution_id, "approve")
    assert isinstance(error, InvalidTransition)
    assert error.message == ("This cannot be done now: the contribution is in state 'draft'. "
                             "Reload to see its current state.")
    assert shown(app, error, "sv") == ("Det går inte att göra nu: bidraget har status ”Utkast”. "
                                       "Ladda om sidan för att se aktuell status.")
    assert shown(app, error, "en") == ("This cannot be done now: the contribution is in state "
                                       "'Draft'. Reload to see its current state.")


def test_editing_in_the_wrong_state_names_the_state(app, world):
    advance(world, "Norr", "police_review")
    section = world.sections("Norr")[0]
    error = refusal(world, "drafter", contributions.edit_section, section.id, "Ny text.",
                    section.version)
    assert error.message == ("The contribution cannot be edited by you in state "
                             "'police_review'.")
    assert shown(app, error, "sv") == (
        "Du kan inte redigera bidraget när det har status ”Polisgranskning”.")
    assert shown(app, error, "en") == (
        "The contribution cannot be edited by you in state 'Police review'.")


def test_stale_version_gives_both_versions(app, world):
    section = world.sections("Norr")[0]
    section_id, version = section.id, section.version
    run(world, "drafter", contributions.edit_section, section_id, "Första texten.", version)
    error = refusal(world, "drafter2", contributions.edit_section, section_id, "Andra texten.",
                    version)
    assert isinstance(error, StaleVersion)
    assert error.message == (
        f"The section has changed since you opened it (you had version {version}, it is now "
        f"version {version + 1}). Reload to see the changes.")
    assert shown(app, error, "sv") == (
        f"Någon har ändrat avsnittet medan du arbetade (du hade version {version}, nu finns "
        f"version {version + 1}). Ladda om sidan för att se ändringarna.")
    assert shown(app, error, "en") == error.message


def test_return_without_remarks(app, world):
    contribution = advance(world, "Norr", "police_review")
    error = refusal(world, "reviewer", contributions.transition, contribution.id, "return",
                    remarks=[RemarkInput("   ")])
    assert error.message == "At least one remark is required."
    assert shown(app, error, "sv") == "Skriv minst en anmärkning."
    assert shown(app, error, "en") == "At least one remark is required."


def test_submitting_with_empty_sections_lists_them(app, world):
    sections = world.sections("Norr")
    first = sections[0]
    run(world, "drafter", contributions.edit_section, first.id, "- Klart.", first.version)
    empty = "; ".join(s.topic.heading for s in world.sections("Norr")[1:])
    error = refusal(world, "drafter", contributions.transition, world.contribution("Norr").id,
                    "submit")
    assert isinstance(error, InvalidTransition)
    assert error.message == f"Every section must be filled before submitting. Empty: {empty}"
    assert shown(app, error, "sv") == (
        f"Alla avsnitt måste vara ifyllda innan bidraget skickas. Tomma: {empty}")


def test_a_failed_permission_guard_is_translated(app, world):
    """The guard's Msg goes through the engine and deny() untouched."""
    contribution = advance(world, "Norr", "police_review")
    error = refusal(world, "drafter2", contributions.transition, contribution.id, "withdraw")
    assert isinstance(error, NotAllowed)
    assert error.message == "Only the person who submitted the contribution may withdraw it."
    assert shown(app, error, "sv") == "Bara den som skickade bidraget kan dra tillbaka det."


def test_unsettled_consolidation_names_the_areas(app, world):
    advance(world, "Norr", "consolidated")
    consolidation_id = world.period().consolidation.id
    error = refusal(world, "consolidator", consolidations.transition, consolidation_id,
                    "submit_for_approval")
    assert error.message.endswith("Not yet: Söder")
    assert shown(app, error, "sv") == (
        "Alla bidrag måste först vara sammanställda eller undantagna med ett skäl. "
        "Återstår: Söder")


def test_excluding_without_a_reason(app, world):
    advance(world, "Norr", "reviewed")
    error = refusal(world, "consolidator", contributions.exclude,
                    world.contribution("Norr").id, "  ")
    assert shown(app, error, "sv") == "Ange ett skäl för att undanta bidraget."
    assert shown(app, error, "en") == "A reason is required to exclude a contribution."


def test_only_an_administrator(app, world):
    error = refusal(world, "drafter", admin.create_area, "Väster")
    assert isinstance(error, NotAllowed)
    assert shown(app, error, "sv") == "Bara en administratör får göra detta."


# --------------------------------------------------------------------------------------------
# Text rules: the details (positions, code points, limits) survive translation
# --------------------------------------------------------------------------------------------


def edit_first_section(world, text):
    section = world.sections("Norr")[0]
    return refusal(world, "drafter", contributions.edit_section, section.id, text,
                   section.version)


def test_personnummer_refusal_keeps_its_position(app, world):
    error = edit_first_section(world, f"Rad ett\nPersonen {personnummer()} greps.")
    assert isinstance(error, InvalidInput)
    assert error.message == (
        "The text contains what looks like a personal identity number (line 2, column 10). "
        "Remove it: such numbers must not be stored.")
    swedish = shown(app, error, "sv")
    assert swedish == (
        "Texten innehåller något som ser ut som ett personnummer (rad 2, kolumn 10). "
        "Ta bort det: sådana nummer får inte sparas.")
    assert personnummer()[7:] not in swedish


def test_several_identity_numbers_say_how_many_more(app, world):
    number = personnummer()
    error = edit_first_section(world, f"{number} och {number} och {number}")
    assert error.message.endswith("such numbers must not be stored. There are 2 more in the text.")
    assert shown(app, error, "sv").endswith(
        "sådana nummer får inte sparas. Det finns 2 till i texten.")


def test_too_long_text_groups_digits_the_readers_way(app, world):
    error = edit_first_section(world, "a" * (MAX_SECTION_CHARS + 1))
    assert error.message == "The text is 20,001 characters; the limit is 20,000."
    assert shown(app, error, "en") == "The text is 20,001 characters; the limit is 20,000."
    assert shown(app, error, "sv") == "Texten har 20\xa0001 tecken; högst 20\xa0000 är tillåtna."


def test_control_character_keeps_code_point_and_position(app, world):
    error = edit_first_section(world, "abc\x00def")
    assert error.message == ("The text contains the NUL character (U+0000) at line 1, column 4. "
                             "Remove it.")
    assert shown(app, error, "sv") == (
        "Texten innehåller NUL-tecknet (U+0000) på rad 1, kolumn 4. Ta bort det.")
    invisible = edit_first_section(world, "ab\u200bc")
    assert shown(app, invisible, "sv") == ("Texten innehåller ett osynligt formateringstecken "
                                           "(U+200B) på rad 1, kolumn 3. Ta bort det.")


def test_invalid_utf8_keeps_the_byte_position(app, world):
    error = edit_first_section(world, b"ok \xff")
    assert error.message == "The text is not valid UTF-8 (byte 4)."
    assert shown(app, error, "sv") == "Texten är inte giltig UTF-8 (byte 4)."


# --------------------------------------------------------------------------------------------
# Administration
# --------------------------------------------------------------------------------------------


def admin_refusal(function, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info, operation(SETUP):
        function(SETUP, *args, **kwargs)
    return info.value


def test_unknown_area_lists_the_known_ones(app, world):
    error = admin_refusal(admin.create_topic, "Trafik", area_name="Väster")
    assert error.message == "Unknown area 'Väster'. Known: Norr, Söder."
    assert shown(app, error, "sv") == "Okänt område ”Väster”. Befintliga: Norr, Söder."
    assert shown(app, error, "en") == error.message


def test_unknown_period_when_there_is_none(app):
    with pytest.raises(InvalidInput) as info:
        admin.find_period("mars 2031")
    error = info.value
    assert error.message == "Unknown period 'mars 2031'. Known: none."
    assert shown(app, error, "sv") == "Okänd period ”mars 2031”. Befintliga: inga."


def test_empty_name_names_the_field(app, world):
    error = admin_refusal(admin.create_organisation, "   ", "police")
    assert error.message == "The organisation name must not be empty."
    assert shown(app, error, "sv") == "Ange organisationens namn."
    too_long = admin_refusal(admin.create_period, "x" * 101, drafting_deadline=None,
                             review_deadline=None, consolidation_deadline=None,
                             approval_deadline=None)
    assert too_long.message == "The period name is longer than 100 characters."
    assert shown(app, too_long, "sv") == "Högst 100 tecken är tillåtna i periodens namn."


def test_role_names_are_shown_in_swedish(app, world):
    error = admin_refusal(admin.grant_role, world.user("drafter"), "consolidator", "Norr")
    assert error.message == "The role 'consolidator' is city-wide; do not give an area."
    assert shown(app, error, "sv") == "Rollen ”samordnare” gäller hela staden; ange inget område."
    assert shown(app, error, "en") == error.message


# --------------------------------------------------------------------------------------------
# The mechanism, and the catalogue
# --------------------------------------------------------------------------------------------


def test_parameters_resolve_in_the_language_shown(app):
    message = Msg(N_("The text contains {what} ({code_point}) at line {line}, column {column}. "
                     "Remove it."),
                  what=Msg(N_("a control character")), code_point="U+0007", line=1200,
                  column=3)
    # English text as before; numbers without the "," spec are not grouped (positions).
    assert message == "The text contains a control character (U+0007) at line 1200, column 3. " \
                      "Remove it."
    assert shown(app, message, "sv") == ("Texten innehåller ett styrtecken (U+0007) på rad "
                                         "1200, kolumn 3. Ta bort det.")
    label = Label("police_review", sv="Polisgranskning", en="Police review")
    assert Msg("State '{state}'.", state=label) == "State 'police_review'."
    assert shown(app, Msg("State '{state}'.", state=label), "sv") == "State 'Polisgranskning'."
    assert shown(app, Msg("State '{state}'.", state=label), "en") == "State 'Police review'."


def test_without_a_request_the_message_reads_in_english():
    """The CLI and logs: no app, no request, no catalogue."""
    assert translate("{n:,} of {label}", {"n": 12345, "label": Label("x", sv="y")},
                     lambda text: text) == "12,345 of x"


def test_swedish_translations_keep_every_placeholder():
    entries = []
    for path in OPERATIONS_PO:
        with path.open("rb") as handle:
            entries += [m for m in read_po(handle, locale="sv") if m.id]
    field = re.compile(r"\{[^{}]*\}")
    assert len(entries) > 50
    for message in entries:
        assert message.string, message.id
        # A plural entry: every Swedish form keeps the placeholders of the English plural.
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for string in strings:
            assert string, message.id
            assert sorted(field.findall(ids[-1])) == sorted(field.findall(string)), message.id


def test_every_service_message_has_a_swedish_translation():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "tools" / "translations.py"
    spec = importlib.util.spec_from_file_location("translations_tool", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    # The operations, policies and effects of every domain, the core, and sign-in.
    pattern = re.compile(r"app/(core/\w+|\w+/(operations|policy|effects)|web/auth)\.py:")
    found = tool.extract()
    assert "Unknown area '{name}'. Known: {known}." in found  # Msg(N_(...)) is extracted
    assert any(pattern.match(place) for place in found["Unknown area '{name}'. Known: {known}."])
    missing = {msgid for msgid, places in tool.missing("sv").items()
               if any(pattern.match(place) for place in places)}
    assert not missing, sorted(missing)
