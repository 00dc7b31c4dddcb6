"""Administration: organisations, areas, topics, periods and users. Each change is an audit
event. Administrators manage structure; they cannot touch content or history."""
from __future__ import annotations

from datetime import date
from itertools import pairwise

from sqlalchemy import func, select

from app.audit.trail import record_event
from app.core.access import require_admin
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput
from app.core.messages import N_, Label, Msg
from app.core.text_rules import refuse_identity_numbers
from app.extensions import db
from app.models import (
    AREA_ROLES,
    CITY_ROLES,
    Area,
    Consolidation,
    Contribution,
    Membership,
    Organisation,
    OrganisationKind,
    Period,
    Role,
    Section,
    Topic,
    TopicScope,
    User,
)
from workflows.roles import ROLE_NAMES

# Which organisation kind may hold which role.
ROLE_ORGANISATION_KINDS = {
    Role.DRAFTER: {OrganisationKind.DISTRICT_OFFICE},
    Role.REVIEWER: {OrganisationKind.POLICE},
    Role.CONSOLIDATOR: {OrganisationKind.CITY_OFFICE},
    Role.APPROVER: {OrganisationKind.CITY_OFFICE, OrganisationKind.POLICE},
    Role.AUDITOR: set(OrganisationKind),
    Role.ADMIN: {OrganisationKind.CITY_OFFICE},
}
MIN_PASSWORD_LENGTH = 10

# Roles as message parameters: the code name in English (what the CLI takes), the Swedish
# role name when shown in Swedish.
ROLE_LABELS = {role: Label(role, sv=names.noun_sv) for role, names in ROLE_NAMES.items()}
_NONE = Label("none", sv="inga")


def _role_name(role: str) -> Label:
    return ROLE_LABELS.get(Role(role), Label(role, sv=role))


def _clean_name(value: str | None, what: Label, limit: int = 200) -> str:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        raise InvalidInput(Msg(N_("The {what} must not be empty."), what=what))
    if len(cleaned) > limit:
        raise InvalidInput(Msg(N_("The {what} is longer than {limit} characters."),
                               what=what, limit=limit))
    if any(ord(ch) < 32 for ch in cleaned):
        raise InvalidInput(Msg(N_("The {what} contains control characters."), what=what))
    refuse_identity_numbers(cleaned, field=str(what), what=what)
    return cleaned


def _find_by_name(model, name: str, unknown: str, order_by):
    """The object named `name`, or InvalidInput(`unknown` naming the ones there are)."""
    found = db.session.scalar(select(model).where(model.name == name))
    if found is None:
        known = ", ".join(db.session.scalars(select(model.name).order_by(order_by)))
        raise InvalidInput(Msg(unknown, name=name, known=known or _NONE))
    return found


def find_organisation(name: str) -> Organisation:
    return _find_by_name(Organisation, name, N_("Unknown organisation '{name}'. Known: {known}."),
                         Organisation.name)


def find_area(name: str) -> Area:
    return _find_by_name(Area, name, N_("Unknown area '{name}'. Known: {known}."), Area.name)


def find_period(name: str) -> Period:
    return _find_by_name(Period, name, N_("Unknown period '{name}'. Known: {known}."),
                         Period.id)


def create_organisation(actor: Actor, name: str, kind: str) -> Organisation:
    require_admin(actor, "organisation.create")
    name = _clean_name(name, Label("organisation name", sv="organisationens namn"))
    if kind not in set(OrganisationKind):
        raise InvalidInput(Msg(N_("Unknown organisation kind '{kind}'. Known: {known}."),
                               kind=kind, known=", ".join(k.value for k in OrganisationKind)))
    if db.session.scalar(select(Organisation).where(Organisation.name == name)):
        raise InvalidInput(Msg(N_("An organisation named '{name}' already exists."), name=name))
    organisation = Organisation(name=name, kind=kind)
    db.session.add(organisation)
    db.session.flush()
    record_event("organisation.create", actor=actor, object_type="organisation",
                 object_id=organisation.id, data={"name": name, "kind": kind})
    return organisation


def create_area(actor: Actor, name: str, organisation_names: list[str] = ()) -> Area:
    require_admin(actor, "area.create")
    name = _clean_name(name, Label("area name", sv="områdets namn"))
    if db.session.scalar(select(Area).where(Area.name == name)):
        raise InvalidInput(Msg(N_("An area named '{name}' already exists."), name=name))
    organisations = [find_organisation(n) for n in organisation_names]
    area = Area(name=name, organisations=organisations)
    db.session.add(area)
    db.session.flush()
    record_event("area.create", actor=actor, object_type="area", object_id=area.id,
                 data={"name": name, "organisations": [o.name for o in organisations]})
    return area


def create_topic(actor: Actor, title: str, *, number: int | None = None,
                 area_name: str | None = None) -> Topic:
    """A city-wide topic (give `number`) or a local topic of one area (give `area_name`)."""
    require_admin(actor, "topic.create")
    title = _clean_name(title, Label("topic title", sv="det prioriterade områdets rubrik"), 300)
    if (number is None) == (area_name is None):
        raise InvalidInput(Msg(N_("Give either a number (city-wide topic) or an area "
                                  "(local topic).")))
    if number is not None:
        if number < 1:
            raise InvalidInput(Msg(N_("A city-wide topic's number must be 1 or more.")))
        if db.session.scalar(select(Topic).where(Topic.scope == TopicScope.CITY,
                                                 Topic.number == number)):
            raise InvalidInput(Msg(N_("There is already a city-wide topic number {number}."),
                                   number=number))
        topic = Topic(scope=TopicScope.CITY, number=number, title=title, position=number)
    else:
        area = find_area(area_name)
        if db.session.scalar(select(Topic).where(Topic.area_id == area.id, Topic.title == title)):
            raise InvalidInput(Msg(N_("'{area}' already has a local topic '{title}'."),
                                   area=area.name, title=title))
        position = (db.session.scalar(
            select(func.max(Topic.position)).where(Topic.area_id == area.id)) or 0) + 1
        topic = Topic(scope=TopicScope.LOCAL, area_id=area.id, title=title, position=position)
    db.session.add(topic)
    db.session.flush()
    record_event("topic.create", actor=actor, object_type="topic", object_id=topic.id,
                 data={"title": title, "scope": topic.scope, "number": number,
                       "area": area_name})
    return topic


# A period's deadlines in the order the steps come, each named for the messages.
DEADLINE_LABELS = {
    "drafting_deadline": Label("drafting deadline", sv="sista dag för skrivandet"),
    "review_deadline": Label("review deadline", sv="sista dag för granskningen"),
    "consolidation_deadline": Label("consolidation deadline",
                                    sv="sista dag för sammanställningen"),
    "approval_deadline": Label("approval deadline", sv="sista dag för fastställelsen"),
}


def check_deadline_order(deadlines: dict[str, date]) -> None:
    """Each step's deadline on or after the one before it; else InvalidInput naming the
    first deadline out of order (its `field`, for the form)."""
    names = list(DEADLINE_LABELS)
    for earlier, later in pairwise(names):
        if deadlines[later] < deadlines[earlier]:
            raise InvalidInput(
                Msg(N_("The {later} ({later_date}) is before the {earlier} ({earlier_date}). "
                       "The deadlines must be in order: drafting, review, consolidation, "
                       "approval."),
                    later=DEADLINE_LABELS[later], later_date=deadlines[later].isoformat(),
                    earlier=DEADLINE_LABELS[earlier],
                    earlier_date=deadlines[earlier].isoformat()),
                field=later)


def create_period(actor: Actor, name: str, *, drafting_deadline: date, review_deadline: date,
                  consolidation_deadline: date, approval_deadline: date,
                  extra_data: dict | None = None) -> Period:
    """Open a period: one contribution per area, one section per active topic, and the
    period's consolidation. `extra_data` goes into the event (what else the opening does)."""
    require_admin(actor, "period.create")
    name = _clean_name(name, Label("period name", sv="periodens namn"), 100)
    if db.session.scalar(select(Period).where(Period.name == name)):
        raise InvalidInput(Msg(N_("A period named '{name}' already exists."), name=name))
    deadlines = [drafting_deadline, review_deadline, consolidation_deadline, approval_deadline]
    check_deadline_order(dict(zip(DEADLINE_LABELS, deadlines, strict=True)))
    period = Period(name=name, drafting_deadline=drafting_deadline,
                    review_deadline=review_deadline,
                    consolidation_deadline=consolidation_deadline,
                    approval_deadline=approval_deadline, created_at=now())
    db.session.add(period)
    db.session.flush()
    db.session.add(Consolidation(period_id=period.id))
    city_topics = db.session.scalars(
        select(Topic).where(Topic.scope == TopicScope.CITY, Topic.active).order_by(Topic.number)
    ).all()
    areas = db.session.scalars(select(Area).order_by(Area.name)).all()
    for area in areas:
        contribution = Contribution(area_id=area.id, period_id=period.id)
        db.session.add(contribution)
        db.session.flush()
        topics = city_topics + [t for t in area.local_topics if t.active]
        db.session.add_all(Section(contribution_id=contribution.id, topic_id=t.id)
                           for t in topics)
    db.session.flush()
    record_event("period.create", actor=actor, object_type="period", object_id=period.id,
                 period_id=period.id,
                 data={"name": name, "deadlines": [d.isoformat() for d in deadlines],
                       "areas": [a.name for a in areas], **(extra_data or {})})
    return period


def create_user(actor: Actor, *, email: str, name: str, organisation_name: str,
                password: str) -> User:
    require_admin(actor, "user.create")
    email = (email or "").strip().lower()
    refuse_identity_numbers(email, field="email", what=Label("e-mail address", sv="e-postadressen"))
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email):
        raise InvalidInput(Msg(N_("'{email}' is not an e-mail address."), email=email))
    if db.session.scalar(select(User).where(User.email == email)):
        raise InvalidInput(Msg(N_("A user with e-mail {email} already exists."), email=email))
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput(Msg(N_("The password must be at least {min_length} characters."),
                               min_length=MIN_PASSWORD_LENGTH))
    user = User(email=email, name=_clean_name(name, Label("name", sv="namnet")),
                organisation=find_organisation(organisation_name), created_at=now())
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_event("user.create", actor=actor, object_type="user", object_id=user.id,
                 data={"email": email, "name": user.name,
                       "organisation": user.organisation.name})
    return user


def set_user_active(actor: Actor, user: User, active: bool) -> User:
    """Deactivate a user who left (every session ends at once; sign-in is refused) or bring
    one back. Nothing the user did is removed: the trail and the texts keep the name."""
    action = "user.reactivate" if active else "user.deactivate"
    require_admin(actor, action)
    if user.active == active:
        raise InvalidInput(Msg(N_("{email} is already active.") if active
                               else N_("{email} is already deactivated."), email=user.email))
    if not active and isinstance(actor, User) and actor.id == user.id:
        raise InvalidInput(Msg(N_("You cannot deactivate yourself.")))
    user.active = active
    user.end_sessions()
    db.session.flush()
    record_event(action, actor=actor, object_type="user", object_id=user.id,
                 data={"email": user.email})
    return user


def grant_role(actor: Actor, user: User, role: str, area_name: str | None = None) -> Membership:
    require_admin(actor, "membership.create")
    if role not in set(Role):
        raise InvalidInput(Msg(N_("Unknown role '{role}'. Known: {known}."),
                               role=role, known=", ".join(r.value for r in Role)))
    role_name = _role_name(role)
    if role in CITY_ROLES and area_name:
        raise InvalidInput(Msg(N_("The role '{role}' is city-wide; do not give an area."),
                               role=role_name))
    if role in AREA_ROLES and not area_name:
        raise InvalidInput(Msg(N_("The role '{role}' needs an area (--area)."), role=role_name))
    kinds = ROLE_ORGANISATION_KINDS[Role(role)]
    if user.organisation.kind not in kinds:
        raise InvalidInput(Msg(N_("A user of {organisation} cannot hold the role '{role}'."),
                               organisation=user.organisation.name, role=role_name))
    area = find_area(area_name) if area_name else None
    if area is not None and user.organisation.kind != OrganisationKind.CITY_OFFICE \
            and user.organisation not in area.organisations:
        raise InvalidInput(Msg(N_("{organisation} does not serve the area '{area}'."),
                               organisation=user.organisation.name, area=area.name))
    if any(m.role == role and m.area_id == (area.id if area else None)
           for m in user.memberships):
        raise InvalidInput(Msg(N_("{email} already has the role '{role}' there."),
                               email=user.email, role=role_name))
    membership = Membership(user=user, role=role, area=area)
    db.session.add(membership)
    user.end_sessions()  # what the user may do changed: sign in again to get it
    db.session.flush()
    record_event("membership.create", actor=actor, object_type="user", object_id=user.id,
                 data={"role": role, "area": area.name if area else None})
    return membership
