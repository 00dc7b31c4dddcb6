"""Administration in the browser (the admin role only): users, organisations and areas,
through the same audited operations as the command line; and every local user's own
password, and the one-time reset links administrators issue. Thin: parse the form, call one
operation, commit, redirect; a refusal shows the form again with what was typed and the
message next to its field."""
from __future__ import annotations

import math

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required

from app.admin import operations as admin
from app.core.access import deny, roles_for
from app.core.clock import now
from app.core.errors import InvalidInput, NotFound, StaleVersion
from app.core.messages import N_, Msg
from app.core.parsing import parse_whole_number
from app.core.unit_of_work import operation, refuse
from app.extensions import db, login_manager
from app.models import (
    AREA_ROLES,
    Area,
    Organisation,
    OrganisationKind,
    PasswordResetLink,
    Role,
    User,
)
from app.web import failed_forms, forms, role_label, sessions
from app.web.failed_forms import NO_FAILURE, FailedForm
from app.web.tasks import handed_over, tasks_for
from app.web.throttle import password_change_limit, reset_link_limit

admin_pages = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
account = Blueprint("account", __name__, template_folder="templates")

USERS_PER_PAGE = 25

# The admin start page's links, in order: (endpoint, title, what it is for).
ADMIN_PAGES: list[tuple[str, str, str]] = [
    ("admin.users", N_("Users"),
     N_("Create accounts, correct names and e-mail addresses, grant and revoke roles, "
        "deactivate those who left, issue password links.")),
    ("admin.organisations", N_("Organisations"),
     N_("The district offices, police areas and city offices whose staff use the service.")),
    ("admin.areas", N_("Areas"),
     N_("The areas that each write a contribution, and which organisations serve them.")),
    ("admin_structure.topics", N_("Topics"),
     N_("Rename the priority topics, move an area's local ones, retire those no longer used.")),
    ("admin_structure.periods", N_("Periods"),
     N_("Open a period with its deadlines, carrying last period's texts forward; move "
        "deadlines.")),
    ("identity.group_mappings", N_("Group mappings"),
     N_("Which groups at the city's identity provider give which role.")),
    ("notifications.outbox", N_("Outbox"),
     N_("The e-mail messages queued, sent and given up, without their contents.")),
]

ORGANISATION_KIND_LABELS = {
    OrganisationKind.DISTRICT_OFFICE: N_("District office"),
    OrganisationKind.POLICE: N_("Police"),
    OrganisationKind.CITY_OFFICE: N_("City office"),
}


def is_admin(user) -> bool:
    return getattr(user, "is_authenticated", False) and Role.ADMIN in roles_for(user, None)


def admin_links(user) -> list[dict]:
    """The admin start page's links, for an administrator (else none)."""
    if not is_admin(user):
        return []
    return [{"url": url_for(endpoint), "title": gettext(title), "text": gettext(text)}
            for endpoint, title, text in ADMIN_PAGES if endpoint in current_app.view_functions]


def _form_helpers() -> dict:
    return {
        "kind_options": lambda kinds, label: [(kind.value, label(kind)) for kind in kinds],
        "organisation_options": lambda organisations: [(o.name, o.name)
                                                       for o in organisations],
        "min_length": admin.MIN_PASSWORD_LENGTH,
    }


admin_pages.context_processor(_form_helpers)
account.context_processor(_form_helpers)


@admin_pages.before_request
def _administrators_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not is_admin(current_user):
        refuse(current_user, deny(Msg(N_("Only an administrator may do this.")),
                                  action="admin.view"))


def _errors(error: InvalidInput, prefix: str, fields: bool = True) -> dict[str, str]:
    """{the field's id: the message}; a message about no one field (or from a form of
    buttons, `fields=False`) goes to "<prefix>-form"."""
    field = error.details.get("field") if fields else None
    return {f"{prefix}-{field or 'form'}": error.translated(gettext)}


def _back(page_key: str, page_url: str, errors: dict[str, str], show_in_place,
          values: dict | None = None):
    """Back to the page of the failed form (post/redirect/get), which shows `errors` at their
    fields and what was typed (never a password) again; in place if that is too large."""
    failed = FailedForm(form=page_key, errors=errors,
                        values=failed_forms.typed_values() if values is None else values)
    return failed_forms.back_to_page(page_key, page_url, failed, show_in_place)


def _attempt(change):
    """Run `change()` as one operation of the signed-in user: (result, None), or (None,
    the InvalidInput) with nothing changed."""
    try:
        with operation(current_user):
            return change(), None
    except InvalidInput as error:
        db.session.rollback()
        return None, error


def _get(model, object_id: int, message: str):
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(Msg(message, id=object_id))
    return found


def _user(user_id: int) -> User:
    return _get(User, user_id, N_("There is no user {id}."))


def _as_seen(user: User) -> User:
    """`user` if they are as the page showed them. The form carries the session generation
    it was drawn with: a role granted or revoked, a deactivation or a password change since
    (by another administrator, or the user) makes it stale, refused rather than acted on."""
    if forms.expected_version() != user.session_generation:
        raise StaleVersion(Msg(N_("This user was changed meanwhile. Reload the page and try "
                                  "again.")))
    return user


def _stale_unless(seen_version: int, message: str) -> None:
    """The form carries the version of what it was drawn from; refuse it once that moved."""
    if forms.expected_version() != seen_version:
        raise StaleVersion(Msg(message))


_LIST_CHANGED = N_("The list changed meanwhile. Reload the page and try again.")
_CHANGED = N_("This was changed meanwhile. Reload the page and try again.")


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# -- the start page --------------------------------------------------------------------------

@admin_pages.get("/")
def index():
    return render_template("admin/index.html", links=admin_links(current_user))


# -- users -----------------------------------------------------------------------------------

@admin_pages.get("/users")
def users():
    query = request.args.get("q", "")
    page = parse_whole_number(request.args.get("page"), field="page", low=1, high=100_000) or 1
    found, total = admin.search_users(query, page=page, per_page=USERS_PER_PAGE)
    pages = max(1, math.ceil(total / USERS_PER_PAGE))
    return render_template("admin/users.html", users=found, total=total, query=query,
                           page=page, pages=pages)


def _organisation_choices() -> list[Organisation]:
    return list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))


def _new_user_page(failed: FailedForm = NO_FAILURE):
    return render_template("admin/user_new.html", form=dict(failed.values),
                           errors=dict(failed.errors), organisations=_organisation_choices())


@admin_pages.get("/users/new")
def new_user():
    return _new_user_page(failed_forms.take("admin-user-new"))


@admin_pages.post("/users/new")
def create_user():
    form = request.form
    user, error = _attempt(lambda: admin.create_user(
        current_user, email=form.get("email", ""), name=form.get("name", ""),
        organisation_name=form.get("organisation", ""), password=None))
    if error:
        return _back("admin-user-new", url_for("admin.new_user"), _errors(error, "new"),
                     _new_user_page)
    flash(gettext("Created the account of %(name)s. Grant a role, then issue a link so they "
                  "can choose a password.", name=user.name), "success")
    return redirect(url_for("admin.user", user_id=user.id))


def _user_page(user: User, *, status: int = 200, errors: dict | None = None,
               form: dict | None = None, reset_link: str | None = None,
               reset_expires=None, mailed: bool | None = None):
    areas = list(db.session.scalars(db.select(Area).order_by(Area.name)))
    open_links = [link for link in db.session.scalars(
        db.select(PasswordResetLink).where(PasswordResetLink.user_id == user.id,
                                           PasswordResetLink.spent_at.is_(None)))
        if link.expires_at > now()]
    return render_template(
        "admin/user.html", user=user, areas=areas, roles=list(Role), area_roles=AREA_ROLES,
        role_label=role_label, errors=errors or {}, form=form or {},
        kind_label=lambda kind: gettext(ORGANISATION_KIND_LABELS.get(kind, kind)),
        open_links=open_links, reset_link=reset_link, reset_expires=reset_expires,
        mailed=mailed, smtp=bool(current_app.config.get("SMTP_HOST")),
        is_self=user.id == current_user.id), status


def _user_key(user_id: int) -> str:
    return f"admin-user-{user_id}"


def _back_to_user(user_id: int, errors: dict[str, str]):
    return _back(_user_key(user_id), url_for("admin.user", user_id=user_id), errors,
                 lambda failed: _user_page(_user(user_id), errors=dict(failed.errors),
                                           form=dict(failed.values))[0])


@admin_pages.get("/users/<id:user_id>")
def user(user_id: int):
    failed = failed_forms.take(_user_key(user_id))
    return _user_page(_user(user_id), errors=dict(failed.errors), form=dict(failed.values))


@admin_pages.post("/users/<id:user_id>/edit")
def edit_user(user_id: int):
    target = _user(user_id)
    form = request.form
    changes, error = _attempt(lambda: admin.edit_user(
        current_user, _as_seen(target), name=form.get("name", ""), email=form.get("email", "")))
    if error:
        return _back_to_user(user_id, _errors(error, "edit"))
    flash(gettext("Saved.") if changes else gettext("Nothing was changed."),
          "success" if changes else "info")
    return redirect(url_for("admin.user", user_id=user_id))


def _flash_handed_over(held) -> None:
    """Say who holds now the work the user held before (a revoked role, a deactivation)."""
    for item in handed_over(held):
        title = item.title.translated() if isinstance(item.title, Msg) else item.title
        if item.holders:
            flash(gettext("%(title)s is now with %(names)s.", title=title,
                          names=", ".join(holder.name for holder in item.holders)), "info")
        else:
            flash(gettext("%(title)s: nobody else can act on it now. Grant the role to "
                          "someone.", title=title), "error")


@admin_pages.post("/users/<id:user_id>/active")
def set_active(user_id: int):
    target = _user(user_id)
    active = {"1": True, "0": False}.get(request.form.get("active", ""))
    if active is None:
        raise InvalidInput(Msg(N_("The form lacks what to do. Reload the page and try again.")))
    held = [] if active else tasks_for(target)
    _, error = _attempt(lambda: admin.set_user_active(current_user, _as_seen(target), active))
    if error:
        return _back_to_user(user_id, _errors(error, "status", fields=False))
    target = _user(user_id)
    flash(gettext("%(email)s is active again.", email=target.email) if active else
          gettext("%(email)s is deactivated; their sessions have ended.", email=target.email),
          "success")
    _flash_handed_over(held)
    return redirect(url_for("admin.user", user_id=user_id))


@admin_pages.post("/users/<id:user_id>/roles")
def grant_role(user_id: int):
    target = _user(user_id)
    form = request.form
    role = form.get("role", "")
    area = form.get("area", "") if role in AREA_ROLES else ""
    _, error = _attempt(lambda: admin.grant_role(current_user, _as_seen(target), role,
                                                 area or None))
    if error:
        return _back_to_user(user_id, _errors(error, "grant"))
    flash(gettext("Granted the role %(role)s.", role=_role_text(role, area)), "success")
    return redirect(url_for("admin.user", user_id=user_id))


def _role_text(role: str, area: str | None) -> str:
    return f"{role_label(role)} – {area}" if area else role_label(role)


@admin_pages.post("/users/<id:user_id>/roles/revoke")
def revoke_role(user_id: int):
    target = _user(user_id)
    role, area = request.form.get("role", ""), request.form.get("area", "") or None
    held = tasks_for(target)
    _, error = _attempt(lambda: admin.revoke_role(current_user, _as_seen(target), role, area))
    if error:
        return _back_to_user(user_id, _errors(error, "roles", fields=False))
    flash(gettext("Revoked the role %(role)s.", role=_role_text(role, area)), "success")
    # Only what the revoked role covered changed hands: what they still hold is theirs.
    still_held = {(task.kind, task.subject.id) for task in tasks_for(_user(user_id))}
    _flash_handed_over([task for task in held
                        if (task.kind, task.subject.id) not in still_held])
    return redirect(url_for("admin.user", user_id=user_id))


@admin_pages.post("/users/<id:user_id>/reset-link")
def reset_link(user_id: int):
    target = _user(user_id)
    issued, error = _attempt(lambda: admin.issue_reset_link(current_user, _as_seen(target)))
    if error:
        return _back_to_user(user_id, _errors(error, "reset", fields=False))
    token, expires_at = issued
    target = _user(user_id)
    link = reset_url(token)
    mailed = _mail_reset_link(target, link, expires_at) \
        if current_app.config.get("SMTP_HOST") else None
    # Shown once, in this response only (pages behind login are never cached).
    return _user_page(target, reset_link=link, reset_expires=expires_at, mailed=mailed)


def reset_url(token: str) -> str:
    """The link as the user gets it: the configured address, never a request's Host."""
    from app.notifications.outbox import external_url

    return external_url(url_for("account.reset_password", token=token))


def _mail_reset_link(user: User, link: str, expires_at) -> bool:
    """Mail the link straight to the relay, not through the outbox: the outbox keeps each
    message's text, and the token must exist nowhere but in the hands it is given to."""
    from app.notifications.sender import send_now

    with force_locale(user.language or "sv"):
        text = render_template("admin/reset_link_mail.txt", user=user, link=link,
                               expires_at=expires_at)
    subject, _, body = text.strip().partition("\n")
    return send_now(user, subject, body.strip() + "\n", f"reset-link-{user.id}")


# -- organisations ---------------------------------------------------------------------------

def _organisations_page(status: int = 200, errors: dict | None = None,
                        form: dict | None = None):
    return render_template("admin/organisations.html", organisations=_organisation_choices(),
                           kinds=list(OrganisationKind), errors=errors or {}, form=form or {},
                           kind_label=lambda k: gettext(ORGANISATION_KIND_LABELS[k])), status


@admin_pages.get("/organisations")
def organisations():
    failed = failed_forms.take("admin-organisations")
    return _organisations_page(errors=dict(failed.errors), form=dict(failed.values))


@admin_pages.post("/organisations")
def create_organisation():
    form = request.form
    created, error = _attempt(lambda: _stale_unless(_count(Organisation), _LIST_CHANGED) or
                              admin.create_organisation(current_user, form.get("name", ""),
                                                        form.get("kind", "")))
    if error:
        return _back("admin-organisations", url_for("admin.organisations"),
                     _errors(error, "new"),
                     lambda failed: _organisations_page(200, dict(failed.errors),
                                                        dict(failed.values))[0])
    flash(gettext("Added the organisation %(name)s.", name=created.name), "success")
    return redirect(url_for("admin.organisations"))


def _organisation_page(organisation_id: int, failed: FailedForm = NO_FAILURE):
    found = _get(Organisation, organisation_id, N_("There is no organisation {id}."))
    return render_template("admin/organisation.html", organisation=found,
                           errors=dict(failed.errors), form=dict(failed.values),
                           kind_label=gettext(ORGANISATION_KIND_LABELS[found.kind]))


@admin_pages.get("/organisations/<id:organisation_id>")
def organisation(organisation_id: int):
    return _organisation_page(organisation_id,
                              failed_forms.take(f"admin-organisation-{organisation_id}"))


@admin_pages.post("/organisations/<id:organisation_id>")
def rename_organisation(organisation_id: int):
    found = _get(Organisation, organisation_id, N_("There is no organisation {id}."))
    renamed, error = _attempt(lambda: _stale_unless(found.version, _CHANGED) or
                              admin.rename_organisation(current_user, found,
                                                        request.form.get("name", "")))
    if error:
        return _back(f"admin-organisation-{organisation_id}",
                     url_for("admin.organisation", organisation_id=organisation_id),
                     _errors(error, "edit"),
                     lambda failed: _organisation_page(organisation_id, failed))
    flash(gettext("Saved.") if renamed else gettext("Nothing was changed."),
          "success" if renamed else "info")
    return redirect(url_for("admin.organisations"))


# -- areas -----------------------------------------------------------------------------------

def _areas_page(status: int = 200, errors: dict | None = None, form: dict | None = None,
                chosen: list[str] | None = None):
    areas = list(db.session.scalars(db.select(Area).order_by(Area.name)))
    return render_template("admin/areas.html", areas=areas,
                           organisations=_organisation_choices(), errors=errors or {},
                           form=form or {}, chosen=chosen or []), status


@admin_pages.get("/areas")
def areas():
    failed = failed_forms.take("admin-areas")
    return _areas_page(errors=dict(failed.errors), form=dict(failed.values),
                       chosen=failed.values.get("organisations") or [])


@admin_pages.post("/areas")
def create_area():
    chosen = request.form.getlist("organisations")
    created, error = _attempt(lambda: _stale_unless(_count(Area), _LIST_CHANGED) or
                              admin.create_area(current_user, request.form.get("name", ""),
                                                chosen))
    if error:
        return _back("admin-areas", url_for("admin.areas"), _errors(error, "new"),
                     lambda failed: _areas_page(200, dict(failed.errors), dict(failed.values),
                                                chosen)[0],
                     values={**failed_forms.typed_values(), "organisations": chosen})
    flash(gettext("Added the area %(name)s.", name=created.name), "success")
    return redirect(url_for("admin.areas"))


def _area_page(area_id: int, status: int = 200, errors: dict | None = None,
               form: dict | None = None, chosen: list[str] | None = None):
    area = _get(Area, area_id, N_("There is no area {id}."))
    return render_template("admin/area.html", area=area, organisations=_organisation_choices(),
                           errors=errors or {}, form=form or {"name": area.name},
                           chosen=chosen if chosen is not None else
                           [o.name for o in area.organisations]), status


@admin_pages.get("/areas/<id:area_id>")
def area(area_id: int):
    failed = failed_forms.take(f"admin-area-{area_id}")
    if not failed:
        return _area_page(area_id)
    return _area_page(area_id, errors=dict(failed.errors), form=dict(failed.values),
                      chosen=failed.values.get("organisations") or [])


@admin_pages.post("/areas/<id:area_id>")
def edit_area(area_id: int):
    found = _get(Area, area_id, N_("There is no area {id}."))
    chosen = request.form.getlist("organisations")
    changed, error = _attempt(lambda: _stale_unless(found.version, _CHANGED) or admin.edit_area(
        current_user, found, name=request.form.get("name", ""), organisation_names=chosen))
    if error:
        return _back(f"admin-area-{area_id}", url_for("admin.area", area_id=area_id),
                     _errors(error, "edit"),
                     lambda failed: _area_page(area_id, 200, dict(failed.errors),
                                               dict(failed.values), chosen)[0],
                     values={**failed_forms.typed_values(), "organisations": chosen})
    flash(gettext("Saved.") if changed else gettext("Nothing was changed."),
          "success" if changed else "info")
    return redirect(url_for("admin.areas"))


# -- one's own password; a reset link ----------------------------------------------------------

@account.get("/account/password")
@login_required
def password():
    failed = failed_forms.take("account-password")
    return render_template("admin/account_password.html", errors=dict(failed.errors))


@account.post("/account/password")
@login_required
@password_change_limit
def change_password():
    user = current_user._get_current_object()
    _, error = _attempt(lambda: admin.change_password(
        user, request.form.get("current_password", ""), request.form.get("new_password", "")))
    if error:
        # Counted like a failed sign-in (app.web.throttle); a weak new password is not.
        g.wrong_current_password = error.details.get("field") == "current_password"
        # Passwords are never sent back into a form (nor kept): the user types them again.
        return _back("account-password", url_for("account.password"),
                     _errors(error, "password"),
                     lambda failed: render_template("admin/account_password.html",
                                                    errors=dict(failed.errors)))
    sessions.begin(db.session.get(User, user.id))  # this browser stays signed in
    flash(gettext("Your password is changed. Every other session of yours has ended."),
          "success")
    return redirect(url_for("web.start"))


def _hide_token_in_log():
    g.log_path = url_for("account.reset_password", token="…")


@account.get("/password-reset/<token>")
@reset_link_limit
def reset_password(token: str):
    _hide_token_in_log()
    try:
        user = admin.reset_link_user(token)
    except admin.RefusedResetLink as refusal:
        return _refused_link(refusal)
    return render_template("admin/reset_password.html", user=user, token=token, invalid=None,
                           errors={})


@account.post("/password-reset/<token>")
@reset_link_limit
def set_password(token: str):
    _hide_token_in_log()
    try:
        with operation(None):
            admin.reset_password(token, request.form.get("new_password", ""))
    except admin.RefusedResetLink as refusal:
        db.session.rollback()
        return _refused_link(refusal)
    except InvalidInput as error:
        db.session.rollback()
        return render_template("admin/reset_password.html",
                               user=admin.reset_link_user(token), token=token,
                               invalid=None, errors=_errors(error, "reset")), 400
    flash(gettext("Your new password is set. Log in with it."), "success")
    return redirect(url_for("web.login"))


def _refused_link(refusal: admin.RefusedResetLink):
    """A link that cannot be used: a security event with the reason, one message for all."""
    with operation(None):
        admin.record_refused_reset_link(refusal)
    g.reset_link_refused = True  # counted against the address (app.web.throttle)
    return render_template("admin/reset_password.html", user=None, token=None,
                           invalid=refusal.translated(gettext), errors={}), 400
