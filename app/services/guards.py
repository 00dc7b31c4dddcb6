"""The workflow guards by name, evaluated against the database for one acting user.

Each returns None when it passes, or a message saying why not (an app.i18n.Msg, so it can be
shown translated). workflows.guards declares the
names and kinds; `GUARD_IMPLEMENTATIONS` must cover exactly those (checked by a test).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import exists, select

from app.extensions import db
from app.i18n import N_, Msg
from app.models import Consolidation, Contribution, RevisionCause, Section, SectionRevision, User
from app.services.actors import Actor


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
    if contribution.submitted_by_id == actor.id:
        return Msg(N_("You submitted this contribution, so someone else must review it."))
    edited = db.session.scalar(
        select(
            exists().where(
                SectionRevision.section_id == Section.id,
                Section.contribution_id == contribution.id,
                SectionRevision.round == contribution.round,
                SectionRevision.author_id == actor.id,
            )
        )
    )
    if edited:
        return Msg(N_("You edited this contribution in this round, so someone else must "
                      "review it."))
    return None


def consolidation_open(actor: Actor, contribution: Contribution) -> str | None:
    consolidation = contribution.period.consolidation
    if consolidation is None or consolidation.state != "open":
        return Msg(N_("The period's consolidation is not open (it awaits approval or is "
                      "approved)."))
    return None


def all_contributions_settled(actor: Actor, consolidation: Consolidation) -> str | None:
    contributions = consolidation.period.contributions
    unsettled = sorted(
        c.area.name for c in contributions
        if c.state != "consolidated" and c.excluded_reason is None
    )
    if unsettled:
        return Msg(N_("Every contribution must be consolidated or excluded with a reason "
                      "first. Not yet: {areas}"), areas=", ".join(unsettled))
    if not any(c.state == "consolidated" and c.excluded_reason is None for c in contributions):
        return Msg(N_("At least one contribution must be consolidated."))
    return None


def not_consolidator(actor: Actor, consolidation: Consolidation) -> str | None:
    if not isinstance(actor, User):
        return Msg(N_("Only a person may approve."))
    if consolidation.submitted_by_id == actor.id:
        return Msg(N_("You submitted this consolidation, so someone else must approve it."))
    contributions = consolidation.period.contributions
    if any(c.consolidated_by_id == actor.id for c in contributions):
        return Msg(N_("You consolidated contributions in this period, so someone else must "
                      "approve it."))
    edited = db.session.scalar(
        select(
            exists().where(
                SectionRevision.section_id == Section.id,
                Section.contribution_id == Contribution.id,
                Contribution.period_id == consolidation.period_id,
                SectionRevision.cause == RevisionCause.CONSOLIDATION_EDIT,
                SectionRevision.author_id == actor.id,
            )
        )
    )
    if edited:
        return Msg(N_("You edited wording in this consolidation, so someone else must "
                      "approve it."))
    return None


GUARD_IMPLEMENTATIONS: dict[str, Callable[[Actor, object], str | None]] = {
    "all_sections_filled": all_sections_filled,
    "is_submitter": is_submitter,
    "not_submitter_or_editor": not_submitter_or_editor,
    "consolidation_open": consolidation_open,
    "all_contributions_settled": all_contributions_settled,
    "not_consolidator": not_consolidator,
}


def guard_check_for(actor: Actor) -> Callable[[str, object], str | None]:
    def check(name: str, subject: object) -> str | None:
        return GUARD_IMPLEMENTATIONS[name](actor, subject)

    return check
