"""Uploads waiting between the import's preview and its confirmation: in the database, so
that with several app servers the confirmation may reach another one than the preview did.
Each is the uploader's own, found by the file's SHA-256, and is gone after a day."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from app.core.actors import Actor
from app.core.clock import now
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import PendingUpload, User

MAX_AGE = timedelta(days=1)


def keep(user: User, sha256: str, data: bytes) -> None:
    """Keep the upload until it is confirmed (the same file again replaces it); forget
    everyone's uploads older than a day."""
    with operation(user):
        db.session.execute(delete(PendingUpload).where(
            (PendingUpload.created_at < now() - MAX_AGE)
            | ((PendingUpload.user_id == user.id) & (PendingUpload.sha256 == sha256))))
        db.session.add(PendingUpload(user_id=user.id, sha256=sha256, data=data))


def find(user: User, sha256: str) -> bytes | None:
    """The user's waiting upload with this SHA-256, if it is still there."""
    return db.session.scalar(select(PendingUpload.data).where(
        PendingUpload.user_id == user.id, PendingUpload.sha256 == sha256,
        PendingUpload.created_at >= now() - MAX_AGE))


def forget(actor: Actor, sha256: str) -> None:
    """Called inside the confirmation's operation: the upload goes with the import."""
    db.session.execute(delete(PendingUpload).where(
        PendingUpload.user_id == actor.id, PendingUpload.sha256 == sha256))
