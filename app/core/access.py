"""Role and area scope: which roles a user holds for one area (or city-wide)."""
from __future__ import annotations

from app.core.actors import Actor, SystemActor
from app.core.errors import NotAllowed
from app.core.messages import N_, Msg
from app.models import Membership, Role, User


def roles_for(actor: Actor, area_id: int | None) -> set[str]:
    """Roles that cover this area. `area_id=None` asks for city-wide roles only."""
    if not isinstance(actor, User) or not actor.active:
        return set()
    return {
        m.role for m in actor.memberships
        if m.area_id is None or (area_id is not None and m.area_id == area_id)
    }


def all_roles(actor: Actor) -> set[str]:
    if not isinstance(actor, User):
        return set()
    return {m.role for m in actor.memberships}


def area_ids_for(user: User, role: str) -> set[int] | None:
    """Areas where the user holds `role`; None means every area (a city-wide membership)."""
    memberships: list[Membership] = [m for m in user.memberships if m.role == role]
    if any(m.area_id is None for m in memberships):
        return None
    return {m.area_id for m in memberships if m.area_id is not None}


def deny(message: str, *, action: str, object_type: str | None = None,
         object_id: int | str | None = None) -> NotAllowed:
    """A NotAllowed carrying what was attempted, for the security event. Give the message as
    an app.core.messages.Msg so it can be shown translated."""
    return NotAllowed(message, action=action, object_type=object_type, object_id=object_id)


def require_admin(actor: Actor, action: str) -> None:
    if isinstance(actor, SystemActor):
        return
    if Role.ADMIN not in roles_for(actor, None):
        raise deny(Msg(N_("Only an administrator may do this.")), action=action)
