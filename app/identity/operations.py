"""Group mappings (which provider group gives which role, where) and what a sign-in through the
identity provider does to the user's account: each change is an audit event.

A sign-in is matched on (issuer, subject), never on the e-mail address alone: the e-mail a
provider sends can often be changed by its user or an admin of another tenant (the "nOAuth"
takeover). Linking an existing local account by e-mail happens only when the installation
allows it and the token says the address is verified (see sign_in).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from app.admin.operations import (
    ROLE_LABELS,
    ROLE_ORGANISATION_KINDS,
    contains_pattern,
    find_area,
    find_organisation,
)
from app.audit.trail import record_event
from app.core.access import require_admin
from app.core.actors import Actor, SystemActor
from app.core.clock import now
from app.core.errors import InvalidInput, NotFound
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import (
    AREA_ROLES,
    CITY_ROLES,
    Area,
    GroupMapping,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)

# Stored as the password hash of an account made by the provider: no password matches it.
NO_PASSWORD = "!identity-provider"
MANUAL, GROUP = "manual", "group"
MAX_GROUP_LENGTH = 256


# -- the rule: which mapping may exist (the page, the CLI and the sign-in ask it) ------------

def check_role_fits(role: str, organisation: Organisation, area: Area | None) -> None:
    """The membership rules of app.admin: a role the organisation's kind may hold, an area
    for the area roles and none for the city's, and an area the organisation serves."""
    if role not in set(Role):
        raise InvalidInput(Msg(N_("Unknown role '{role}'. Known: {known}."),
                               role=role, known=", ".join(r.value for r in Role)), field="role")
    label = ROLE_LABELS[Role(role)]
    if role in CITY_ROLES and area is not None:
        raise InvalidInput(Msg(N_("The role '{role}' is city-wide; do not give an area."),
                               role=label), field="area")
    if role in AREA_ROLES and area is None:
        raise InvalidInput(Msg(N_("The role '{role}' needs an area."), role=label),
                           field="area")
    if organisation.kind not in ROLE_ORGANISATION_KINDS[Role(role)]:
        raise InvalidInput(Msg(N_("A user of {organisation} cannot hold the role '{role}'."),
                               organisation=organisation.name, role=label), field="role")
    if area is not None and organisation.kind != OrganisationKind.CITY_OFFICE \
            and organisation not in area.organisations:
        raise InvalidInput(Msg(N_("{organisation} does not serve the area '{area}'."),
                               organisation=organisation.name, area=area.name), field="area")


def _clean_group(value: str | None) -> str:
    group = (value or "").strip()
    if not group:
        raise InvalidInput(Msg(N_("Give the group as the identity provider names it.")),
                           field="group")
    if len(group) > MAX_GROUP_LENGTH or any(ord(ch) < 32 for ch in group):
        raise InvalidInput(Msg(N_("The group must be at most {limit} characters, without "
                                  "control characters."), limit=MAX_GROUP_LENGTH),
                           field="group")
    return group


def _described(mapping: GroupMapping) -> dict:
    return {"group": mapping.provider_group, "role": mapping.role,
            "organisation": mapping.organisation.name,
            "area": mapping.area.name if mapping.area else None}


def add_mapping(actor: Actor, *, group: str, role: str, organisation_name: str,
                area_name: str | None = None) -> GroupMapping:
    require_admin(actor, "group_mapping.create")
    group = _clean_group(group)
    try:
        organisation = find_organisation((organisation_name or "").strip())
    except InvalidInput as error:
        raise InvalidInput(Msg(error.template, **error.params), field="organisation") from None
    area = None
    if (area_name or "").strip():
        try:
            area = find_area(area_name.strip())
        except InvalidInput as error:
            raise InvalidInput(Msg(error.template, **error.params), field="area") from None
    check_role_fits(role, organisation, area)
    duplicate = db.session.scalar(select(GroupMapping).where(
        GroupMapping.provider_group == group, GroupMapping.role == role,
        GroupMapping.organisation_id == organisation.id,
        GroupMapping.area_id.is_(None) if area is None else GroupMapping.area_id == area.id))
    if duplicate is not None:
        raise InvalidInput(Msg(N_("The group '{group}' already gives this role there."),
                               group=group), field="group")
    mapping = GroupMapping(provider_group=group, role=role, organisation=organisation,
                           area=area, created_at=now())
    db.session.add(mapping)
    db.session.flush()
    record_event("group_mapping.create", actor=actor, object_type="group_mapping",
                 object_id=mapping.id, data=_described(mapping))
    return mapping


def remove_mapping(actor: Actor, mapping_id: int) -> dict:
    """Remove a mapping. Memberships it gave follow at each user's next sign-in."""
    require_admin(actor, "group_mapping.delete")
    mapping = db.session.get(GroupMapping, mapping_id)
    if mapping is None:
        raise NotFound(Msg(N_("There is no group mapping {id}."), id=mapping_id))
    described = _described(mapping)
    db.session.delete(mapping)
    db.session.flush()
    record_event("group_mapping.delete", actor=actor, object_type="group_mapping",
                 object_id=mapping_id, data=described)
    return described


def list_mappings() -> list[GroupMapping]:
    return list(db.session.scalars(select(GroupMapping).order_by(
        GroupMapping.provider_group, GroupMapping.role, GroupMapping.id)))


def search_mappings(query: str = "", *, page: int = 1,
                    per_page: int = 25) -> tuple[list[GroupMapping], int]:
    """Mappings whose group, organisation or area contains `query` (any case), by group:
    (one page, total)."""
    statement = select(GroupMapping).join(GroupMapping.organisation).outerjoin(
        GroupMapping.area)
    pattern = contains_pattern(query)
    if pattern:
        statement = statement.where(or_(
            func.lower(GroupMapping.provider_group).like(pattern, escape="\\"),
            func.lower(Organisation.name).like(pattern, escape="\\"),
            func.lower(Area.name).like(pattern, escape="\\")))
    total = db.session.scalar(select(func.count()).select_from(statement.subquery()))
    found = db.session.scalars(statement.order_by(
        GroupMapping.provider_group, GroupMapping.role, GroupMapping.id)
        .offset((page - 1) * per_page).limit(per_page)).all()
    return list(found), total


# -- signing in through the provider --------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """What a validated ID token says about the person."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    groups: tuple[str, ...]


@dataclass
class SignIn:
    """The outcome: a user who may sign in, or a refusal with the reason for the trail."""

    user: User | None = None
    refusal: str | None = None  # the reason, for the trail (the person sees a generic page)
    no_access: bool = False  # known to the provider, but no mapping gives a role
    changes: list[dict] = field(default_factory=list)


def provider_actor(issuer: str) -> SystemActor:
    """Who the trail names for what a sign-in changes: the provider's groups, not a person."""
    return SystemActor(name=f"identity provider ({issuer})"[:200],
                       organisation_name="identity provider")


def _clean_email(value: str | None) -> str | None:
    email = (value or "").strip().lower()
    if "@" not in email or len(email) > 254 or any(ch.isspace() for ch in email) \
            or email.startswith("@") or email.endswith("@"):
        return None
    return email


def record_fault(issuer: str | None, reason: str) -> None:
    """A token or state fault (provider.SignInFault): nobody is known yet, only the reason."""
    record_event("auth.login_failed", object_type="user",
                 data={"method": "oidc", "reason": reason, "issuer": issuer})


def _failed(identity: Identity, reason: str, user: User | None = None) -> SignIn:
    record_event("auth.login_failed", actor=user, object_type="user",
                 object_id=user.id if user else None,
                 data={"method": "oidc", "reason": reason, "issuer": identity.issuer,
                       "subject": identity.subject[:255]})
    return SignIn(user=user, refusal=reason)


def _mapped(groups: tuple[str, ...]) -> list[GroupMapping]:
    if not groups:
        return []
    return list(db.session.scalars(select(GroupMapping).where(
        GroupMapping.provider_group.in_(groups)).order_by(GroupMapping.id)))


def sign_in(identity: Identity, *, link_by_email: bool) -> SignIn:
    """Find (or make) the account of a person the provider vouched for, and let her
    memberships from groups follow the mappings. Call inside one operation."""
    user = db.session.scalar(select(User).where(User.oidc_issuer == identity.issuer,
                                                User.oidc_subject == identity.subject))
    email = _clean_email(identity.email)
    mappings = _mapped(identity.groups)
    actor = provider_actor(identity.issuer)
    if user is None and email is not None:
        local = db.session.scalar(select(User).where(User.email == email))
        if local is not None:
            if not (link_by_email and identity.email_verified and local.oidc_subject is None):
                return _failed(identity, "e-mail belongs to an account not linked to this "
                                         "identity", local)
            if not local.active:
                return _failed(identity, "account deactivated", local)
            local.oidc_issuer, local.oidc_subject = identity.issuer, identity.subject
            db.session.flush()
            record_event("user.link_identity", actor=actor, object_type="user",
                         object_id=local.id, data={"issuer": identity.issuer,
                                                   "subject": identity.subject,
                                                   "email": email})
            user = local
    if user is not None and not user.active:
        return _failed(identity, "account deactivated", user)
    if user is None:
        if not mappings:
            record_event("auth.login_failed", object_type="user",
                         data={"method": "oidc", "reason": "no mapped group",
                               "issuer": identity.issuer, "subject": identity.subject,
                               "email": email, "groups": list(identity.groups)[:50]})
            return SignIn(no_access=True, refusal="no mapped group")
        if email is None:
            return _failed(identity, "no usable e-mail claim")
        organisations = {m.organisation_id for m in mappings}
        if len(organisations) > 1:
            return _failed(identity, "groups map to more than one organisation")
        user = User(email=email, name=_name(identity, email),
                    organisation=mappings[0].organisation, password_hash=NO_PASSWORD,
                    oidc_issuer=identity.issuer, oidc_subject=identity.subject,
                    created_at=now())
        db.session.add(user)
        db.session.flush()
        record_event("user.create", actor=actor, object_type="user", object_id=user.id,
                     data={"email": email, "name": user.name,
                           "organisation": user.organisation.name, "source": "oidc",
                           "issuer": identity.issuer, "subject": identity.subject})
    changes = follow_groups(user, mappings, actor)
    if not user.memberships:
        record_event("auth.login_failed", actor=user, object_type="user", object_id=user.id,
                     data={"method": "oidc", "reason": "no role", "issuer": identity.issuer,
                           "subject": identity.subject})
        return SignIn(user=None, no_access=True, refusal="no role", changes=changes)
    record_event("auth.login_succeeded", actor=user, object_type="user", object_id=user.id,
                 data={"method": "oidc", "issuer": identity.issuer})
    return SignIn(user=user, changes=changes)


def _name(identity: Identity, email: str) -> str:
    name = " ".join((identity.name or "").split())[:200]
    return name if name and all(ord(ch) >= 32 for ch in name) else email


def follow_groups(user: User, mappings: list[GroupMapping], actor: Actor) -> list[dict]:
    """Add the memberships the user's groups map to and remove those from groups she no longer
    has; memberships granted by hand are left alone. Mappings of another organisation than
    the user's, or that the rules refuse, give nothing. Each change is one event."""
    wanted: dict[tuple[str, int | None], GroupMapping] = {}
    for mapping in mappings:
        if mapping.organisation_id != user.organisation_id:
            continue
        try:
            check_role_fits(mapping.role, user.organisation, mapping.area)
        except InvalidInput:
            continue
        wanted.setdefault((mapping.role, mapping.area_id), mapping)
    held = {(m.role, m.area_id): m for m in user.memberships}
    changes = []
    for key, membership in held.items():
        if membership.source == GROUP and key not in wanted:
            area = membership.area.name if membership.area else None
            user.memberships.remove(membership)
            changes.append({"action": "membership.delete", "role": key[0], "area": area})
    for key, mapping in wanted.items():
        if key not in held:
            user.memberships.append(Membership(role=mapping.role, area=mapping.area,
                                               source=GROUP))
            changes.append({"action": "membership.create", "role": key[0],
                            "area": mapping.area.name if mapping.area else None,
                            "group": mapping.provider_group})
    if changes:
        user.end_sessions()  # what the user may do changed: other sessions sign in again
        db.session.flush()
    for change in changes:
        data = {k: v for k, v in change.items() if k != "action"}
        action = "membership.create" if change["action"] == "membership.create" \
            else "membership.delete"
        record_event(action, actor=actor, object_type="user", object_id=user.id,
                     data={**data, "source": GROUP})
    return changes
