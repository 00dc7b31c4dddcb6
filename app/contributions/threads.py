"""Remark threads: a contribution's remark (general or on one section) is answered by the
area's drafters and police reviewers and marked resolved by its author. It stays open, round
after round, until then; resubmitting while an open remark has no answer asks first.

Each reply and each resolution is one audited operation (the caller commits, see
unit_of_work.operation); who may do what is policy.py's, which the pages ask too.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from app.audit.trail import record_event, scope_of
from app.contributions.policy import require_reply, require_resolve
from app.core.actors import Actor
from app.core.clock import now
from app.core.errors import InvalidInput, NotFound
from app.core.messages import N_, Msg
from app.core.text_rules import validate_section_text
from app.extensions import db
from app.models import Contribution, Remark, RemarkReply, RemarkResolution


class UnansweredRemarks(InvalidInput):
    """A resubmission while open remarks have no answer, not confirmed."""


def get_remark(remark_id: int) -> Remark:
    """A contribution's remark (a consolidation's remarks have no thread)."""
    remark = db.session.get(Remark, remark_id)
    if remark is None or remark.contribution_id is None:
        raise NotFound(Msg(N_("There is no remark {id}."), id=remark_id))
    return remark


# -- the rules the page and the operations share ---------------------------------------------

def open_remarks(contribution: Contribution) -> list[Remark]:
    """Open remarks of every round, oldest first."""
    return [remark for remark in contribution.remarks if remark.is_open]


def is_answered(remark: Remark) -> bool:
    """Someone other than its author has replied."""
    return any(reply.author_id != remark.author_id for reply in remark.replies)


def unanswered_remarks(contribution: Contribution) -> list[Remark]:
    return [remark for remark in open_remarks(contribution) if not is_answered(remark)]


def require_answers_or_confirmation(contribution: Contribution, trigger: str,
                                    confirmed: bool) -> None:
    """Resubmitting with open remarks nobody has answered is done only when the drafter
    confirms it (nothing is changed otherwise)."""
    if trigger != "resubmit" or confirmed:
        return
    unanswered = unanswered_remarks(contribution)
    if unanswered:
        raise UnansweredRemarks(
            Msg(N_("Open remarks without an answer: {count}. Answer them, or tick “Resubmit "
                   "without answering” to send the contribution anyway; nothing has been done "
                   "yet."), count=len(unanswered)),
            action="contribution.resubmit", object_type="contribution",
            object_id=contribution.id, field="confirm_unanswered")


def open_remark_counts(contribution_ids: Iterable[int]) -> dict[int, int]:
    """{contribution id: open remarks}, for many contributions in one query (the start
    page); contributions without open remarks are left out."""
    ids = list(contribution_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Remark.contribution_id, func.count(Remark.id))
        .outerjoin(RemarkResolution, RemarkResolution.remark_id == Remark.id)
        .where(Remark.contribution_id.in_(ids), RemarkResolution.id.is_(None))
        .group_by(Remark.contribution_id))
    return {contribution_id: count for contribution_id, count in rows}


# -- the operations ---------------------------------------------------------------------------

def _event_data(remark: Remark) -> dict:
    contribution = remark.contribution
    return {
        "contribution_id": contribution.id,
        "area": contribution.area.name,
        "period": contribution.period.name,
        "remark_id": remark.id,
        "section_id": remark.section_id,
        "topic": remark.section.topic.heading if remark.section else None,
        "round": contribution.round,
    }


def reply(actor: Actor, remark_id: int, text: str | bytes,
          expected_version: int | None) -> RemarkReply:
    """Answer a remark (the drafters, the reviewers, its author)."""
    remark = get_remark(remark_id)
    require_reply(actor, remark, expected_version)
    cleaned = validate_section_text(text, field="reply").strip()
    if not cleaned:
        raise InvalidInput(Msg(N_("Write an answer before sending it.")),
                           action="remark.reply", object_type="remark", object_id=remark.id,
                           field="reply")
    contribution = remark.contribution
    answer = RemarkReply(remark_id=remark.id, text=cleaned, author_id=actor.id,
                         round=contribution.round, created_at=now())
    db.session.add(answer)
    db.session.flush()
    db.session.refresh(remark, ["replies"])
    record_event("remark.reply", actor=actor, object_type="remark", object_id=remark.id,
                 **scope_of(contribution),
                 data=_event_data(remark) | {"reply_id": answer.id, "text": cleaned,
                                             "version": remark.version})
    return answer


def resolve(actor: Actor, remark_id: int, expected_version: int | None) -> RemarkResolution:
    """Mark a remark resolved (its author only)."""
    remark = get_remark(remark_id)
    require_resolve(actor, remark, expected_version)
    contribution = remark.contribution
    resolution = RemarkResolution(remark_id=remark.id, resolved_by_id=actor.id,
                                  round=contribution.round, created_at=now())
    db.session.add(resolution)
    db.session.flush()
    db.session.refresh(remark, ["resolution"])
    record_event("remark.resolve", actor=actor, object_type="remark", object_id=remark.id,
                 **scope_of(contribution),
                 data=_event_data(remark) | {"resolution_id": resolution.id,
                                             "version": remark.version})
    return resolution
