"""Demo data: `flask --app app demo load [--reset]`.

Everything is created through the operations, so the demo's audit trail shows the real flow:
a past period ("december 2022") approved with the seed document's texts for Järva, and a
current period with contributions in every state.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, inspect, select, text

from app.admin import operations as admin
from app.audit.trail import request_info
from app.contributions import operations as contributions
from app.contributions import threads
from app.contributions.operations import RemarkInput
from app.core.actors import SystemActor
from app.core.clock import frozen_at
from app.core.unit_of_work import operation
from app.demo.oidc_provider import REVIEWER_GROUP
from app.demo.texts import (
    CITY_TOPICS,
    LINE_ORGANISATION,
    OTHER_AREAS,
    SEED_CITY_TEXTS,
    SEED_FIRST_DRAFT_PLACES,
    SEED_LOCAL_TEXTS,
    SEED_LOCAL_TOPICS,
    bullets,
)
from app.documents.cross_references import find_reference, set_cross_reference
from app.extensions import db
from app.identity import operations as identity
from app.models import AuditEvent, Contribution, Organisation, Period, Section, TopicScope, User
from app.periods import operations as consolidations
from app.search.schema import SQLITE_TABLES as SQLITE_SEARCH_TABLES

DEMO_PASSWORD = "lagesbild-demo"
DEMO_DOMAIN = "demo.lagesbild.se"
SEED_AREA = "Järva"
SEED_OFFICES = ["Rinkeby-Kista stadsdelsförvaltning", "Spånga-Tensta stadsdelsförvaltning"]
SEED_POLICE = "Polisen – lokalpolisområde Järva"
CITY_OFFICE = "Stadsledningskontoret"
PAST_PERIOD = "december 2022"
MONTHS_SV = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
             "september", "oktober", "november", "december"]
LOADER = SystemActor(name="demo loader")

FIRST_NAMES = ["Anna", "Johan", "Leila", "Mikael", "Sara", "Ahmed", "Elin", "Patrik", "Fatima",
               "Henrik", "Ingrid", "Yusuf", "Lena", "Oskar"]
LAST_NAMES = ["Andersson", "Berg", "Karimi", "Lindqvist", "Ekström", "Hassan", "Nyberg",
              "Sjöberg", "Ali", "Wallin", "Persson", "Demir", "Holm", "Forsberg"]


class DemoRefused(Exception):
    pass


def slug(name: str) -> str:
    folded = name.lower()
    for source, target in (("å", "a"), ("ä", "a"), ("ö", "o"), ("é", "e"), (" – ", "-"),
                           (" ", "-")):
        folded = folded.replace(source, target)
    return "".join(ch for ch in folded if ch.isalnum() or ch == "-")


def database_is_empty() -> bool:
    if "audit_events" not in set(inspect(db.engine).get_table_names()):
        return True
    for model in (User, Organisation, AuditEvent):
        if db.session.scalar(select(func.count()).select_from(model)):
            return False
    return True


def reset_database() -> None:
    """Drop every table (triggers go with them) and rebuild the schema by the migrations."""
    from flask_migrate import upgrade

    db.session.remove()
    engine = db.engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{table.name}"'))
            for table in SQLITE_SEARCH_TABLES:  # the search's FTS5 tables (and their shadows)
                connection.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


class _Loader:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.name_index = 0

    # -- helpers -----------------------------------------------------------------------
    def run(self, actor, moment: datetime, change):
        with frozen_at(moment), operation(actor):
            return change()

    def person_name(self) -> str:
        first = FIRST_NAMES[self.name_index % len(FIRST_NAMES)]
        last = LAST_NAMES[(self.name_index * 5 + 3) % len(LAST_NAMES)]
        self.name_index += 1
        return f"{first} {last}"

    def add_user(self, moment, key: str, organisation: str, role: str, area: str | None = None):
        def change():
            user = admin.create_user(LOADER, email=f"{key}@{DEMO_DOMAIN}", name=self.person_name(),
                                     organisation_name=organisation, password=DEMO_PASSWORD)
            admin.grant_role(LOADER, user, role, area)
            return user.id

        self.users[key] = self.run(LOADER, moment, change)

    def user(self, key: str) -> User:
        return db.session.get(User, self.users[key])

    def contribution(self, period: str, area: str) -> Contribution:
        return db.session.scalar(
            select(Contribution).join(Contribution.period).join(Contribution.area)
            .where(Period.name == period, Contribution.area.has(name=area))
        )

    def section(self, period: str, area: str, heading: str) -> Section:
        return next(s for s in self.contribution(period, area).sections
                    if s.topic.heading == heading)

    def edit(self, key: str, moment, period: str, area: str, heading: str, body: str):
        section = self.section(period, area, heading)
        section_id, version = section.id, section.version
        if section.topic.scope == TopicScope.CITY:
            # "… hanteras inom ramen för det lokalt prioriterade området X, se nedan." is a link
            # to X (two links for "områdena X och Y"), as a drafter sets it, not typed text.
            local = [s.topic for s in section.contribution.sections
                     if s.topic.scope == TopicScope.LOCAL]
            found = find_reference(body, [t.title for t in local])
            if found is not None:
                by_folded = {t.title.casefold(): t.id for t in local}
                linked = [by_folded[name.casefold()] for name in found.names]
                self.run(self.user(key), moment, lambda: set_cross_reference(
                    self.user(key), section_id, linked[0], version,
                    linked[1] if len(linked) > 1 else None))
                if not found.rest:
                    return
                version = self.section(period, area, heading).version
                body = found.rest
        self.run(self.user(key), moment, lambda: contributions.edit_section(
            self.user(key), section_id, body, version))

    def fire(self, key: str, moment, period: str, area: str, trigger: str, **kw):
        contribution_id = self.contribution(period, area).id
        self.run(self.user(key), moment, lambda: contributions.transition(
            self.user(key), contribution_id, trigger, **kw))

    def answer_remarks(self, key: str, moment, period: str, area: str,
                       answers: list[str]) -> None:
        """Answer the contribution's remarks in their threads, oldest first, one each."""
        remarks = self.contribution(period, area).remarks
        for index, (remark, answer) in enumerate(zip(remarks, answers, strict=True)):
            remark_id, version = remark.id, remark.version
            self.run(self.user(key), moment + timedelta(minutes=index),
                     lambda remark_id=remark_id, answer=answer, version=version:
                     threads.reply(self.user(key), remark_id, answer, version))

    def resolve_remarks(self, key: str, moment, period: str, area: str) -> None:
        for index, remark in enumerate(self.contribution(period, area).remarks):
            remark_id, version = remark.id, remark.version
            self.run(self.user(key), moment + timedelta(minutes=index),
                     lambda remark_id=remark_id, version=version:
                     threads.resolve(self.user(key), remark_id, version))

    def fill_all(self, key: str, start: datetime, period: str, area: str,
                 texts: dict[str, str]) -> datetime:
        moment = start
        for heading, body in texts.items():
            moment += timedelta(minutes=7)
            self.edit(key, moment, period, area, heading, body)
        return moment

    # -- structure -----------------------------------------------------------------------
    def structure(self, moment: datetime) -> None:
        def change():
            admin.create_organisation(LOADER, CITY_OFFICE, "city_office")
            for office in SEED_OFFICES:
                admin.create_organisation(LOADER, office, "district_office")
            admin.create_organisation(LOADER, SEED_POLICE, "police")
            admin.create_area(LOADER, SEED_AREA, SEED_OFFICES + [SEED_POLICE])
            for area, spec in OTHER_AREAS.items():
                for office in spec["offices"]:
                    admin.create_organisation(LOADER, office, "district_office")
                admin.create_organisation(LOADER, spec["police"], "police")
                admin.create_area(LOADER, area, spec["offices"] + [spec["police"]])
            for number, title in enumerate(CITY_TOPICS, start=1):
                admin.create_topic(LOADER, title, number=number)
            for title in SEED_LOCAL_TOPICS:
                admin.create_topic(LOADER, title, area_name=SEED_AREA)
            for area, spec in OTHER_AREAS.items():
                for title in spec["local"]:
                    admin.create_topic(LOADER, title, area_name=area)

        self.run(LOADER, moment, change)
        moment += timedelta(hours=1)
        self.add_user(moment, "admin", CITY_OFFICE, "admin")
        self.add_user(moment, "samordnare", CITY_OFFICE, "consolidator")
        self.add_user(moment, "faststallare", CITY_OFFICE, "approver")
        self.add_user(moment, "revisor", CITY_OFFICE, "auditor")
        for office in SEED_OFFICES:
            self.add_user(moment, f"skribent.{slug(office.split()[0])}", office, "drafter",
                          SEED_AREA)
        self.add_user(moment, f"polis.{slug(SEED_AREA)}", SEED_POLICE, "reviewer", SEED_AREA)
        for area, spec in OTHER_AREAS.items():
            self.add_user(moment, f"skribent.{slug(area)}", spec["offices"][0], "drafter", area)
            self.add_user(moment, f"polis.{slug(area)}", spec["police"], "reviewer", area)
        # The demo identity provider's reviewer group (app/demo/oidc_provider.py).
        self.run(self.user("admin"), moment, lambda: identity.add_mapping(
            self.user("admin"), group=REVIEWER_GROUP, role="reviewer",
            organisation_name=SEED_POLICE, area_name=SEED_AREA))

    def open_period(self, moment, name: str, first_deadline: date) -> None:
        deadlines = dict(
            drafting_deadline=first_deadline,
            review_deadline=first_deadline + timedelta(days=7),
            consolidation_deadline=first_deadline + timedelta(days=12),
            approval_deadline=first_deadline + timedelta(days=14),
        )
        self.run(LOADER, moment, lambda: admin.create_period(LOADER, name, **deadlines))

    # -- texts -------------------------------------------------------------------------
    @staticmethod
    def seed_texts() -> dict[str, str]:
        texts = {f"{n}. {CITY_TOPICS[n - 1]}": body for n, body in SEED_CITY_TEXTS.items()}
        texts.update(SEED_LOCAL_TEXTS)
        return texts

    @staticmethod
    def other_texts(area: str, variant: str = "") -> dict[str, str]:
        texts = {f"{n}. {title}": LINE_ORGANISATION for n, title in enumerate(CITY_TOPICS, 1)}
        local = OTHER_AREAS[area]["local"]
        first_local = next(iter(local))
        texts["1. " + CITY_TOPICS[0]] = (
            f"Arbetet hanteras inom ramen för det lokalt prioriterade området "
            f"{first_local.lower()}, se nedan.")
        for title, lines in local.items():
            texts[title] = bullets(lines + ([variant] if variant else []))
        return texts

    # -- the past period: the whole flow, approved ---------------------------------------
    def past_period(self) -> None:
        start = datetime(2022, 11, 1, 8, 30, tzinfo=UTC)
        self.open_period(start, PAST_PERIOD, date(2022, 11, 21))
        rinkeby, spanga = "skribent.rinkeby-kista", "skribent.spanga-tensta"
        police = f"polis.{slug(SEED_AREA)}"
        texts = self.seed_texts()
        first_draft = dict(texts)
        first_draft["Otrygga brottsutsatta platser"] = SEED_FIRST_DRAFT_PLACES
        spanga_part = {"Otillåten påverkan": first_draft.pop("Otillåten påverkan")}
        moment = self.fill_all(rinkeby, datetime(2022, 11, 8, 9, 0, tzinfo=UTC), PAST_PERIOD,
                               SEED_AREA, first_draft)
        self.fill_all(spanga, datetime(2022, 11, 10, 13, 0, tzinfo=UTC), PAST_PERIOD,
                      SEED_AREA, spanga_part)
        self.fire(rinkeby, datetime(2022, 11, 18, 15, 5, tzinfo=UTC), PAST_PERIOD, SEED_AREA,
                  "submit")
        places = self.section(PAST_PERIOD, SEED_AREA, "Otrygga brottsutsatta platser")
        self.fire(police, datetime(2022, 11, 22, 10, 40, tzinfo=UTC), PAST_PERIOD, SEED_AREA,
                  "return", remarks=[
                      RemarkInput("Kommentaren saknas: beskriv arbetet med de otrygga "
                                  "brottsutsatta platserna, som punkt 1 hänvisar hit.",
                                  places.id),
                      RemarkInput("I övrigt bra. Kontrollera att texterna står under rätt "
                                  "rubrik innan ni skickar igen."),
                  ])
        self.edit(rinkeby, datetime(2022, 11, 23, 9, 15, tzinfo=UTC), PAST_PERIOD, SEED_AREA,
                  "Otrygga brottsutsatta platser", texts["Otrygga brottsutsatta platser"])
        self.answer_remarks(rinkeby, datetime(2022, 11, 23, 9, 20, tzinfo=UTC), PAST_PERIOD,
                            SEED_AREA, ["Tillagt under rubriken.",
                                        "Kontrollerat: texterna står under rätt rubrik."])
        self.fire(rinkeby, datetime(2022, 11, 23, 9, 30, tzinfo=UTC), PAST_PERIOD, SEED_AREA,
                  "resubmit")
        self.resolve_remarks(police, datetime(2022, 11, 28, 13, 50, tzinfo=UTC), PAST_PERIOD,
                             SEED_AREA)
        self.fire(police, datetime(2022, 11, 28, 14, 0, tzinfo=UTC), PAST_PERIOD, SEED_AREA,
                  "approve")
        moment = datetime(2022, 11, 14, 9, 0, tzinfo=UTC)
        for area in OTHER_AREAS:
            drafter, reviewer = f"skribent.{slug(area)}", f"polis.{slug(area)}"
            moment = self.fill_all(drafter, moment, PAST_PERIOD, area, self.other_texts(area))
            self.fire(drafter, moment + timedelta(hours=2), PAST_PERIOD, area, "submit")
            self.fire(reviewer, moment + timedelta(days=5), PAST_PERIOD, area, "approve")
        moment = datetime(2022, 12, 5, 9, 0, tzinfo=UTC)
        for area in [SEED_AREA, *OTHER_AREAS]:
            moment += timedelta(minutes=20)
            self.fire("samordnare", moment, PAST_PERIOD, area, "consolidate")
        consolidation_id = self.contribution(PAST_PERIOD, SEED_AREA).period.consolidation.id
        self.run(self.user("samordnare"), datetime(2022, 12, 8, 10, 0, tzinfo=UTC),
                 lambda: consolidations.transition(self.user("samordnare"), consolidation_id,
                                                   "submit_for_approval"))
        self.run(self.user("faststallare"), datetime(2022, 12, 14, 13, 0, tzinfo=UTC),
                 lambda: consolidations.transition(self.user("faststallare"), consolidation_id,
                                                   "approve"))

    # -- the current period: every state ------------------------------------------------
    def current_period(self, today: date, now: datetime) -> str:
        month = today.replace(day=28) + timedelta(days=7)  # next month
        name = f"{MONTHS_SV[month.month - 1]} {month.year}"
        self.open_period(now - timedelta(days=14), name, today + timedelta(days=10))
        areas = list(OTHER_AREAS)
        # Järva: being drafted (the city-wide texts so far).
        seed = self.seed_texts()
        self.fill_all("skribent.rinkeby-kista", now - timedelta(days=6), name, SEED_AREA,
                      {k: v for k, v in seed.items() if k[0].isdigit()})
        moment = now - timedelta(days=5)
        for index, area in enumerate(areas):
            drafter, reviewer = f"skribent.{slug(area)}", f"polis.{slug(area)}"
            moment = self.fill_all(drafter, moment, name, area,
                                   self.other_texts(area, "Uppföljning sker vid nästa "
                                                          "samverkansmöte."))
            self.fire(drafter, moment + timedelta(minutes=30), name, area, "submit")
            if index == 1:  # returned
                heading = next(iter(OTHER_AREAS[area]["local"]))
                section = self.section(name, area, heading)
                self.fire(reviewer, moment + timedelta(days=1), name, area, "return",
                          remarks=[RemarkInput("Beskriv vilka resultat insatserna har gett "
                                               "hittills.", section.id)])
            if index >= 2:  # reviewed, and the last one consolidated
                self.fire(reviewer, moment + timedelta(days=1), name, area, "approve")
            if index == 3:
                section = self.section(name, area, "9. Ordningsvakter")
                self.edit("samordnare", moment + timedelta(days=2), name, area,
                          "9. Ordningsvakter", section.text.replace(
                              "linjeorganisationer.", "ordinarie linjeorganisationer."))
                self.fire("samordnare", moment + timedelta(days=2, minutes=5), name, area,
                          "consolidate")
            moment += timedelta(hours=5)
        return name


def load_demo(reset: bool = False, now: datetime | None = None) -> str:
    tables = set(inspect(db.engine).get_table_names())
    if "audit_events" not in tables:
        if not reset:
            raise DemoRefused("The database has no schema: run `flask --app app db upgrade` "
                              "first (or use --reset).")
    elif not database_is_empty() and not reset:
        raise DemoRefused("The database is not empty: refusing to load demo data. "
                          "Use --reset to empty it first (this destroys everything in it).")
    if reset:
        reset_database()
    now = now or datetime.now(UTC).replace(microsecond=0)
    loader = _Loader()
    with request_info(None, "demo loader"):
        loader.structure(datetime(2022, 10, 3, 8, 0, tzinfo=UTC))
        loader.past_period()
        current = loader.current_period(now.date(), now)
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    lines = [f"Loaded demo data: periods '{PAST_PERIOD}' (approved) and '{current}' "
             f"(in progress); {events} audit events.", "Users:"]
    for user in db.session.scalars(select(User).order_by(User.email)):
        roles = ", ".join(f"{m.role}{' – ' + m.area.name if m.area else ''}"
                          for m in user.memberships)
        lines.append(f"  {user.email:42} {roles}")
    return "\n".join(lines)
