"""Cross-references: a city-wide section handled within one of the area's local topics."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, StaleVersion
from app.core.unit_of_work import operation
from app.documents.cross_references import (
    cross_reference_sentence,
    find_reference,
    rendered_text,
    set_cross_reference,
    split_sentence,
)
from app.documents.export import export_contribution
from app.extensions import db
from app.models import AuditEvent, Section, Topic
from tests.documents.support import read_docx
from tests.factories import SETUP, advance, run


def _link(world, key="drafter", city_index=0, topic_id=None, version=None):
    sections = world.sections()
    city, local = sections[city_index], sections[-1]
    return run(world, key, set_cross_reference, city.id,
               local.topic_id if topic_id is None else topic_id,
               city.version if version is None else version)


def test_the_sentence_follows_the_local_topic_even_after_a_rename(world):
    _link(world)
    city = world.sections()[0]
    assert rendered_text(city) == ("Arbetet hanteras inom ramen för det lokalt prioriterade "
                                   "området trygghet i norr, se nedan.")
    local_topic = db.session.get(Topic, world.sections()[-1].topic_id)
    with operation(SETUP):
        local_topic.title = "Otrygga brottsutsatta platser"
    city = world.sections()[0]
    assert rendered_text(city) == ("Arbetet hanteras inom ramen för det lokalt prioriterade "
                                   "området otrygga brottsutsatta platser, se nedan.")
    exported = export_contribution(world.user("consolidator"), world.contribution().id)
    cell = read_docx(exported.data).tables[0].rows[1].cells[2]
    assert cell.text == rendered_text(city)


def test_own_text_follows_the_sentence(world):
    _link(world)
    city = world.sections()[0]
    run(world, "drafter", contributions.edit_section, city.id, "- Dessutom: en punkt.",
        city.version)
    city = world.sections()[0]
    assert rendered_text(city).split("\n") == [
        cross_reference_sentence(city.handled_in_topic), "- Dessutom: en punkt."]
    assert city.is_filled


def test_the_link_is_audited_and_can_be_removed(world):
    _link(world)
    city = world.sections()[0]
    run(world, "drafter", set_cross_reference, city.id, None, city.version)
    assert world.sections()[0].handled_in_topic_id is None
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "section.cross_reference").order_by(AuditEvent.seq)).all()
    assert [json.loads(e.data)["handled_in_topic"] for e in events] == ["Trygghet i norr", None]
    assert events[0].contribution_id == world.contribution().id


def test_only_a_local_topic_of_this_contribution(world):
    south_topic = world.sections("Söder")[-1].topic_id
    with pytest.raises(InvalidInput, match="not one of this contribution's local topics"):
        _link(world, topic_id=south_topic)
    city_topic = world.sections()[1].topic_id
    with pytest.raises(InvalidInput, match="not one of this contribution's local topics"):
        _link(world, topic_id=city_topic)
    with pytest.raises(InvalidInput, match="Only a city-wide topic"):
        _link(world, city_index=-1)


def test_who_and_when(world):
    with pytest.raises(NotAllowed):
        _link(world, key="drafter_south")
    with pytest.raises(NotAllowed):
        _link(world, key="reviewer")
    with pytest.raises(StaleVersion):
        _link(world, version=99)
    advance(world, "Norr", "police_review")
    with pytest.raises(InvalidTransition):
        _link(world)


def test_split_sentence():
    title, rest = split_sentence("Arbetet hanteras inom ramen för det lokalt prioriterade "
                                 "området  kriminella konflikter, se nedan.\n- Mer.")
    assert (title, rest) == ("kriminella konflikter", "- Mer.")
    assert split_sentence("Något annat.") == (None, "Något annat.")


@pytest.mark.parametrize("text, names, rest", [
    ("Arbetet hanteras inom ramen för det lokalt prioriterade området otrygga \n\n"
     "brottsutsatta platser, se nedan.", ["Otrygga brottsutsatta platser"], ""),
    ("Arbetet hanteras inom ramen för de lokalt prioriterade områdena nyrekrytering och \n"
     "kriminella konflikter, se nedan.\n- Och mer.", ["Nyrekrytering", "Kriminella konflikter"],
     "- Och mer."),
    ("hanteras inom ramen för det lokalt prioriterade området Våld och hot, se nedan",
     ["Våld och hot"], ""),
    ("Arbetet hanteras inom ramen för de lokalt prioriterade områdena våld och hot och "
     "nyrekrytering, se nedan.", ["Våld och hot", "Nyrekrytering"], ""),
])
def test_the_sentence_is_found_as_people_wrote_it(text, names, rest):
    known = ["Nyrekrytering", "Kriminella konflikter", "Otrygga brottsutsatta platser",
             "Våld och hot"]
    found = find_reference(text, known)
    assert found is not None and (found.names, found.rest) == (names, rest)


@pytest.mark.parametrize("text", [
    "Arbetet hanteras inom stadsdelsnämndernas och polisens linjeorganisationer.",
    "Arbetet hanteras inom ramen för det lokalt prioriterade området okänt, se nedan.",
    "Arbetet hanteras inom ramen för de lokalt prioriterade områdena nyrekrytering och "
    "nyrekrytering, se nedan.",
])
def test_no_reference_without_the_sentence_or_with_unknown_names(text):
    assert find_reference(text, ["Nyrekrytering"]) is None


def test_a_section_links_two_local_topics_and_the_sentence_names_both(world):
    with operation(SETUP):
        topic = admin.create_topic(SETUP, "Nyrekrytering", area_name="Norr")
        db.session.add(Section(contribution_id=world.contribution().id, topic_id=topic.id))
    sections = world.sections()
    first, second = [s for s in sections if s.topic.scope == "local"]
    city = sections[0]
    run(world, "drafter", set_cross_reference, city.id, first.topic_id, city.version,
        second.topic_id)
    city = world.sections()[0]
    assert rendered_text(city) == (
        "Arbetet hanteras inom ramen för de lokalt prioriterade områdena "
        f"{first.topic.title.lower()} och {second.topic.title.lower()}, se nedan.")
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "section.cross_reference")).one()
    assert json.loads(event.data)["also_handled_in_topic"] == second.topic.title
    with pytest.raises(InvalidInput, match="two different local topics"):
        run(world, "drafter", set_cross_reference, city.id, first.topic_id, city.version,
            first.topic_id)
    run(world, "drafter", set_cross_reference, city.id, None, city.version)
    city = world.sections()[0]
    assert (city.handled_in_topic_id, city.also_handled_in_topic_id) == (None, None)
