"""Sign-in and sign-out, with their security events."""
from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit.trail import record_event
from app.core.text_rules import find_identity_numbers
from app.extensions import db
from app.models import User

# Compared against when the e-mail is unknown, so both failures take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalised_email(email: str | None) -> str:
    """The form's e-mail address as accounts are stored (and as the throttle counts it)."""
    return (email or "").strip().lower()[:254]


def loggable_email(email: str, user: User | None = None) -> str:
    # People type passwords into the e-mail field, or an identity number; never keep those in
    # a permanent log.
    if find_identity_numbers(email):
        return "(not an e-mail address)"
    if user is not None or ("@" in email and "." in email.split("@")[-1]
                            and len(email) <= 100):
        return email
    return "(not an e-mail address)"


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Logs success or failure."""
    email = normalised_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password or "")
    if user is None or not valid or not user.active:
        reason = ("unknown e-mail" if user is None else
                  "wrong password" if not valid else "account deactivated")
        record_event("auth.login_failed", actor=user, object_type="user",
                     object_id=user.id if user else None,
                     data={"email": loggable_email(email, user), "reason": reason})
        return None
    record_event("auth.login_succeeded", actor=user, object_type="user", object_id=user.id)
    return user


def local_passwords_off(email: str) -> None:
    """A password sign-in where local passwords are switched off: refused, and logged."""
    email = normalised_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    record_event("auth.login_failed", actor=user, object_type="user",
                 object_id=user.id if user else None,
                 data={"email": loggable_email(email, user),
                       "reason": "local passwords are switched off"})


def log_out(user: User) -> None:
    """End every session of the user's (a copy of the cookie included) and log it."""
    user.end_sessions()
    db.session.flush()
    record_event("auth.logout", actor=user, object_type="user", object_id=user.id)


def set_language(user: User, language: str) -> None:
    """Remember the interface language the user chose (her messages follow it)."""
    user.language = language
    db.session.flush()
    record_event("user.set_language", actor=user, object_type="user", object_id=user.id,
                 data={"language": language})
