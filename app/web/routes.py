from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user, logout_user

from app.core.i18n import LANGUAGES
from app.core.unit_of_work import operation
from app.extensions import db
from app.web import auth, readiness, sessions
from app.web.forms import safe_next
from app.web.tasks import grouped_tasks, tasks_for, waiting_on_others
from app.web.throttle import login_limits

log = logging.getLogger(__name__)
web = Blueprint("web", __name__, template_folder="templates")


@web.get("/login")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.start"))
    return render_template("login.html", email="", next=request.args.get("next", ""))


@web.post("/login")
@login_limits
def login_post():
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    if not current_app.config.get("LOCAL_PASSWORDS", True):
        # Only the identity provider signs in here (app/identity): refused, and logged.
        with operation(None):
            auth.local_passwords_off(email)
        flash(gettext("Sign-in with a password is switched off here. Log in through the "
                      "identity provider."), "error")
        return render_template("login.html", email="", next=request.form.get("next", "")), 403
    with operation(None):
        user = auth.authenticate(email, password)
    if user is None:
        flash(gettext("Wrong e-mail address or password."), "error")
        return render_template("login.html", email=email,
                               next=request.form.get("next", "")), 401
    chosen = session.get("lang")  # on the login page, before signing in
    login_user(user)
    sessions.begin(user)
    if chosen in LANGUAGES and chosen != user.language:
        with operation(user):
            auth.set_language(user, chosen)
    session["lang"] = chosen or user.language  # else the language she chose last time
    flash(gettext("Welcome, %(name)s.", name=user.name), "success")
    return redirect(safe_next(request.form.get("next")))


@web.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    with operation(user):
        auth.log_out(user)
    id_token = session.pop("identity_id_token", None)
    logout_user()
    flash(gettext("You are logged out."), "success")
    if id_token is not None:  # signed in through the provider: offer its logout too
        session["identity_logout_hint"] = id_token
        return redirect(url_for("identity.logged_out"))
    return redirect(url_for("web.login"))


@web.get("/")
@login_required
def start():
    from app.admin.routes import admin_links

    tasks = tasks_for(current_user)  # found once: both lists draw from it
    return render_template("start.html", groups=grouped_tasks(current_user, tasks=tasks),
                           waiting=waiting_on_others(current_user, tasks=tasks),
                           admin_links=admin_links(current_user))


@web.post("/language")
def set_language():
    """Switch the interface language (kept in the session, also before login)."""
    language = request.form.get("lang", "")
    if language not in LANGUAGES:
        flash(gettext("Unknown language."), "error")
    else:
        session["lang"] = language
        if current_user.is_authenticated and current_user.language != language:
            user = current_user._get_current_object()
            with operation(user):
                auth.set_language(user, language)
    return redirect(safe_next(request.form.get("next")))


# -- for load balancers and monitoring ------------------------------------------------------

@web.get("/healthz")
def healthz():
    """The process is up (no database needed)."""
    return {"status": "ok"}


@web.get("/readyz")
def readyz():
    """Ready to serve: database reachable, schema at the migrations' head, the append-only
    triggers present. What is wrong goes to the log, never to the public."""
    found = readiness.problems(db.engine, current_app.extensions["migrate"].directory)
    if found:
        log.warning("not ready: %s", "; ".join(found))
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
