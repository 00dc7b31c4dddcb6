"""Who may do what with documents: read (export, print) one area's lägesbild or the whole
period's, import old documents, and carry last period's texts forward. Reading follows the
contributions' one rule (contributions.policy); an operator at the command line may read and
import everything."""
from __future__ import annotations

from app.contributions.operations import get_contribution
from app.contributions.policy import may_read, may_read_every_area
from app.core.access import area_ids_for, deny, roles_for
from app.core.actors import Actor, SystemActor
from app.core.errors import NotFound
from app.core.messages import N_, Msg
from app.extensions import db
from app.models import Contribution, Period, Role, User


def may_read_contribution(actor: Actor, contribution: Contribution) -> bool:
    return isinstance(actor, SystemActor) or may_read(actor, contribution)


def may_read_period(actor: Actor) -> bool:
    return isinstance(actor, SystemActor) or may_read_every_area(actor)


def readable_contribution(actor: Actor, contribution_id: int, action: str) -> Contribution:
    contribution = get_contribution(contribution_id)
    if not may_read_contribution(actor, contribution):
        raise deny(Msg(N_("You do not have a role that may read this contribution.")),
                   action=action, object_type="contribution", object_id=contribution.id)
    return contribution


def readable_period(actor: Actor, period_id: int, action: str) -> Period:
    period = db.session.get(Period, period_id)
    if period is None:
        raise NotFound(Msg(N_("There is no period {id}."), id=period_id))
    if not may_read_period(actor):
        raise deny(Msg(N_("Only the city office's roles may read the whole period.")),
                   action=action, object_type="period", object_id=period.id)
    return period


def may_import(actor: Actor) -> bool:
    return isinstance(actor, SystemActor) or Role.CONSOLIDATOR in roles_for(actor, None)


def require_importer(actor: Actor) -> None:
    """Old documents become final history (marked imported): only the city's coordinator (or
    an operator at the command line) may import them."""
    if not may_import(actor):
        raise deny(Msg(N_("Only the coordinator may import documents.")),
                   action="document.import")


def allowed_area_ids(actor: Actor) -> set[int] | None:
    """Where the actor may carry texts forward. None: every area (the coordinator, an
    operator at the command line); a drafter their own areas; anyone else none. Carrying
    forward writes texts, so it is the drafters' or the coordinator's: the administrator, who
    opens periods, manages structure and never content."""
    if isinstance(actor, SystemActor):
        return None
    if Role.CONSOLIDATOR in roles_for(actor, None):
        return None
    if isinstance(actor, User):
        areas = area_ids_for(actor, Role.DRAFTER)
        return areas if areas is None else set(areas)
    return set()


def may_carry_forward_at_opening(actor: Actor) -> bool:
    """Whether the actor may carry every area's texts forward into a period as it is opened:
    whoever may carry forward everywhere, and the administrator, who opens periods. Only at
    the opening (carry_forward.carry_forward_at_opening checks that nothing is written yet):
    afterwards the texts are the drafters' and the coordinator's."""
    return allowed_area_ids(actor) is None or Role.ADMIN in roles_for(actor, None)
