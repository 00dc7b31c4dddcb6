"""Login throttling (Flask-Limiter): failed sign-ins are counted per account and per client
address in a moving window; past the limit a sign-in is refused before the password is checked.

Only failures count (a 401), so a colleague who types her password right is never slowed by a
guesser. Refused attempts do not touch the database, except one `auth.login_throttled` event
per key and window: an anonymous flood cannot grow the append-only trail without bound. The
message says when to try again and reads the same for an account that exists and one that
does not. The counters live in memory per process by default; set LAGESBILD_RATELIMIT_STORAGE_URL
(e.g. redis://…) so that several app servers count together.
"""
from __future__ import annotations

import hashlib
import math
import time
from datetime import datetime

from flask import Flask, current_app, flash, g, make_response, render_template, request
from flask_babel import ngettext
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.audit.trail import record_event
from app.core.clock import STOCKHOLM
from app.core.unit_of_work import operation
from app.web.auth import loggable_email, normalised_email

limiter = Limiter(key_func=get_remote_address, key_prefix="lagesbild-login")

# Scopes, so the two counters never share a key.
ACCOUNT = "account"
ADDRESS = "address"


def install(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    # A shared store that stops answering must not open the door: each process counts on.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)


def _account_key() -> str:
    # Hashed: the shared store need not hold anyone's e-mail address.
    email = normalised_email(request.form.get("email", ""))
    return hashlib.sha256(email.encode()).hexdigest()


def _failed(response) -> bool:
    return response.status_code == 401


def _refused(scope: str):
    def on_breach(limit: RequestLimit):
        # window[0]: when the oldest counted failure leaves the window (reset_at rounds up).
        reset_at = limit.window[0]
        _record_once_per_window(scope, limit, reset_at)
        return _throttled_page(reset_at)
    return on_breach


def _first_in_window(limit: RequestLimit) -> bool:
    """Whether this is the key's first refusal in its window: the marker admits one hit per
    window, so a flood adds one event, not one per request."""
    window = limit.limit
    marker = type(window)(1, window.multiples, namespace="THROTTLED")
    return limit.limiter.hit(marker, *limit.request_args)


def _record_once_per_window(scope: str, limit: RequestLimit, reset_at: float) -> None:
    window = limit.limit
    if not _first_in_window(limit):
        return
    email = normalised_email(request.form.get("email", ""))
    data = {"limit": scope, "window": str(window), "until": _local_time(reset_at)}
    if scope == ACCOUNT:
        data["email"] = loggable_email(email)
    with operation(None):
        record_event("auth.login_throttled", object_type="user", data=data)


def _local_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, STOCKHOLM).strftime("%H:%M")


def _throttled_page(reset_at: float):
    seconds = max(1, math.ceil(reset_at - time.time()))
    minutes = math.ceil(seconds / 60)
    flash(ngettext("Too many failed sign-ins. Try again in %(num)d minute (at %(time)s).",
                   "Too many failed sign-ins. Try again in %(num)d minutes (at %(time)s).",
                   minutes, time=_local_time(reset_at)), "error")
    page = render_template("login.html", email=request.form.get("email", ""),
                           next=request.form.get("next", ""))
    return make_response(page, 429, {"Retry-After": str(seconds)})


def address_limit(view):
    """The per-address limit alone, for a sign-in that types no account (the identity
    provider's sign-in, counted per route): an anonymous flood of forged callbacks adds one
    event per window, not one per request."""
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                         key_func=get_remote_address, scope=ADDRESS, deduct_when=_failed,
                         on_breach=_refused(ADDRESS))(view)


def login_limits(view):
    """The two limits of the sign-in form's POST."""
    per_account = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
                                key_func=_account_key, scope=ACCOUNT, deduct_when=_failed,
                                on_breach=_refused(ACCOUNT))
    per_address = limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                                key_func=get_remote_address, scope=ADDRESS,
                                deduct_when=_failed, on_breach=_refused(ADDRESS))
    return per_address(per_account(view))


# -- the other doors a guesser may knock on ---------------------------------------------------

PASSWORD_CHANGE = "password-change"
RESET_LINK = "reset-link"


def _minutes_until(reset_at: float) -> tuple[int, int]:
    seconds = max(1, math.ceil(reset_at - time.time()))
    return seconds, math.ceil(seconds / 60)


def _wrong_current_password(response) -> bool:
    return bool(g.get("wrong_current_password"))


def _password_change_refused(limit: RequestLimit):
    """Past the limit the current password is not checked at all: the page says when to try
    again, and the trail has one event per window."""
    reset_at = limit.window[0]
    if _first_in_window(limit):
        user = current_user._get_current_object()
        with operation(user):
            record_event("auth.password_change_throttled", actor=user, object_type="user",
                         object_id=user.id,
                         data={"window": str(limit.limit), "until": _local_time(reset_at)})
    seconds, minutes = _minutes_until(reset_at)
    flash(ngettext("Too many wrong current passwords. Try again in %(num)d minute "
                   "(at %(time)s).",
                   "Too many wrong current passwords. Try again in %(num)d minutes "
                   "(at %(time)s).", minutes, time=_local_time(reset_at)), "error")
    page = render_template("admin/account_password.html", errors={})
    return make_response(page, 429, {"Retry-After": str(seconds)})


def password_change_limit(view):
    """Wrong current passwords on one's own password page, counted per account like failed
    sign-ins: a stolen session must not become a way to guess the password."""
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
                         key_func=lambda: f"user-{current_user.get_id()}",
                         scope=PASSWORD_CHANGE, deduct_when=_wrong_current_password,
                         on_breach=_password_change_refused)(view)


def _reset_link_refused(response) -> bool:
    return bool(g.get("reset_link_refused"))


def _reset_links_throttled(limit: RequestLimit):
    reset_at = limit.window[0]
    if _first_in_window(limit):
        with operation(None):
            record_event("auth.reset_link_throttled", object_type="user",
                         data={"window": str(limit.limit), "until": _local_time(reset_at)})
    seconds, minutes = _minutes_until(reset_at)
    message = ngettext("Too many links that cannot be used. Try again in %(num)d minute "
                       "(at %(time)s).",
                       "Too many links that cannot be used. Try again in %(num)d minutes "
                       "(at %(time)s).", minutes, time=_local_time(reset_at))
    page = render_template("admin/reset_password.html", user=None, token=None,
                           invalid=message, errors={})
    return make_response(page, 429, {"Retry-After": str(seconds)})


def reset_link_limit(view):
    """Refused reset links, counted per client address like failed sign-ins: guessing tokens
    is slowed, and a flood of them adds one event per window to the trail, not one each."""
    return limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"],
                         key_func=get_remote_address, scope=RESET_LINK,
                         deduct_when=_reset_link_refused, on_breach=_reset_links_throttled)(view)
