"""Demo data (`flask demo load`): the seed document's december 2022 for Järva, approved through
the real flow, and a current period with a contribution in every state.

The expected texts below are copied from the seed document (tests/fixtures/000_1dce9511288ad7b6.txt)
by hand, not imported from app/demo_texts.py, so the test checks the demo against the source.
"""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.verify import verify_chain
from app.demo.loader import DEMO_PASSWORD, DemoRefused, load_demo
from app.documents.cross_references import linked_topics, rendered_text
from app.extensions import db
from app.models import (
    Area,
    AuditEvent,
    Contribution,
    Membership,
    Organisation,
    Period,
    Remark,
    Role,
    Topic,
    TopicScope,
    User,
)

NOW = datetime(2024, 5, 15, 10, 0, tzinfo=UTC)
CURRENT = "juni 2024"  # the month after NOW
PAST = "december 2022"

SEED_DOCUMENT = "000_1dce9511288ad7b6.txt"
BULLET_GLYPH = "\uf0fc"

# The seed's ten city-wide topics, in order, and its comment for each.
SEED_CITY = [
    ("Riktat arbete mot avgränsade platser och utsatta områden",
     "Arbetet hanteras inom ramen för det lokalt prioriterade området otrygga brottsutsatta "
     "platser, se nedan."),
    ("Unga i risk för kriminalitet",
     "Arbetet hanteras inom ramen för de lokalt prioriterade områdena nyrekrytering och "
     "kriminella konflikter, se nedan."),
    ("Avhopparverksamhet för kriminella",
     "Arbetet hanteras inom ramen för det lokalt prioriterade området kriminella konflikter, "
     "se nedan."),
    ("Särskilt utsatta och sårbara brottsoffer",
     "Arbetet hanteras inom stadsdelsnämndernas och polisens linjeveorganisationer."),
    ("Otillåten påverkan",
     "Arbetet hanteras inom ramen för det lokalt prioriterade området otillåten påverkan, "
     "se nedan."),
    ("Skolan som brottsplats",
     "Arbetet hanteras inom skolans och polisens linjeveorganisationer."),
    ("Arbete mot våldsbejakande extremism",
     "Se stadsdelsnämndernas reviderade handlingsplaner mot våldsbejakande extremism."),
    ("Otillåtna bosättningar",
     "Arbetet hanteras inom stadsdelsnämndernas och polisens linjeorganisationer."),
    ("Ordningsvakter",
     "Arbetet hanteras inom stadsdelsnämndernas och polisens linjeorganisationer."),
    ("Kameraövervakning",
     "Arbetet hanteras inom stadsdelsnämndernas och polisens linjeorganisationer."),
]

LOCAL_TOPICS = ["Nyrekrytering", "Kriminella konflikter", "Otillåten påverkan",
                "Otrygga brottsutsatta platser"]

# The seed's local bullets, grouped under the topic they belong to. In the document each
# group after the first stands one heading too low (see tests/fixtures/README.md): the last
# three bullets under "Kriminella konflikter" continue Nyrekrytering, the Trefas/SIG bullets
# under "Otillåten påverkan" are Kriminella konflikter's, the bullets under "Otrygga
# brottsutsatta platser" are Otillåten påverkan's, and Otrygga's own comment is missing.
GENERALLY = ("Arbetet har generellt lett till större förståelse för varandras uppdrag samt "
             "förstärkt samverkan, både på medarbetar- och på chefsnivå.")
SEED_LOCAL = {
    "Nyrekrytering": [
        GENERALLY,
        "Löpande arbete i de sju samverkans-naven utifrån en gemensam vägledning.",
        "Grundskolechef har ersatt rektorer i naven som bidragit till förenklat "
        "beslutsfattande.",
        "En projektledare har tillsatts som leder naven.",
        "De våldspreventiva programmen MVP och Agera tillsammans pågår i de kommunala skolorna.",
        "Utsättningsmöten sker i polishuset varje fredag, rutin har upprättats.",
        # printed under "Kriminella konflikter" in the seed:
        "I dagsläget inkluderar naven enbart kommunala skolor, men arbete pågår för att på sikt "
        "inkludera även friskolor.",
        "Naven ska arbeta både på individ- och gruppnivå. Hittills har störst fokus legat på "
        "selektiv nivå, men arbete pågår för att tydliggöra strukturerna för individsamverkan.",
        "Samverkansgruppen har även ett mål kopplat till ökat deltagande i strukturerad "
        "vuxenledd verksamhet på fritiden, dock har inga aktiviteter genomförts kopplat till "
        "detta mål ännu.",
    ],
    "Kriminella konflikter": [  # printed under "Otillåten påverkan" in the seed
        GENERALLY,
        "Löpande arbete inom Trefas tillsammans med kriminalvården bedöms i en uppföljning av "
        "stadsdelsningskontoret som framgångsrikt.",
        "SIG unga och unga vuxna löper på.",
        "Socialsekreterare är lokaliserad i polishuset sedan 2020 vilket lett till mer "
        "samverkan, ökad förståelse för varandras uppdrag och högre kvalitet i anmälningar.",
    ],
    "Otillåten påverkan": [  # printed under "Otrygga brottsutsatta platser" in the seed
        "Enkät till medarbetare i Spånga-Tensta för att undersöka förekomst av otillåten "
        "påverkan.",
        "Intern utbildning av personal i de båda stadsdelsförvaltningarna har genomförts och "
        "webbutbildningar pågår. Utbildningsförvaltningen planerar att genomföra "
        "kunskapshöjande insatser.",
        "Polisen har under de senaste tre åren adresserat frågan rörande personal som utsätts "
        "för otillåten påverkan och upprättat rutiner.",
        "Uppstart av två separata arbetsgrupper: en kring välfärdsbrottslighet och en kring "
        "otillåten påverkan gentemot lokala näringslivet.",
    ],
}


def normalised(text: str) -> str:
    return " ".join(text.split())


def bullets_of(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(line.startswith("- ") for line in lines), text
    return [normalised(line[2:]) for line in lines]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def contribution(period: str, area: str) -> Contribution:
    return db.session.scalar(
        select(Contribution).join(Contribution.period).join(Contribution.area)
        .where(Period.name == period, Area.name == area))


def sections_by_heading(period: str, area: str) -> dict[str, str]:
    """Each section's text as the lägesbild shows it (a cross-reference's sentence first)."""
    return {s.topic.heading: rendered_text(s)
            for s in contribution(period, area).ordered_sections}


@pytest.fixture
def demo(app) -> str:
    return load_demo(now=NOW)


def test_cli_loads_the_demo_and_prints_how_to_log_in(runner):
    result = runner.invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    assert "Loaded demo data: periods 'december 2022' (approved)" in result.output
    assert f"Demo password for every user: {DEMO_PASSWORD}" in result.output
    assert "skribent.rinkeby-kista@demo.lagesbild.se" in result.output
    assert verify_chain().ok
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0 and verify.output.startswith("OK: ")


def test_city_wide_topics_are_the_seeds(demo):
    topics = db.session.scalars(
        select(Topic).where(Topic.scope == TopicScope.CITY).order_by(Topic.number)).all()

    assert [(t.number, t.title) for t in topics] == \
        [(n, title) for n, (title, _) in enumerate(SEED_CITY, start=1)]
    assert all(t.active and t.area_id is None for t in topics)


def test_jarva_has_its_local_topics_two_offices_and_its_police(demo):
    jarva = db.session.scalar(select(Area).where(Area.name == "Järva"))

    assert [t.title for t in jarva.local_topics] == LOCAL_TOPICS
    assert sorted((o.kind, o.name) for o in jarva.organisations) == [
        ("district_office", "Rinkeby-Kista stadsdelsförvaltning"),
        ("district_office", "Spånga-Tensta stadsdelsförvaltning"),
        ("police", "Polisen – lokalpolisområde Järva"),
    ]
    city_office = db.session.scalar(select(Organisation).where(Organisation.kind == "city_office"))
    assert city_office.name == "Stadsledningskontoret"


def test_december_2022_is_approved_with_the_seed_texts_under_the_right_topics(demo):
    period = db.session.scalar(select(Period).where(Period.name == PAST))
    assert period.consolidation.state == "approved"
    assert {c.state for c in period.contributions} == {"approved"}

    texts = sections_by_heading(PAST, "Järva")

    assert list(texts) == [f"{n}. {title}" for n, (title, _) in enumerate(SEED_CITY, 1)] + \
        LOCAL_TOPICS
    for number, (title, comment) in enumerate(SEED_CITY, start=1):
        assert normalised(texts[f"{number}. {title}"]) == comment
    for topic, seed_bullets in SEED_LOCAL.items():
        assert bullets_of(texts[topic]) == seed_bullets, topic
    # The topic the seed left without a comment has one written for the demo.
    places = bullets_of(texts["Otrygga brottsutsatta platser"])
    assert places and not set(places) & {b for group in SEED_LOCAL.values() for b in group}


def test_seed_copy_in_this_test_matches_the_document():
    """The texts above are the document's (whitespace aside): the copy in tests/fixtures/."""
    document = Path(__file__).resolve().parents[1] / "fixtures" / SEED_DOCUMENT
    raw = document.read_text(encoding="utf-8")
    # Each local bullet is the Word bullet glyph U+F0FC (Wingdings) and a no-break space.
    assert raw.count(BULLET_GLYPH) == sum(len(group) for group in SEED_LOCAL.values())
    text = normalised(raw.replace(BULLET_GLYPH, " "))

    assert "Lägesbild december 2022" in text
    for title, comment in SEED_CITY:
        assert title in text
        assert comment in text
    for group in SEED_LOCAL.values():
        for bullet in group:
            assert bullet in text, bullet
    # The order in the document is the order above: only the headings stand one group off.
    positions = [text.index(b, text.index("Lokalt prioriterade")) for b in
                 SEED_LOCAL["Nyrekrytering"][1:] + SEED_LOCAL["Kriminella konflikter"][1:] +
                 SEED_LOCAL["Otillåten påverkan"]]
    assert positions == sorted(positions)
    for printed_under, first_bullet in [
        ("Kriminella konflikter", SEED_LOCAL["Nyrekrytering"][6]),
        ("Otillåten påverkan", SEED_LOCAL["Kriminella konflikter"][0]),
        ("Otrygga brottsutsatta platser", SEED_LOCAL["Otillåten påverkan"][0]),
    ]:
        assert re.search(re.escape(printed_under) + r"\s+" + re.escape(first_bullet), text)


def test_history_of_jarva_december_2022(demo):
    jarva = contribution(PAST, "Järva")
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "contribution",
                                 AuditEvent.object_id == str(jarva.id))
        .order_by(AuditEvent.seq)).all()

    assert [e.action for e in events] == [
        "contribution.submit", "contribution.return", "contribution.resubmit",
        "contribution.approve", "contribution.consolidate", "contribution.finalize"]
    assert [(e.from_state, e.to_state) for e in events] == [
        ("draft", "police_review"), ("police_review", "returned"),
        ("returned", "police_review"), ("police_review", "reviewed"),
        ("reviewed", "consolidated"), ("consolidated", "approved")]
    times = [e.occurred_at for e in events]
    assert times == sorted(times) and all(t.year == 2022 for t in times)
    by_action = {e.action.split(".")[1]: e for e in events}
    assert by_action["submit"].actor_name == by_action["resubmit"].actor_name
    assert by_action["return"].actor_organisation == "Polisen – lokalpolisområde Järva"
    assert by_action["approve"].actor_organisation == "Polisen – lokalpolisområde Järva"
    assert by_action["consolidate"].actor_organisation == "Stadsledningskontoret"

    remarks = json.loads(by_action["return"].data)["remarks"]
    assert len(remarks) == 2 and all(r["text"].strip() for r in remarks)
    stored = db.session.scalars(select(Remark).where(Remark.contribution_id == jarva.id)).all()
    assert {r.text for r in stored} == {r["text"] for r in remarks}
    [on_section] = [r for r in stored if r.section_id is not None]
    assert on_section.section.topic.title == "Otrygga brottsutsatta platser"
    assert on_section.trigger == "return"

    # The returned section was rewritten before the contribution went back to the police.
    revisions = on_section.section.revisions
    assert [r.text for r in revisions][0] == "Se ovan."
    assert revisions[-1].text == on_section.section.text
    assert by_action["return"].occurred_at < revisions[-1].created_at < \
        by_action["resubmit"].occurred_at
    consolidation_events = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "consolidation",
                                        AuditEvent.object_id == str(
                                            jarva.period.consolidation.id))
        .order_by(AuditEvent.seq)).all()
    assert consolidation_events == ["consolidation.submit_for_approval",
                                    "consolidation.approve"]


def test_current_period_has_a_contribution_in_every_state(demo):
    period = db.session.scalar(select(Period).where(Period.name == CURRENT))

    assert period.consolidation.state == "open"
    states = {c.area.name: c.state for c in period.contributions}
    assert {"draft", "police_review", "returned", "reviewed", "consolidated"} <= \
        set(states.values())
    assert states["Järva"] == "draft"
    returned = next(c for c in period.contributions if c.state == "returned")
    assert returned.remarks and returned.remarks[0].trigger == "return"
    assert period.drafting_deadline > NOW.date()


def test_users_for_every_role_with_the_demo_password(demo):
    roles = set(db.session.scalars(select(Membership.role)))
    assert roles == {role.value for role in Role}

    drafter = db.session.scalar(
        select(User).where(User.email == "skribent.rinkeby-kista@demo.lagesbild.se"))
    assert drafter.organisation.name == "Rinkeby-Kista stadsdelsförvaltning"
    assert [(m.role, m.area.name) for m in drafter.memberships] == [("drafter", "Järva")]
    one_per_role = {}
    for membership in db.session.scalars(select(Membership).order_by(Membership.id)):
        one_per_role.setdefault(membership.role, membership.user)
    for role, user in one_per_role.items():
        assert user.email.endswith("@demo.lagesbild.se")
        assert user.check_password(DEMO_PASSWORD), role


def test_audit_chain_of_the_demo_verifies(demo):
    result = verify_chain()

    assert result.ok, result.reason
    assert result.count == count(AuditEvent) > 100
    assert f"{result.count} audit events" in demo


def test_loading_again_is_refused_unless_reset(demo, runner):
    users, events = count(User), count(AuditEvent)

    with pytest.raises(DemoRefused, match="not empty"):
        load_demo(now=NOW)
    result = runner.invoke(args=["demo", "load"])

    assert result.exit_code != 0
    assert "The database is not empty: refusing to load demo data." in result.output
    assert "--reset" in result.output
    db.session.rollback()
    assert (count(User), count(AuditEvent)) == (users, events)

    reset = runner.invoke(args=["demo", "load", "--reset"])

    assert reset.exit_code == 0, reset.output
    assert (count(User), count(AuditEvent)) == (users, events)  # rebuilt, not added to
    result = verify_chain()
    assert result.ok and result.count == events


def test_if_empty_loads_nothing_into_a_database_with_data(demo, runner):
    events = count(AuditEvent)

    result = runner.invoke(args=["demo", "load", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "already has data" in result.output
    db.session.rollback()
    assert count(AuditEvent) == events


def test_reset_refuses_nothing_on_an_empty_database(runner):
    result = runner.invoke(args=["demo", "load", "--reset"])

    assert result.exit_code == 0, result.output
    assert verify_chain().ok
    assert count(Period) == 2


def test_the_seeds_cross_references_are_links_the_cross_reference_page_shows(demo):
    """Issue 15 item 7: "… se nedan" in the seed's city-wide comments are links, two for
    "de lokalt prioriterade områdena nyrekrytering och kriminella konflikter"."""
    sections = {s.topic.heading: s for s in contribution(PAST, "Järva").ordered_sections}
    links = {heading: [t.title for t in linked_topics(s)] for heading, s in sections.items()
             if linked_topics(s)}
    assert links == {
        f"1. {SEED_CITY[0][0]}": ["Otrygga brottsutsatta platser"],
        f"2. {SEED_CITY[1][0]}": ["Nyrekrytering", "Kriminella konflikter"],
        f"3. {SEED_CITY[2][0]}": ["Kriminella konflikter"],
        f"5. {SEED_CITY[4][0]}": ["Otillåten påverkan"],
    }
    assert all(not sections[heading].text for heading in links)  # the sentence is the link's
    for area in ("Järva", *[a.name for a in db.session.scalars(select(Area))]):
        period_contribution = contribution(CURRENT, area)
        if period_contribution is not None and period_contribution.sections:
            assert any(linked_topics(s) for s in period_contribution.sections) or all(
                not s.text.startswith("Arbetet hanteras inom ramen")
                for s in period_contribution.sections)
