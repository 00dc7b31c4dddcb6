"""Operations on one area's contribution: edit its sections and move it through the workflow.

Each operation takes the acting user, checks role, area scope and separation of duties,
changes the data, writes its audit event in the same transaction and flushes. The caller
commits (see unit_of_work.operation).
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.audit.trail import record_event, scope_of
from app.contributions.policy import CONTRIBUTIONS, require_editor, require_exclude
from app.contributions.threads import require_answers_or_confirmation
from app.core.access import roles_for
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput, InvalidTransition, NotFound
from app.core.messages import N_, Msg
from app.core.text_rules import validate_section_text
from app.core.transitions import (
    check_version,
    require_confirmed_comments,
    require_trigger_role,
)
from app.extensions import db
from app.models import Contribution, Remark, Section, SectionRevision, User
from app.notifications import handoffs


@dataclass(frozen=True)
class RemarkInput:
    text: str
    section_id: int | None = None


def get_contribution(contribution_id: int, *options) -> Contribution:
    """The contribution, or NotFound; `options`: loader options (app.contributions.loading)."""
    contribution = db.session.get(Contribution, contribution_id, options=options)
    if contribution is None:
        raise NotFound(Msg(N_("There is no contribution {id}."), id=contribution_id))
    return contribution


def get_section(section_id: int) -> Section:
    section = db.session.get(Section, section_id)
    if section is None:
        raise NotFound(Msg(N_("There is no section {id}."), id=section_id))
    return section


def text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_revision(section: Section, text: str, cause: str, author: User | None) -> SectionRevision:
    """Store `text` as the section's new current text, keeping it as a numbered revision."""
    number = (db.session.scalar(
        select(func.max(SectionRevision.number)).where(SectionRevision.section_id == section.id)
    ) or 0) + 1
    moment = now()
    section.text = text
    section.updated_by_id = author.id if author else None
    section.updated_at = moment
    revision = SectionRevision(
        section_id=section.id, number=number, text=text, cause=cause,
        author_id=author.id if author else None,
        round=section.contribution.round, created_at=moment,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def edit_section(actor: Actor, section_id: int, text: str | bytes,
                 expected_version: int) -> Section:
    """Save a section's text (drafters in draft/returned; consolidators' wording edits)."""
    section = get_section(section_id)
    contribution = section.contribution
    editor = require_editor(actor, contribution, section.id)
    new_text = validate_section_text(text)
    check_version(section, expected_version, "section")
    if new_text == section.text:
        return section  # nothing changed: no revision, no event
    before = section.text
    revision = add_revision(section, new_text, editor.cause, actor)
    record_event(
        "section.consolidation_edit" if editor.cause == "consolidation_edit" else "section.edit",
        actor=actor, object_type="section", object_id=section.id, **scope_of(contribution),
        data={
            "contribution_id": contribution.id,
            "topic": section.topic.heading,
            "revision_id": revision.id,
            "revision_number": revision.number,
            "section_version": section.version,
            "text_sha256": text_fingerprint(new_text),
            "previous_text_sha256": text_fingerprint(before),
            "characters": len(new_text),
        },
    )
    return section


def _validated_remarks(contribution: Contribution,
                       remarks: Sequence[RemarkInput]) -> list[RemarkInput]:
    section_ids = {s.id for s in contribution.sections}
    cleaned = []
    for remark in remarks:
        if not remark.text or not remark.text.strip():
            continue  # an empty per-section remark box is simply not a remark
        if remark.section_id is not None and remark.section_id not in section_ids:
            raise InvalidInput(
                Msg(N_("A remark refers to a section that is not in this contribution.")))
        try:
            text = validate_section_text(remark.text, field="remark")
        except InvalidInput as error:
            error.details["section_id"] = remark.section_id  # which box: shown beside it
            raise
        cleaned.append(RemarkInput(text, remark.section_id))
    return cleaned


def transition(actor: Actor, contribution_id: int, trigger: str, *,
               expected_version: int | None = None,
               remarks: Sequence[RemarkInput] = (), reason: str | None = None,
               comments_confirmed: bool = False,
               unanswered_confirmed: bool = False) -> Contribution:
    """Fire a user trigger (submit, withdraw, approve, return, resubmit, consolidate, reopen).
    Remarks with a trigger that does not require them (approve) are saved as comments only
    with `comments_confirmed`; a resubmission while open remarks have no answer only with
    `unanswered_confirmed`."""
    contribution = get_contribution(contribution_id)
    roles = roles_for(actor, contribution.area_id)
    require_trigger_role(CONTRIBUTIONS.workflow, contribution, trigger, roles,
                         object_type="contribution")
    check_version(contribution, expected_version, "contribution")
    cleaned_remarks = _validated_remarks(contribution, remarks)
    require_confirmed_comments(CONTRIBUTIONS.workflow, contribution, trigger,
                               [r.text for r in cleaned_remarks], comments_confirmed)
    require_answers_or_confirmation(contribution, trigger, unanswered_confirmed)
    if reason is not None:
        reason = validate_section_text(reason, field="reason").strip() or None
    round_before = contribution.round
    moment = now()
    fired = CONTRIBUTIONS.fire(
        contribution, trigger, actor, roles, moment, object_type="contribution",
        remarks=[r.text for r in cleaned_remarks], reason=reason,
    )
    stored_remarks = [
        Remark(contribution_id=contribution.id, section_id=r.section_id, trigger=trigger,
               round=round_before, text=r.text, author_id=actor.id, created_at=moment)
        for r in cleaned_remarks
    ]
    # A reason (reopen) is kept as a remark too, so the drafters see why it came back.
    reason_remark = reason and Remark(contribution_id=contribution.id, trigger=trigger,
                                      round=round_before, text=reason, author_id=actor.id,
                                      created_at=moment)
    db.session.add_all(stored_remarks + ([reason_remark] if reason_remark else []))
    db.session.flush()
    record_event(
        f"contribution.{trigger}", actor=actor, object_type="contribution",
        object_id=contribution.id, from_state=fired.from_state, to_state=fired.to_state,
        **scope_of(contribution),
        data={
            "area": contribution.area.name,
            "period": contribution.period.name,
            "round": round_before,
            "version": contribution.version,
            "remarks": [{"remark_id": m.id, "section_id": m.section_id, "text": m.text}
                        for m in stored_remarks],
            "reason": reason,
            "reason_remark_id": reason_remark.id if reason_remark else None,
        },
    )
    handoffs.after_contribution_transition(contribution, trigger, actor, stored_remarks,
                                           reason)
    return contribution


def set_excluded(actor: Actor, contribution_id: int, reason: str | None, *,
                 expected_version: int | None = None) -> Contribution:
    """Exclude a contribution from the period's consolidation (reason required), or include it
    again (reason None). Only the consolidator, only while the consolidation is open."""
    contribution = get_contribution(contribution_id)
    action = "contribution.exclude" if reason is not None else "contribution.include"
    where = {"action": action, "object_type": "contribution", "object_id": contribution.id}
    require_exclude(actor, contribution, action, expected_version)
    if reason is not None:
        reason = validate_section_text(reason, field="reason").strip()
        if not reason:
            raise InvalidInput(Msg(N_("A reason is required to exclude a contribution.")),
                               field="reason", **where)
        if contribution.excluded_reason is not None:
            raise InvalidTransition(Msg(N_("The contribution is already excluded.")), **where)
        contribution.excluded_by_id = actor.id
    else:
        if contribution.excluded_reason is None:
            raise InvalidTransition(Msg(N_("The contribution is not excluded.")), **where)
        contribution.excluded_by_id = None
    contribution.excluded_reason = reason
    contribution.updated_at = now()
    db.session.flush()
    record_event(action, actor=actor, object_type="contribution", object_id=contribution.id,
                 **scope_of(contribution),
                 from_state=contribution.state, to_state=contribution.state,
                 data={"area": contribution.area.name, "period": contribution.period.name,
                       "reason": reason, "version": contribution.version})
    handoffs.after_exclusion(contribution, actor, reason)
    return contribution


def exclude(actor: Actor, contribution_id: int, reason: str, **kw) -> Contribution:
    if reason is None or not str(reason).strip():
        contribution = get_contribution(contribution_id)
        raise InvalidInput(Msg(N_("A reason is required to exclude a contribution.")),
                           field="reason", action="contribution.exclude",
                           object_type="contribution", object_id=contribution.id)
    return set_excluded(actor, contribution_id, reason, **kw)


def include(actor: Actor, contribution_id: int, **kw) -> Contribution:
    return set_excluded(actor, contribution_id, None, **kw)
