"""Signed-in sessions that end: at logout (every session of the user's, a copied cookie
included), when the user's password or roles change, after a while without a request (idle),
and a while after sign-in whatever happens (absolute). The session cookie only carries the
generation it began in and two times; the user's row holds the current generation."""
from __future__ import annotations

import time

from flask import current_app, flash, session
from flask_babel import gettext

from app.models import User

_GENERATION, _STARTED, _SEEN = "_generation", "_started", "_seen"


def begin(user: User) -> None:
    moment = time.time()
    session[_GENERATION] = user.session_generation
    session[_STARTED] = session[_SEEN] = moment


def still_valid(user: User) -> bool:
    """Whether this request's session may act as `user`; renews its idle time if so."""
    moment = time.time()
    config = current_app.config
    started, seen = session.get(_STARTED), session.get(_SEEN)
    valid = (session.get(_GENERATION) == user.session_generation
             and isinstance(started, int | float) and isinstance(seen, int | float)
             and moment - seen <= config["SESSION_IDLE_SECONDS"]
             and moment - started <= config["SESSION_MAX_SECONDS"])
    if valid:
        session[_SEEN] = moment
    return valid


def end() -> None:
    """Forget this session (the user signs in again) and say why."""
    session.clear()
    flash(gettext("Your session has ended. Log in again."), "info")
