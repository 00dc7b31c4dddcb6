"""One write transaction per operation: commit on success; on refusal roll back the change
and keep a security event of the attempt (in its own small transaction).

Write operations are serialised: on SQLite by BEGIN IMMEDIATE, on PostgreSQL by taking the
audit chain's advisory lock first. Taking it first (not only when the audit event is
appended) means no operation ever holds row locks while waiting for the chain, so two
operations cannot deadlock; and an operation always reads the state its predecessor committed.

Long reads (an export's texts) run in `consistent_read` instead, outside any operation: one
read transaction that sees one moment of the database and takes no write lock, so writers go
on meanwhile; only what must be atomic with the audit event then runs in an operation.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NoReturn

from sqlalchemy.orm.exc import StaleDataError

from app.audit.trail import lock_chain_head, record_event, scope_of
from app.core.actors import Actor
from app.core.errors import DomainError, InvalidTransition, NotAllowed, StaleVersion
from app.core.messages import N_, Msg
from app.database import write_intent
from app.extensions import db

_in_operation: ContextVar[bool] = ContextVar("in_operation", default=False)


@contextmanager
def operation(actor: Actor | None) -> Iterator[None]:
    session = db.session
    # End any read transaction so the write transaction starts with the write lock (SQLite).
    session.rollback()
    token = _in_operation.set(True)
    with write_intent():
        try:
            lock_chain_head()
            yield
            session.commit()
        except StaleDataError as error:
            session.rollback()
            raise StaleVersion(
                Msg(N_("Someone else changed this at the same time. Reload and try again."))
            ) from error
        except (NotAllowed, InvalidTransition) as refusal:
            session.rollback()
            if isinstance(refusal, NotAllowed) or refusal.details.get("log_refusal"):
                _record_refusal(actor, refusal)
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            _in_operation.reset(token)


@contextmanager
def consistent_read() -> Iterator[None]:
    """One read transaction: every query inside sees the database as of one moment (SQLite:
    a WAL read snapshot; PostgreSQL: REPEATABLE READ), and no write lock is taken. Objects
    loaded inside are expired when it ends: take out what is needed as plain values."""
    if _in_operation.get():
        raise RuntimeError("consistent_read inside an operation would hold its write lock "
                           "for the whole read; call it outside the operation")
    session = db.session
    session.rollback()  # a snapshot of now, not of an earlier read transaction
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        yield
    finally:
        session.rollback()


def refuse(actor: Actor | None, refusal: DomainError) -> NoReturn:
    """Raise a refusal met outside a write (a page that only reads, a check before a form): it
    is recorded as a security event just as a refused write's is."""
    with operation(actor):
        raise refusal


def _record_refusal(actor: Actor | None, refusal: NotAllowed | InvalidTransition) -> None:
    details = refusal.details
    action = (
        "security.permission_denied" if isinstance(refusal, NotAllowed)
        else "security.transition_refused"
    )
    record_event(
        action,
        actor=actor,
        object_type=details.get("object_type"),
        object_id=details.get("object_id"),
        data={"attempted": details.get("action"), "reason": refusal.message},
        **_scope(details.get("object_type"), details.get("object_id")),
    )
    db.session.commit()


def _scope(object_type: str | None, object_id) -> dict:
    """Period, area and contribution of the refused attempt's object, for the audit filters."""
    from app.models import Consolidation, Contribution, Remark, Section

    if object_id is None:
        return {}
    if object_type == "contribution":
        contribution = db.session.get(Contribution, int(object_id))
        return scope_of(contribution) if contribution else {}
    if object_type == "section":
        section = db.session.get(Section, int(object_id))
        return scope_of(section.contribution) if section else {}
    if object_type == "remark":  # a contribution's remark (its thread)
        remark = db.session.get(Remark, int(object_id))
        return scope_of(remark.contribution) if remark and remark.contribution else {}
    if object_type == "consolidation":
        consolidation = db.session.get(Consolidation, int(object_id))
        return {"period_id": consolidation.period_id} if consolidation else {}
    return {}
