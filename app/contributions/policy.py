"""Who may do what with a contribution: read it, edit it, exclude it, fire its triggers.

The page (to draw a button or refuse early) and the operation (to enforce) both ask here. The
workflow's guards (separation of duties, preconditions) are implemented here by the names the
definition gives them, and bound to the definition with the triggers' effects (CONTRIBUTIONS).

A refused read is still a security event (unit_of_work.refuse), as a refused write is.
"""
from __future__ import annotations

from app.contributions.duties import Act, acts_in_round
from app.contributions.effects import EFFECTS
from app.core.access import deny, roles_for
from app.core.actors import Actor
from app.core.errors import InvalidTransition
from app.core.messages import N_, Msg
from app.core.transitions import BoundWorkflow, check_version, state_label
from app.core.unit_of_work import refuse
from app.models import Contribution, Remark, Role, User
from workflows import CONTRIBUTION_WORKFLOW, Editor

# -- the workflow's guards -------------------------------------------------------------------

def all_sections_filled(actor: Actor, contribution: Contribution) -> str | None:
    empty = [s.topic.heading for s in contribution.ordered_sections if not s.is_filled]
    if empty:
        return Msg(N_("Every section must be filled before submitting. Empty: {headings}"),
                   headings="; ".join(empty))
    return None


def is_submitter(actor: Actor, contribution: Contribution) -> str | None:
    if not isinstance(actor, User) or contribution.submitted_by_id != actor.id:
        return Msg(N_("Only the person who submitted the contribution may withdraw it."))
    return None


def not_submitter_or_editor(actor: Actor, contribution: Contribution) -> str | None:
    if not isinstance(actor, User):
        return Msg(N_("Only a person may review."))
    acts = acts_in_round(actor, contribution)
    if Act.SUBMITTED in acts:
        return Msg(N_("You submitted this contribution in this round (even if it was withdrawn), "
                      "so someone else must review it."))
    if Act.EDITED in acts:
        return Msg(N_("You edited this contribution in this round (a text or a "
                      "cross-reference), so someone else must review it."))
    return None


def consolidation_open(actor: Actor, contribution: Contribution) -> str | None:
    consolidation = contribution.period.consolidation
    if consolidation is None or consolidation.state != "open":
        return Msg(N_("The period's consolidation is not open (it awaits approval or is "
                      "approved)."))
    return None


CONTRIBUTIONS = BoundWorkflow(CONTRIBUTION_WORKFLOW, guards={
    "all_sections_filled": all_sections_filled,
    "is_submitter": is_submitter,
    "not_submitter_or_editor": not_submitter_or_editor,
    "consolidation_open": consolidation_open,
}, effects=EFFECTS)


# -- reading ---------------------------------------------------------------------------------

# Roles that may read a contribution's content when they cover its area. The administrator
# manages people and structure, never content, so that role alone gives no access.
READER_ROLES = frozenset({Role.DRAFTER, Role.REVIEWER, Role.CONSOLIDATOR, Role.APPROVER,
                          Role.AUDITOR})


def may_read(actor: Actor, contribution: Contribution) -> bool:
    return bool(roles_for(actor, contribution.area_id) & READER_ROLES)


def readable_area_ids(actor: Actor) -> frozenset[int] | None:
    """may_read's rule as a set, for queries over many contributions (the search): the areas
    whose contributions the actor may read; None means every area. Empty for anyone else, an
    inactive user and an administrator alone included (tests/search compare it to may_read)."""
    if roles_for(actor, None) & READER_ROLES:
        return None
    if not isinstance(actor, User) or not actor.active:
        return frozenset()
    return frozenset(m.area_id for m in actor.memberships
                     if m.area_id is not None and m.role in READER_ROLES)


def may_read_every_area(actor: Actor) -> bool:
    """A city-wide reader: the coordinator, the approver, auditors."""
    return bool(roles_for(actor, None) & READER_ROLES)


def require_read_access(actor: Actor, contribution: Contribution, *,
                        action: str = "contribution.view") -> None:
    """Raise NotAllowed (logged as a security event) unless the actor may read it."""
    if may_read(actor, contribution):
        return
    refusal = deny(
        Msg(N_("You do not have a role that lets you read this contribution.")),
        action=action, object_type="contribution", object_id=contribution.id,
    )
    refuse(actor, refusal)


# -- editing ---------------------------------------------------------------------------------

def editor_for(actor: Actor, contribution: Contribution) -> Editor | None:
    """The definition's editor entry that lets this actor edit now, or None."""
    return CONTRIBUTIONS.editor_for(contribution, actor, roles_for(actor, contribution.area_id))


def require_editor(actor: Actor, contribution: Contribution, section_id: int, *,
                   action: str = "section.edit") -> Editor:
    """The editor entry, or the refusal: 403 without an editing role, 409 when the
    contribution cannot be edited by this actor in its state (both logged)."""
    editor = editor_for(actor, contribution)
    if editor is not None:
        return editor
    where = {"action": action, "object_type": "section", "object_id": section_id}
    roles = roles_for(actor, contribution.area_id)
    if not any(e.role in roles for e in CONTRIBUTION_WORKFLOW.definition.editors):
        raise deny(Msg(N_("You do not have a role that may edit this contribution.")), **where)
    raise InvalidTransition(
        Msg(N_("The contribution cannot be edited by you in state '{state}'."),
            state=state_label(CONTRIBUTION_WORKFLOW, contribution.state)),
        log_refusal=True, **where,
    )


# -- excluding from the consolidation --------------------------------------------------------

def may_exclude(actor: Actor, contribution: Contribution) -> bool:
    """The coordinator, while the period's consolidation is open."""
    consolidation = contribution.period.consolidation
    return (Role.CONSOLIDATOR in roles_for(actor, None) and consolidation is not None
            and consolidation.state == "open")


def require_exclude(actor: Actor, contribution: Contribution, action: str,
                    expected_version: int | None) -> None:
    """The coordinator's role (403) first, so an outsider learns nothing of versions; then
    the version the caller saw (409); then the consolidation must be open (409)."""
    where = {"action": action, "object_type": "contribution", "object_id": contribution.id}
    if Role.CONSOLIDATOR not in roles_for(actor, None):
        raise deny(Msg(N_("Only the coordinator may exclude a contribution from the "
                          "consolidation.")), **where)
    check_version(contribution, expected_version, "contribution")
    if not may_exclude(actor, contribution):
        raise InvalidTransition(Msg(N_("The period's consolidation is not open.")), **where)


# -- remark threads ----------------------------------------------------------------------------

# Who answers a remark: the area's drafters and its police reviewers (and the remark's author,
# who may be the coordinator who reopened it). Only the author marks it resolved.
THREAD_ROLES = frozenset({Role.DRAFTER, Role.REVIEWER})


def thread_closed(contribution: Contribution) -> bool:
    """An approved (locked) or imported contribution's threads take no more answers."""
    return contribution.state == "approved" or contribution.imported


def _is_author(actor: Actor, remark: Remark) -> bool:
    return (isinstance(actor, User) and actor.id == remark.author_id
            and may_read(actor, remark.contribution))


def _may_take_part(actor: Actor, remark: Remark) -> bool:
    return bool(roles_for(actor, remark.contribution.area_id) & THREAD_ROLES) \
        or _is_author(actor, remark)


def may_reply(actor: Actor, remark: Remark) -> bool:
    return (_may_take_part(actor, remark) and remark.is_open
            and not thread_closed(remark.contribution))


def may_resolve(actor: Actor, remark: Remark) -> bool:
    return _is_author(actor, remark) and remark.is_open \
        and not thread_closed(remark.contribution)


def _require_open_thread(remark: Remark, where: dict) -> None:
    if thread_closed(remark.contribution):
        raise InvalidTransition(
            Msg(N_("The contribution is approved: its remarks can no longer be answered or "
                   "resolved.")), log_refusal=True, **where)
    if not remark.is_open:
        raise InvalidTransition(Msg(N_("This remark is already resolved.")),
                                log_refusal=True, **where)


def require_reply(actor: Actor, remark: Remark, expected_version: int | None) -> None:
    """The role first (403, logged), so an outsider learns nothing of the thread; then the
    version the form was rendered with (409); then an open thread (409)."""
    where = {"action": "remark.reply", "object_type": "remark", "object_id": remark.id}
    if not _may_take_part(actor, remark):
        raise deny(Msg(N_("Only the area's drafters and police reviewers, and the remark's "
                          "author, may answer a remark.")), **where)
    check_version(remark, expected_version, "remark")
    _require_open_thread(remark, where)


def require_resolve(actor: Actor, remark: Remark, expected_version: int | None) -> None:
    where = {"action": "remark.resolve", "object_type": "remark", "object_id": remark.id}
    if not _is_author(actor, remark):
        raise deny(Msg(N_("Only the person who wrote a remark may mark it resolved.")),
                   **where)
    check_version(remark, expected_version, "remark")
    _require_open_thread(remark, where)
