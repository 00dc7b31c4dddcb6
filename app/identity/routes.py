"""Pages: sign-in through the provider (start, callback, no access, logged out) and the
administrators' page of group mappings."""
from __future__ import annotations

import math

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_required, login_user

from app.core.access import deny, roles_for
from app.core.errors import InvalidInput
from app.core.i18n import LANGUAGES
from app.core.messages import N_, Msg
from app.core.parsing import parse_whole_number
from app.core.unit_of_work import operation, refuse
from app.extensions import db
from app.identity import operations, provider
from app.models import Area, Organisation, Role
from app.web import auth, failed_forms, role_label, sessions
from app.web.failed_forms import FailedForm
from app.web.forms import safe_next
from app.web.throttle import address_limit

identity = Blueprint("identity", __name__, template_folder="templates")

_NEXT = "identity_next"
ID_TOKEN = "identity_id_token"  # kept for the provider's logout (id_token_hint)
# The session is a cookie (at most 4 KB): a token with many groups in it is not kept, and the
# provider's logout is offered without the hint.
MAX_KEPT_ID_TOKEN = 2000
LOGOUT_HINT = "identity_logout_hint"


def _refused(reason: str):
    """A token or state fault: a security event with the reason, a generic page."""
    with operation(None):
        operations.record_fault(current_app.config.get("OIDC_ISSUER"), reason)
    return render_template("identity/failed.html"), 401


@identity.get("/login/oidc")
@address_limit
def start():
    if not provider.configured():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("web.start"))
    session[_NEXT] = safe_next(request.args.get("next"))
    try:
        return provider.authorize_redirect(url_for("identity.callback", _external=True))
    except provider.SignInFault as fault:
        return _refused(fault.reason)


@identity.get("/login/oidc/callback")
@address_limit
def callback():
    if not provider.configured():
        abort(404)
    try:
        person, id_token = provider.finish()
    except provider.SignInFault as fault:
        return _refused(fault.reason)
    with operation(None):
        outcome = operations.sign_in(
            person, link_by_email=current_app.config.get("OIDC_LINK_BY_EMAIL", False))
        user_id = outcome.user.id if outcome.user and not outcome.refusal else None
    if outcome.no_access:
        return render_template("identity/no_access.html",
                               contact=current_app.config.get("ADMIN_CONTACT")), 403
    if user_id is None:  # refused (the reason is in the trail): the same generic page
        return render_template("identity/failed.html"), 401
    user = db.session.get(operations.User, user_id)
    chosen = session.get("lang")
    login_user(user)
    sessions.begin(user)
    session[ID_TOKEN] = id_token if len(id_token) <= MAX_KEPT_ID_TOKEN else ""
    if chosen in LANGUAGES and chosen != user.language:
        with operation(user):
            auth.set_language(user, chosen)
    session["lang"] = chosen or user.language
    flash(gettext("Welcome, %(name)s.", name=user.name), "success")
    return redirect(safe_next(session.pop(_NEXT, None)))


@identity.get("/logged-out")
def logged_out():
    """After logout: offer the provider's logout too (the provider's session is its own)."""
    hint = session.pop(LOGOUT_HINT, None)
    url = None
    if provider.configured():
        url = provider.logout_url(hint, url_for("web.login", _external=True))
    if url is None:
        return redirect(url_for("web.login"))
    return render_template("identity/logged_out.html", provider_logout_url=url,
                           provider_name=current_app.config["OIDC_PROVIDER_NAME"])


# -- group mappings (administrators) --------------------------------------------------------

def _admin_only(action: str):
    user = current_user._get_current_object()
    if Role.ADMIN not in roles_for(user, None):
        refuse(user, deny(Msg(N_("Only an administrator may do this.")), action=action))
    return user


MAPPINGS_PER_PAGE = 25


def _mappings_page(form: dict | None = None, errors: dict | None = None, status: int = 200):
    organisations = list(db.session.scalars(db.select(Organisation).order_by(Organisation.name)))
    areas = list(db.session.scalars(db.select(Area).order_by(Area.name)))
    query = request.args.get("q", "")
    page = parse_whole_number(request.args.get("page"), field="page", low=1, high=100_000) or 1
    mappings, total = operations.search_mappings(query, page=page, per_page=MAPPINGS_PER_PAGE)
    return render_template(
        "identity/group_mappings.html", mappings=mappings, total=total, query=query,
        page=page, pages=max(1, math.ceil(total / MAPPINGS_PER_PAGE)),
        roles=[(r.value, role_label(r.value)) for r in Role],
        organisations=organisations, areas=areas, form=form or {}, errors=errors or {},
        sign_in_configured=provider.configured()), status


_MAPPINGS_KEY = "identity-group-mappings"


@identity.get("/admin/groups")
@login_required
def group_mappings():
    _admin_only("group_mapping.view")
    failed = failed_forms.take(_MAPPINGS_KEY)
    return _mappings_page(dict(failed.values), dict(failed.errors))


@identity.post("/admin/groups")
@login_required
def add_group_mapping():
    user = _admin_only("group_mapping.create")
    form = {key: request.form.get(key, "") for key in ("group", "role", "organisation", "area")}
    try:
        with operation(user):
            mapping = operations.add_mapping(user, group=form["group"], role=form["role"],
                                             organisation_name=form["organisation"],
                                             area_name=form["area"] or None)
            group = mapping.provider_group
    except InvalidInput as error:
        field = error.details.get("field", "group")
        errors = {field: error.translated(gettext)}
        # Back to the page (post/redirect/get): a reload there shows no stale message.
        return failed_forms.back_to_page(
            _MAPPINGS_KEY, url_for("identity.group_mappings"),
            FailedForm(form="add", values=form, errors=errors),
            lambda failed: _mappings_page(form, errors)[0])
    flash(gettext("Members of the group %(group)s get the role at their next sign-in.",
                  group=group), "success")
    return redirect(url_for("identity.group_mappings"))


@identity.post("/admin/groups/<id:mapping_id>/remove")
@login_required
def remove_group_mapping(mapping_id: int):
    user = _admin_only("group_mapping.delete")
    with operation(user):
        removed = operations.remove_mapping(user, mapping_id)
    flash(gettext("The mapping of %(group)s is removed; its roles go at each member's next "
                  "sign-in.", group=removed["group"]), "success")
    return redirect(url_for("identity.group_mappings"))
