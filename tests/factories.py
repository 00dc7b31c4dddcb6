"""A small, complete organisation for tests, built through the admin services."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from app.admin import operations as admin
from app.contributions import operations as contributions
from app.core.actors import SystemActor
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, Contribution, Period, Section, User

SETUP = SystemActor(name="test set-up")
PASSWORD = "correct horse battery"
CITY_TOPICS = ["Unga i risk för kriminalitet", "Otillåten påverkan", "Ordningsvakter"]


@dataclass
class World:
    """Ids of everything built; look objects up fresh with the helpers (sessions expire)."""

    users: dict[str, int] = field(default_factory=dict)
    areas: dict[str, int] = field(default_factory=dict)
    period_id: int = 0

    def user(self, key: str) -> User:
        return db.session.get(User, self.users[key])

    def contribution(self, area: str = "Norr") -> Contribution:
        return db.session.scalar(
            db.select(Contribution).where(Contribution.area_id == self.areas[area],
                                          Contribution.period_id == self.period_id))

    def period(self) -> Period:
        return db.session.get(Period, self.period_id)

    def sections(self, area: str = "Norr") -> list[Section]:
        return self.contribution(area).ordered_sections


USERS = {
    # key: (organisation, role, area)
    "drafter": ("Norra stadsdelsförvaltningen", "drafter", "Norr"),
    "drafter2": ("Norra stadsdelsförvaltningen", "drafter", "Norr"),
    "reviewer": ("Polisen – lokalpolisområde Norr", "reviewer", "Norr"),
    "reviewer2": ("Polisen – lokalpolisområde Norr", "reviewer", "Norr"),
    "drafter_south": ("Södra stadsdelsförvaltningen", "drafter", "Söder"),
    "reviewer_south": ("Polisen – lokalpolisområde Söder", "reviewer", "Söder"),
    "consolidator": ("Stadsledningskontoret", "consolidator", None),
    "consolidator2": ("Stadsledningskontoret", "consolidator", None),
    "approver": ("Stadsledningskontoret", "approver", None),
    "approver2": ("Stadsledningskontoret", "approver", None),
    "auditor": ("Stadsledningskontoret", "auditor", None),
    "admin": ("Stadsledningskontoret", "admin", None),
}


def build_world() -> World:
    world = World()
    with operation(SETUP):
        admin.create_organisation(SETUP, "Stadsledningskontoret", "city_office")
        for area, office, police in (
            ("Norr", "Norra stadsdelsförvaltningen", "Polisen – lokalpolisområde Norr"),
            ("Söder", "Södra stadsdelsförvaltningen", "Polisen – lokalpolisområde Söder"),
        ):
            admin.create_organisation(SETUP, office, "district_office")
            admin.create_organisation(SETUP, police, "police")
            world.areas[area] = admin.create_area(SETUP, area, [office, police]).id
            admin.create_topic(SETUP, f"Trygghet i {area.lower()}", area_name=area)
        for number, title in enumerate(CITY_TOPICS, start=1):
            admin.create_topic(SETUP, title, number=number)
        for key, (organisation, role, area) in USERS.items():
            user = admin.create_user(SETUP, email=f"{key}@example.se",
                                     name=key.replace("_", " ").title(),
                                     organisation_name=organisation, password=PASSWORD)
            admin.grant_role(SETUP, user, role, area)
            world.users[key] = user.id
        world.period_id = admin.create_period(
            SETUP, "januari 2030", drafting_deadline=date(2030, 1, 10),
            review_deadline=date(2030, 1, 17), consolidation_deadline=date(2030, 1, 24),
            approval_deadline=date(2030, 1, 31)).id
    return world


def fill_sections(world: World, area: str = "Norr", key: str = "drafter",
                  text: str = "- Arbetet pågår enligt plan.") -> None:
    for section in world.sections(area):
        section_id, version = section.id, section.version
        with operation(world.user(key)):
            contributions.edit_section(world.user(key), section_id, f"{text} ({section_id})",
                                       version)


def run(world: World, key: str, function, *args, **kwargs):
    """Call a service as user `key` inside one operation (commit, or roll back and raise)."""
    actor = world.user(key)
    with operation(actor):
        return function(actor, *args, **kwargs)


def advance(world: World, area: str, to_state: str) -> Contribution:
    """Drive a contribution through the real services to `to_state`."""
    drafter, reviewer = ("drafter", "reviewer") if area == "Norr" else \
        ("drafter_south", "reviewer_south")
    path = {
        "draft": [],
        "police_review": ["submit"],
        "returned": ["submit", "return"],
        "reviewed": ["submit", "approve"],
        "consolidated": ["submit", "approve", "consolidate"],
    }[to_state]
    if path:
        fill_sections(world, area, drafter)
    actors = {"submit": drafter, "approve": reviewer, "return": reviewer,
              "consolidate": "consolidator"}
    for trigger in path:
        contribution_id = world.contribution(area).id
        remarks = [contributions.RemarkInput("Komplettera texten.")] if trigger == "return" else ()
        run(world, actors[trigger], contributions.transition, contribution_id, trigger,
            remarks=remarks)
    return world.contribution(area)


def head_seq() -> int:
    """The newest audit event's seq (0 for an empty trail)."""
    return db.session.scalar(select(func.max(AuditEvent.seq))) or 0


def events_since(seq: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)))


def data_of(event: AuditEvent) -> dict:
    return json.loads(event.data)
