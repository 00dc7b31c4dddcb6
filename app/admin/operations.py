"""Administration: organisations, areas, topics, periods and users. Each change is an audit
event. Administrators manage structure; they cannot touch content or history."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import func, or_, select

# The password rule lives in app.admin.passwords (MIN_PASSWORD_LENGTH re-exported).
from app.admin.passwords import MIN_PASSWORD_LENGTH, check_new_password  # noqa: F401
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
    PasswordResetLink,
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
    if "\ufffd" in cleaned:  # what a browser sent was not UTF-8: the name is garbled
        raise InvalidInput(Msg(N_("The {what} contains characters that could not be read."),
                               what=what))
    return cleaned


def _find_by_name(model, name: str, unknown: str, order_by):
    """The object named `name`, or InvalidInput(`unknown` naming the ones there are)."""
    found = db.session.scalar(select(model).where(model.name == name))
    if found is None:
        known = ", ".join(db.session.scalars(select(model.name).order_by(order_by)))
        raise InvalidInput(Msg(unknown, name=name, known=known or _NONE))
    return found


def _with_field(find, name: str, field: str):
    """find(name), its InvalidInput naming the form's field."""
    try:
        return find(name)
    except InvalidInput as error:
        error.details["field"] = field
        raise


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
    name = _named(name, Label("organisation name", sv="organisationens namn"))
    if kind not in set(OrganisationKind):
        raise InvalidInput(Msg(N_("Unknown organisation kind '{kind}'. Known: {known}."),
                               kind=kind, known=", ".join(k.value for k in OrganisationKind)),
                           field="kind")
    _require_unused_name(Organisation, name, None,
                         N_("An organisation named '{name}' already exists."))
    organisation = Organisation(name=name, kind=kind)
    db.session.add(organisation)
    db.session.flush()
    record_event("organisation.create", actor=actor, object_type="organisation",
                 object_id=organisation.id, data={"name": name, "kind": kind})
    return organisation


def create_area(actor: Actor, name: str, organisation_names: list[str] = ()) -> Area:
    require_admin(actor, "area.create")
    name = _named(name, Label("area name", sv="områdets namn"))
    _require_unused_name(Area, name, None, N_("An area named '{name}' already exists."))
    organisations = [_with_field(find_organisation, n, "organisations")
                     for n in dict.fromkeys(organisation_names)]
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


def clean_email(email: str | None) -> str:
    """An e-mail address as accounts keep it (lower case), or InvalidInput."""
    email = (email or "").strip().lower()
    refuse_identity_numbers(email, field="email", what=Label("e-mail address", sv="e-postadressen"))
    if "@" not in email or len(email) > 254 or any(ch.isspace() or ord(ch) < 32 for ch in email):
        raise InvalidInput(Msg(N_("'{email}' is not an e-mail address."), email=email),
                           field="email")
    return email


def _require_unused_email(email: str, user: User | None = None) -> None:
    found = db.session.scalar(select(User).where(User.email == email))
    if found is not None and found is not user:
        raise InvalidInput(Msg(N_("A user with e-mail {email} already exists."), email=email),
                           field="email")


def _user_name(name: str | None) -> str:
    try:
        return _clean_name(name, Label("name", sv="namnet"))
    except InvalidInput as error:
        error.details["field"] = "name"
        raise


def create_user(actor: Actor, *, email: str, name: str, organisation_name: str,
                password: str | None) -> User:
    """A local account. Without a password (the browser's way), none is usable until the
    user sets one through a reset link: the administrator never knows it."""
    require_admin(actor, "user.create")
    email = clean_email(email)
    _require_unused_email(email)
    if password is not None:
        check_new_password(password, email=email)
    name = _user_name(name)
    try:
        organisation = find_organisation(organisation_name)
    except InvalidInput as error:
        error.details["field"] = "organisation"
        raise
    user = User(email=email, name=name, organisation=organisation, created_at=now())
    user.set_password(password if password is not None else secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    record_event("user.create", actor=actor, object_type="user", object_id=user.id,
                 data={"email": email, "name": user.name,
                       "organisation": user.organisation.name})
    return user


def _is_active_admin(user: User) -> bool:
    return user.active and any(m.role == Role.ADMIN for m in user.memberships)


def _require_another_admin(user: User) -> None:
    """Refuse what would leave no active administrator (nobody could administer in the
    browser any more)."""
    others = db.session.scalar(
        select(func.count(func.distinct(User.id))).join(Membership)
        .where(Membership.role == Role.ADMIN, User.active, User.id != user.id))
    if _is_active_admin(user) and not others:
        raise InvalidInput(Msg(N_("{email} is the last active administrator. Make someone "
                                  "else an administrator first."), email=user.email))


def _spend_reset_links(user: User) -> int:
    """Every reset link of the user's that could still be used stops working now."""
    links = db.session.scalars(select(PasswordResetLink).where(
        PasswordResetLink.user_id == user.id, PasswordResetLink.spent_at.is_(None))).all()
    for link in links:
        link.spent_at = now()
    return len(links)


def set_user_active(actor: Actor, user: User, active: bool) -> User:
    """Deactivate a user who left (every session ends at once; sign-in and reset links are
    refused) or bring one back. Nothing the user did is removed: the trail and the texts keep
    the name."""
    action = "user.reactivate" if active else "user.deactivate"
    require_admin(actor, action)
    if user.active == active:
        raise InvalidInput(Msg(N_("{email} is already active.") if active
                               else N_("{email} is already deactivated."), email=user.email))
    if not active and isinstance(actor, User) and actor.id == user.id:
        raise InvalidInput(Msg(N_("You cannot deactivate yourself.")))
    if not active:
        _require_another_admin(user)
        _spend_reset_links(user)
    user.active = active
    user.end_sessions()
    db.session.flush()
    record_event(action, actor=actor, object_type="user", object_id=user.id,
                 data={"email": user.email, "before": {"active": not active},
                       "after": {"active": active}})
    return user


def edit_user(actor: Actor, user: User, *, name: str, email: str) -> dict:
    """Correct a user's name or e-mail address: one event with what changed, before and
    after. The trail keeps the name each past event was recorded with. Returns the changes
    ({} when nothing changed, and then nothing is recorded)."""
    require_admin(actor, "user.edit")
    email = clean_email(email)
    name = _user_name(name)
    _require_unused_email(email, user)
    before = {"name": user.name, "email": user.email}
    after = {"name": name, "email": email}
    changed = {key for key in before if before[key] != after[key]}
    if not changed:
        return {}
    user.name, user.email = name, email
    db.session.flush()
    record_event("user.edit", actor=actor, object_type="user", object_id=user.id,
                 data={"before": {k: before[k] for k in sorted(changed)},
                       "after": {k: after[k] for k in sorted(changed)}})
    return {key: (before[key], after[key]) for key in changed}


def _roles_of(user: User) -> list[str]:
    return sorted(f"{m.role}@{m.area.name}" if m.area else m.role for m in user.memberships)


def grant_role(actor: Actor, user: User, role: str, area_name: str | None = None) -> Membership:
    require_admin(actor, "membership.create")
    if role not in set(Role):
        raise InvalidInput(Msg(N_("Unknown role '{role}'. Known: {known}."),
                               role=role, known=", ".join(r.value for r in Role)), field="role")
    role_name = _role_name(role)
    if role in CITY_ROLES and area_name:
        raise InvalidInput(Msg(N_("The role '{role}' is city-wide; do not give an area."),
                               role=role_name), field="area")
    if role in AREA_ROLES and not area_name:
        raise InvalidInput(Msg(N_("The role '{role}' needs an area."), role=role_name),
                           field="area")
    kinds = ROLE_ORGANISATION_KINDS[Role(role)]
    if user.organisation.kind not in kinds:
        raise InvalidInput(Msg(N_("A user of {organisation} cannot hold the role '{role}'."),
                               organisation=user.organisation.name, role=role_name),
                           field="role")
    area = _with_field(find_area, area_name, "area") if area_name else None
    if area is not None and user.organisation.kind != OrganisationKind.CITY_OFFICE \
            and user.organisation not in area.organisations:
        raise InvalidInput(Msg(N_("{organisation} does not serve the area '{area}'."),
                               organisation=user.organisation.name, area=area.name),
                           field="area")
    if any(m.role == role and m.area_id == (area.id if area else None)
           for m in user.memberships):
        raise InvalidInput(Msg(N_("{email} already has the role '{role}' there."),
                               email=user.email, role=role_name), field="role")
    before = _roles_of(user)
    membership = Membership(user=user, role=role, area=area)
    db.session.add(membership)
    user.end_sessions()  # what the user may do changed: sign in again to get it
    db.session.flush()
    record_event("membership.create", actor=actor, object_type="user", object_id=user.id,
                 data={"role": role, "area": area.name if area else None,
                       "before": {"roles": before}, "after": {"roles": _roles_of(user)}})
    return membership


def revoke_role(actor: Actor, user: User, role: str, area_name: str | None = None) -> None:
    """Take one role back. Work the user held in it passes to whoever else holds the role
    there (the pages and the command line say who); the last administrator keeps theirs."""
    require_admin(actor, "membership.delete")
    area = _with_field(find_area, area_name, "area") if area_name else None
    membership = next((m for m in user.memberships
                       if m.role == role and m.area_id == (area.id if area else None)), None)
    if membership is None:
        raise InvalidInput(Msg(N_("{email} does not have the role '{role}' there."),
                               email=user.email, role=_role_name(role) if role in set(Role)
                               else role), field="role")
    if role == Role.ADMIN:
        _require_another_admin(user)
    before = _roles_of(user)
    user.memberships.remove(membership)
    user.end_sessions()  # what the user may do changed
    db.session.flush()
    record_event("membership.delete", actor=actor, object_type="user", object_id=user.id,
                 data={"role": role, "area": area.name if area else None,
                       "before": {"roles": before}, "after": {"roles": _roles_of(user)}})


def _require_unused_name(model, name: str, current, message: str) -> None:
    found = db.session.scalar(select(model).where(model.name == name))
    if found is not None and found is not current:
        raise InvalidInput(Msg(message, name=name), field="name")


def _named(name: str | None, what: Label) -> str:
    try:
        return _clean_name(name, what)
    except InvalidInput as error:
        error.details["field"] = "name"
        raise


def rename_organisation(actor: Actor, organisation: Organisation, name: str) -> bool:
    """Rename an organisation (its users' past events keep the name they were recorded
    with). False when the name is the same, and then nothing is recorded."""
    require_admin(actor, "organisation.rename")
    name = _named(name, Label("organisation name", sv="organisationens namn"))
    if name == organisation.name:
        return False
    _require_unused_name(Organisation, name, organisation,
                         N_("An organisation named '{name}' already exists."))
    before = organisation.name
    organisation.name = name
    organisation.version += 1
    db.session.flush()
    record_event("organisation.rename", actor=actor, object_type="organisation",
                 object_id=organisation.id,
                 data={"before": {"name": before}, "after": {"name": name}})
    return True


def edit_area(actor: Actor, area: Area, *, name: str | None = None,
              organisation_names: list[str] | None = None) -> bool:
    """Rename an area and/or set the organisations that serve it, in one event (None leaves
    that part as it is). An organisation whose users hold a role in the area cannot be taken
    off it: revoke those roles first. False when nothing changed."""
    require_admin(actor, "area.edit")
    before = {"name": area.name, "organisations": sorted(o.name for o in area.organisations)}
    new_name = area.name if name is None else _named(
        name, Label("area name", sv="områdets namn"))
    if new_name != area.name:
        _require_unused_name(Area, new_name, area, N_("An area named '{name}' already exists."))
    organisations = list(area.organisations) if organisation_names is None else [
        _with_field(find_organisation, n, "organisations") for n in dict.fromkeys(
            organisation_names)]
    for removed in set(area.organisations) - set(organisations):
        holders = db.session.scalars(
            select(User.email).join(Membership)
            .where(User.organisation_id == removed.id, Membership.area_id == area.id)
            .order_by(User.email)).all()
        if holders:
            raise InvalidInput(Msg(N_("{organisation} cannot stop serving {area}: {users} hold "
                                      "roles there. Revoke those first."),
                                   organisation=removed.name, area=area.name,
                                   users=", ".join(dict.fromkeys(holders))),
                               field="organisations")
    after = {"name": new_name, "organisations": sorted(o.name for o in organisations)}
    if after == before:
        return False
    area.name = new_name
    area.organisations = organisations
    area.version += 1
    db.session.flush()
    changed = sorted(key for key in before if before[key] != after[key])
    record_event("area.edit", actor=actor, object_type="area", object_id=area.id,
                 data={"before": {k: before[k] for k in changed},
                       "after": {k: after[k] for k in changed}})
    return True


# -- passwords: one's own, and one-time reset links ------------------------------------------

RESET_LINK_LIFETIME = timedelta(hours=24)


def token_hash(token: str) -> str:
    """What the database keeps of a reset token (a random 256-bit token needs no salt)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_reset_link(actor: Actor, user: User) -> tuple[str, datetime]:
    """A one-time link for `user` to set a new password: (token, expiry). The token is given
    back once, to be shown or sent; only its hash is stored, and the event records neither.
    An earlier link of the user's stops working."""
    require_admin(actor, "user.reset_link")
    if not user.active:
        raise InvalidInput(Msg(N_("{email} is deactivated: reactivate the account before "
                                  "issuing a link."), email=user.email))
    superseded = _spend_reset_links(user)
    token = secrets.token_urlsafe(32)
    issued_at = now()
    expires_at = issued_at + RESET_LINK_LIFETIME
    db.session.add(PasswordResetLink(user_id=user.id, token_hash=token_hash(token),
                                     created_at=issued_at, expires_at=expires_at))
    db.session.flush()
    record_event("user.reset_link", actor=actor, object_type="user", object_id=user.id,
                 data={"email": user.email, "expires_at": expires_at.isoformat(),
                       "superseded": superseded})
    return token, expires_at


_LINK_NOT_VALID = N_("This link cannot be used: it has expired, has been used already or was "
                     "replaced by a newer one. Ask your administrator for a new link.")


class RefusedResetLink(InvalidInput):
    """A reset link that cannot be used, with why (for the trail; the person sees one message
    whatever it is) and whose link it was, when it was one."""

    def __init__(self, reason: str, user: User | None = None):
        super().__init__(Msg(_LINK_NOT_VALID))
        self.reason, self.user_id = reason, user.id if user else None


def reset_link_user(token: str | None) -> User:
    """The user a reset link may set a new password for now, or RefusedResetLink (the same
    message whatever is wrong: it tells a guesser nothing)."""
    link = db.session.scalar(select(PasswordResetLink).where(
        PasswordResetLink.token_hash == token_hash(token or "")))
    if link is None:
        raise RefusedResetLink("unknown link")
    if not link.user.active:  # first: deactivating spends the links too
        raise RefusedResetLink("account deactivated", link.user)
    if link.spent_at is not None:
        raise RefusedResetLink("link used or replaced", link.user)
    if link.expires_at <= now():
        raise RefusedResetLink("link expired", link.user)
    return link.user


def record_refused_reset_link(refusal: RefusedResetLink) -> None:
    """A security event, like a failed sign-in: the reason and the account, never the token
    (it, or its hash, would let whoever reads the trail try it)."""
    record_event("auth.reset_link_refused", object_type="user", object_id=refusal.user_id,
                 data={"reason": refusal.reason})


def reset_password(token: str | None, new_password: str) -> User:
    """Set a new password through a reset link: the link is spent, every session of the
    user's ends, and the event is the user's own."""
    user = reset_link_user(token)
    check_new_password(new_password, email=user.email, field="new_password")
    _spend_reset_links(user)
    user.set_password(new_password)  # ends every session
    db.session.flush()
    record_event("user.password_reset", actor=user, object_type="user", object_id=user.id)
    return user


def change_password(user: User, current_password: str, new_password: str) -> User:
    """A signed-in user's new password: the current one first. Every session ends (the page
    begins a new one for the browser that asked) and any reset link stops working."""
    if not user.active:
        raise InvalidInput(Msg(N_("The account is deactivated.")))
    if not user.check_password(current_password or ""):
        raise InvalidInput(Msg(N_("The current password is not right.")),
                           field="current_password")
    check_new_password(new_password, email=user.email, field="new_password")
    if new_password == current_password:
        raise InvalidInput(Msg(N_("The new password is the same as the current one.")),
                           field="new_password")
    _spend_reset_links(user)
    user.set_password(new_password)
    db.session.flush()
    record_event("user.password_change", actor=user, object_type="user", object_id=user.id)
    return user


# -- reading, for the pages and the command line ---------------------------------------------

def contains_pattern(query: str | None) -> str | None:
    """A list's search (users, group mappings): the words as typed, any case, matched
    anywhere, LIKE's wildcards taken literally (escape with a backslash); None for none."""
    words = " ".join((query or "").split())[:200]
    if not words:
        return None
    return "%" + words.lower().replace("\\", "\\\\").replace("%", "\\%") \
        .replace("_", "\\_") + "%"


def search_users(query: str = "", *, page: int = 1, per_page: int = 25) -> tuple[list[User], int]:
    """Users whose name or e-mail contains `query` (any case), by name: (one page, total)."""
    statement = select(User)
    pattern = contains_pattern(query)
    if pattern:
        statement = statement.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                        User.email.like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    users = db.session.scalars(statement.order_by(func.lower(User.name), User.id)
                               .offset((page - 1) * per_page).limit(per_page)).all()
    return list(users), total
