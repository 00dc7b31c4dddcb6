"""The notification pages: each signed-in user's preferences, and the outbox for admins.
Thin: parse, call one operation (or read through the presenter), commit, redirect."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.core.access import deny, roles_for
from app.core.errors import InvalidInput
from app.core.messages import N_, Msg
from app.core.parsing import parse_id, shown
from app.core.unit_of_work import operation, refuse
from app.notifications import operations, presenters
from app.notifications.preferences import MODES, PREFERENCES_PATH
from workflows.roles import Role

notifications = Blueprint("notifications", __name__, template_folder="templates")


def _preferences_page(mode: str, reminders_on: bool, error: str | None = None,
                      status: int = 200):
    return render_template("notifications/preferences.html", modes=MODES, mode=mode,
                           reminders_on=reminders_on, error=error), status


@notifications.get(PREFERENCES_PATH)
@login_required
def preferences():
    return _preferences_page(current_user.notification_mode, current_user.reminders_on)


@notifications.post(PREFERENCES_PATH)
@login_required
def save_preferences():
    user = current_user._get_current_object()
    mode = request.form.get("mode", "")
    reminders = request.form.get("reminders")
    try:
        if reminders not in (None, "on"):
            raise InvalidInput(Msg(N_("Reminders are either on (ticked) or off.")))
        with operation(user):
            changed = operations.set_notification_preferences(user, user, mode,
                                                              reminders == "on")
    except InvalidInput as error:
        return _preferences_page(user.notification_mode, user.reminders_on,
                                 error.translated(gettext), 400)
    flash(gettext("Your notification preferences are saved.") if changed
          else gettext("Your notification preferences were already so; nothing changed."),
          "success")
    return redirect(url_for("notifications.preferences"))


def is_admin(user) -> bool:
    return user.is_authenticated and Role.ADMIN in roles_for(user, None)


@notifications.get("/admin/outbox")
@login_required
def outbox():
    if not is_admin(current_user):
        refuse(current_user._get_current_object(), deny(
            Msg(N_("Only an administrator may see the outbox.")),
            action="notifications.view_outbox"))
    state = request.args.get("state") or None
    if state is not None and state not in presenters.STATES:
        raise InvalidInput(Msg(N_("There is no state '{state}' in the outbox."),
                               state=shown(state)))
    before_id = parse_id(request.args.get("before"), field="before")
    page = presenters.outbox_page(state, before_id)
    return render_template("notifications/outbox.html", page=page,
                           states=presenters.STATES)
