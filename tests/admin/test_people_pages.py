"""The administrators' pages for users, organisations and areas, the own-password page and the
reset-link pages, through the test client: every change as one audited operation, every
refusal back at its page (post/redirect/get) keeping what was typed with the message next to
its field, the admin role only, and a deactivated user's open session stopping at its next
request."""
from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from app.admin import operations as admin
from app.extensions import db
from app.models import Area, AuditEvent, Organisation, PasswordResetLink, User
from tests.factories import PASSWORD, SETUP, advance, data_of, events_since, head_seq, run
from tests.notifications.conftest import Mailbox, free_port
from tests.web_support import input_values

NEW_PASSWORD = "tre gröna äpplen i en skål"


@pytest.fixture
def admin_web(world, web):
    web.log_in_as("admin")
    return web


def post(web, path: str, data: dict, page: str | None = None):
    """Submit as from `page`: its CSRF token and, on a user's page, the version it shows."""
    shown = web.client.get(page or path)
    assert shown.status_code == 200, (page or path, shown.status_code)
    values = input_values(shown.get_data(as_text=True))
    hidden = {name: values[name][0] for name in ("csrf_token", "expected_version")
              if name in values}
    return web.client.post(path, data={**hidden, **data})


def text(response) -> str:
    return response.get_data(as_text=True)


def assert_field_error(html: str, field_id: str, message: str) -> None:
    """The message is next to the field, which is marked invalid and described by it, and
    the summary at the top links to the field."""
    tag = re.search(rf'<(?:input|select|fieldset)[^>]*id="{field_id}"[^>]*>', html)
    assert tag, f"no field {field_id}"
    if not tag.group(0).startswith("<fieldset"):
        assert 'aria-invalid="true"' in tag.group(0), tag.group(0)
    assert f'{field_id}-error' in tag.group(0), tag.group(0)
    error = re.search(rf'<span class="admin-field-error" id="{field_id}-error">(.*?)</span>\s*'
                      rf'(?=<(?:input|select|label))', html, re.S)
    assert error and message in error.group(1), (message, error and error.group(1))
    assert f'<a href="#{field_id}">' in html
    assert 'role="alert"' in html


def user_id(email: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(User.id).where(User.email == email))


# -- who may ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
def test_only_administrators_reach_the_admin_pages(world, web, audit_events, key):
    web.log_in_as(key)
    for path in ("/admin/", "/admin/users", f"/admin/users/{world.users['drafter']}",
                 "/admin/organisations", "/admin/areas"):
        assert web.client.get(path).status_code == 403, path
    response = web.client.post(f"/admin/users/{world.users['drafter']}/active",
                               data={"active": "0", "csrf_token": web.csrf_token("/")})
    assert response.status_code == 403
    assert world.user("drafter").active
    denied = audit_events("security.permission_denied")
    assert {data_of(e)["attempted"] for e in denied} == {"admin.view"}


def test_signed_out_visitors_are_sent_to_log_in(world, web):
    response = web.client.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_admin_start_page_links_to_the_admin_pages(admin_web):
    start = text(admin_web.client.get("/"))
    assert "Du har inget att göra just nu" not in start
    for path in ("/admin/users", "/admin/organisations", "/admin/areas"):
        assert f'href="{path}"' in start
    index = admin_web.client.get("/admin/")
    assert index.status_code == 200 and 'href="/admin/users"' in text(index)
    assert 'href="/admin/"' in start  # the menu entry


def test_an_administrator_still_cannot_read_content(world, admin_web):
    response = admin_web.client.get(f"/contributions/{world.contribution().id}")
    assert response.status_code == 403


# -- the list of users -----------------------------------------------------------------------------

def test_users_are_listed_searchable_and_paged(world, admin_web):
    for n in range(30):
        with _setup():
            admin.create_user(SETUP, email=f"extra{n:02}@example.se", name=f"Extra {n:02}",
                              organisation_name="Stadsledningskontoret", password=None)
    page = text(admin_web.client.get("/admin/users"))
    assert "Användare: 42." in page and "sida 1 av 2" in page
    assert page.count('data-user="') == 25 and 'href="/admin/users?page=2"' in page
    second = text(admin_web.client.get("/admin/users?page=2"))
    assert second.count('data-user="') == 17
    found = text(admin_web.client.get("/admin/users?q=Reviewer+SOUTH"))
    assert "Användare som matchar ”Reviewer SOUTH”: 1." in found
    assert 'data-user="reviewer_south@example.se"' in found
    assert admin_web.client.get("/admin/users?page=x").status_code == 400
    assert admin_web.client.get("/admin/users?page=0").status_code == 400


def _setup():
    from app.core.unit_of_work import operation

    return operation(SETUP)


# -- creating and editing a user -------------------------------------------------------------------

def test_create_a_user_from_the_browser(world, admin_web, audit_events):
    response = post(admin_web, "/admin/users/new", {
        "name": "Nora Ny", "email": "Nora@Example.se",
        "organisation": "Norra stadsdelsförvaltningen"})
    assert response.status_code == 302
    new_id = user_id("nora@example.se")
    assert response.headers["Location"] == f"/admin/users/{new_id}"
    [event] = audit_events("user.create")[-1:]
    assert event.actor_name == "Admin" and data_of(event)["email"] == "nora@example.se"
    page = text(admin_web.client.get(f"/admin/users/{new_id}"))
    assert "Skapade kontot för Nora Ny" in page


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"email": "drafter@example.se"}, "new-email", "Det finns redan en användare"),
    ({"email": "ingen-adress"}, "new-email", "är inte en e-postadress"),
    ({"name": "  "}, "new-name", "Ange namnet"),
    ({"organisation": ""}, "new-organisation", "Okänd organisation"),
])
def test_create_user_refusals_keep_what_was_typed(world, admin_web, form, field, message):
    typed = {"name": "Nora Ny", "email": "nora@example.se",
             "organisation": "Norra stadsdelsförvaltningen", **form}
    seq = head_seq()
    response = post(admin_web, "/admin/users/new", typed, page="/admin/users/new")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    html = text(response)
    assert_field_error(html, field, message)
    values = input_values(html)
    assert values["name"] == [typed["name"]] and values["email"] == [typed["email"]]
    assert events_since(seq) == []


def test_edit_a_users_name_and_email(world, admin_web, audit_events):
    drafter = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{drafter}/edit",
                    {"name": "Dora Drafter", "email": "dora@example.se"},
                    page=f"/admin/users/{drafter}")
    assert response.status_code == 302
    [event] = audit_events("user.edit")
    assert data_of(event)["after"] == {"email": "dora@example.se", "name": "Dora Drafter"}
    same = post(admin_web, f"/admin/users/{drafter}/edit",
                {"name": "Dora Drafter", "email": "dora@example.se"},
                page=f"/admin/users/{drafter}")
    assert same.status_code == 302 and len(audit_events("user.edit")) == 1
    assert "Inget ändrades." in text(admin_web.client.get(f"/admin/users/{drafter}"))


def test_edit_user_refuses_a_duplicate_email_next_to_the_field(world, admin_web):
    drafter = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{drafter}/edit",
                    {"name": "Dora Drafter", "email": "reviewer@example.se"},
                    page=f"/admin/users/{drafter}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    html = text(response)
    assert_field_error(html, "edit-email", "Det finns redan en användare med e-postadressen "
                                           "reviewer@example.se")
    assert 'value="Dora Drafter"' in html and 'value="reviewer@example.se"' in html
    assert world.user("drafter").name == "Drafter"


# -- roles -----------------------------------------------------------------------------------------

def test_grant_a_role_with_its_area(world, admin_web, audit_events):
    drafter = world.users["drafter"]
    with _setup():
        admin.create_area(SETUP, "Väster", ["Norra stadsdelsförvaltningen"])
    response = post(admin_web, f"/admin/users/{drafter}/roles",
                    {"role": "drafter", "area": "Väster"}, page=f"/admin/users/{drafter}")
    assert response.status_code == 302
    [event] = audit_events("membership.create")[-1:]
    assert data_of(event)["after"] == {"roles": ["drafter@Norr", "drafter@Väster"]}


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"role": "reviewer", "area": "Norr"}, "grant-role", "kan inte ha rollen"),
    ({"role": "drafter", "area": ""}, "grant-area", "kräver ett område"),
    ({"role": "drafter", "area": "Söder"}, "grant-area", "arbetar inte i området"),
    ({"role": "drafter", "area": "Norr"}, "grant-role", "har redan rollen"),
    ({"role": "superuser", "area": ""}, "grant-role", "Okänd roll"),
])
def test_grant_role_refusals(world, admin_web, form, field, message):
    drafter = world.users["drafter"]
    seq = head_seq()
    response = post(admin_web, f"/admin/users/{drafter}/roles", form,
                    page=f"/admin/users/{drafter}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    assert_field_error(text(response), field, message)
    assert events_since(seq) == []


def test_a_city_wide_role_ignores_an_area_chosen_by_mistake(world, admin_web):
    auditor = world.users["auditor"]
    response = post(admin_web, f"/admin/users/{auditor}/roles",
                    {"role": "approver", "area": "Norr"}, page=f"/admin/users/{auditor}")
    assert response.status_code == 302
    assert {(m.role, m.area_id) for m in world.user("auditor").memberships} == \
        {("auditor", None), ("approver", None)}


def test_revoking_in_the_middle_of_a_round_says_who_holds_the_work_now(world, admin_web,
                                                                      audit_events):
    advance(world, "Norr", "police_review")
    reviewer = world.users["reviewer"]
    response = post(admin_web, f"/admin/users/{reviewer}/roles/revoke",
                    {"role": "reviewer", "area": "Norr"}, page=f"/admin/users/{reviewer}")
    assert response.status_code == 302
    page = text(admin_web.client.get(f"/admin/users/{reviewer}"))
    assert "Tog tillbaka rollen Granskare (polis) – Norr." in page
    assert "Lägesbild januari 2030 — Norr ligger nu hos Reviewer2." in page
    [event] = audit_events("membership.delete")
    assert data_of(event)["before"] == {"roles": ["reviewer@Norr"]}
    # The second reviewer too: nobody is left, and the page says so.
    reviewer2 = world.users["reviewer2"]
    post(admin_web, f"/admin/users/{reviewer2}/roles/revoke",
         {"role": "reviewer", "area": "Norr"}, page=f"/admin/users/{reviewer2}")
    page = text(admin_web.client.get(f"/admin/users/{reviewer2}"))
    assert "ingen annan kan arbeta med det nu" in page


def test_revoking_the_last_administrators_role_is_refused(world, admin_web):
    me = world.users["admin"]
    response = post(admin_web, f"/admin/users/{me}/roles/revoke", {"role": "admin", "area": ""},
                    page=f"/admin/users/{me}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    assert "är den sista aktiva administratören" in text(response)
    assert [m.role for m in world.user("admin").memberships] == ["admin"]


def test_revoking_a_role_not_held_is_refused(world, admin_web):
    drafter = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{drafter}/roles/revoke",
                    {"role": "reviewer", "area": "Norr"}, page=f"/admin/users/{drafter}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200 and "har inte rollen" in text(response)


# -- deactivation ----------------------------------------------------------------------------------

def test_deactivation_stops_an_open_session_at_its_next_request(world, admin_web, other_web,
                                                                audit_events):
    other_web.log_in_as("drafter")
    assert other_web.is_logged_in()
    drafter = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{drafter}/active", {"active": "0"},
                    page=f"/admin/users/{drafter}")
    assert response.status_code == 302
    assert not other_web.is_logged_in()
    assert other_web.log_in("drafter@example.se").status_code == 401
    [event] = audit_events("user.deactivate")
    assert data_of(event)["after"] == {"active": False}
    page = text(admin_web.client.get(f"/admin/users/{drafter}"))
    assert "drafter@example.se är inaktiverad" in page
    # Her open drafts are with her colleague now.
    assert "Lägesbild januari 2030 — Norr ligger nu hos Drafter2." in page
    post(admin_web, f"/admin/users/{drafter}/active", {"active": "1"},
         page=f"/admin/users/{drafter}")
    assert other_web.log_in("drafter@example.se").status_code == 302


def test_a_form_drawn_before_a_change_is_refused(world, admin_web):
    drafter = world.users["drafter"]
    shown = input_values(text(admin_web.client.get(f"/admin/users/{drafter}")))
    run(world, "admin", admin.grant_role, world.user("drafter"), "auditor")  # meanwhile
    response = admin_web.client.post(f"/admin/users/{drafter}/active", data={
        "active": "0", "csrf_token": admin_web.csrf_token("/"),
        "expected_version": shown["expected_version"][0]})
    assert response.status_code == 409
    assert "Användaren har ändrats under tiden" in text(response)
    assert world.user("drafter").active
    missing = admin_web.client.post(f"/admin/users/{drafter}/active", data={
        "active": "0", "csrf_token": admin_web.csrf_token("/")})
    assert missing.status_code == 303 and world.user("drafter").active  # back to the page
    assert "Formuläret saknar den version du såg" in text(
        admin_web.client.get(missing.headers["Location"]))
    odd = post(admin_web, f"/admin/users/{drafter}/active", {"active": "maybe"},
               page=f"/admin/users/{drafter}")
    assert odd.status_code == 400 and world.user("drafter").active


def test_deactivating_oneself_or_twice_is_refused(world, admin_web):
    me = world.users["admin"]
    assert "disabled" in re.search(r"<button[^>]*>Inaktivera", text(
        admin_web.client.get(f"/admin/users/{me}"))).group(0)
    response = post(admin_web, f"/admin/users/{me}/active", {"active": "0"},
                    page=f"/admin/users/{me}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200 and "Du kan inte inaktivera dig själv." in text(response)
    drafter = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{drafter}/active", {"active": "1"},
                    page=f"/admin/users/{drafter}")
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200 and "är redan aktiv" in text(response)


def test_a_second_administrator_may_deactivate_the_first_but_not_the_last(world, web):
    run(world, "admin", admin.grant_role, world.user("consolidator"), "admin")
    web.log_in_as("consolidator")
    first = world.users["admin"]
    assert post(web, f"/admin/users/{first}/active", {"active": "0"},
                page=f"/admin/users/{first}").status_code == 302
    # The consolidator is the last active administrator now: the role stays.
    me = world.users["consolidator"]
    response = post(web, f"/admin/users/{me}/roles/revoke", {"role": "admin", "area": ""},
                    page=f"/admin/users/{me}")
    assert response.status_code == 303  # back to the page of the form
    response = web.client.get(response.headers["Location"])
    assert response.status_code == 200
    assert "är den sista aktiva administratören" in text(response)


# -- reset links -----------------------------------------------------------------------------------

def issue_link(admin_web, world, key="drafter") -> str:
    target = world.users[key]
    response = post(admin_web, f"/admin/users/{target}/reset-link", {},
                    page=f"/admin/users/{target}")
    assert response.status_code == 200
    match = re.search(r'id="reset-link-value"[^>]*value="([^"]+)"', text(response))
    return match.group(1)


def test_a_reset_link_is_shown_once_and_sets_a_password_once(world, admin_web, other_web,
                                                            audit_events, caplog):
    link = issue_link(admin_web, world)
    assert link.startswith("http://127.0.0.1:5000/password-reset/")
    token = link.rpartition("/")[2]
    assert token not in text(admin_web.client.get(f"/admin/users/{world.users['drafter']}"))
    [event] = audit_events("user.reset_link")
    assert token not in event.canonical
    assert db.session.scalar(select(PasswordResetLink.token_hash)) == admin.token_hash(token)

    path = f"/password-reset/{token}"
    with caplog.at_level(logging.INFO, logger="lagesbild.request"):
        page = other_web.client.get(path)
    assert page.status_code == 200 and "drafter@example.se" in text(page)
    assert token not in caplog.text
    weak = other_web.client.post(path, data={"new_password": "password123",
                                             "csrf_token": other_web.csrf_token(path)})
    assert weak.status_code == 400
    assert_field_error(text(weak), "reset-new_password", "vanligaste")
    done = other_web.client.post(path, data={"new_password": NEW_PASSWORD,
                                             "csrf_token": other_web.csrf_token(path)})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert other_web.log_in("drafter@example.se", NEW_PASSWORD).status_code == 302
    assert len(audit_events("user.password_reset")) == 1
    again = other_web.client.get(path)
    assert again.status_code == 400 and "Länken kan inte användas" in text(again)


def test_a_reset_link_of_a_deactivated_user_is_refused(world, admin_web, other_web):
    link = issue_link(admin_web, world)
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    path = "/" + link.split("/", 3)[3]
    assert other_web.client.get(path).status_code == 400
    token = other_web.csrf_token("/login")
    response = other_web.client.post(path, data={"new_password": NEW_PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 400 and "Länken kan inte användas" in text(response)
    assert world.user("drafter").check_password(PASSWORD)
    # And the admin cannot issue one for a deactivated account.
    drafter = world.users["drafter"]
    refused = post(admin_web, f"/admin/users/{drafter}/reset-link", {},
                   page=f"/admin/users/{drafter}")
    assert refused.status_code == 303  # back to the page of the form
    refused = admin_web.client.get(refused.headers["Location"])
    assert refused.status_code == 200 and "är inaktiverad" in text(refused)


def test_an_unknown_reset_link_is_a_clear_page(world, web):
    response = web.client.get("/password-reset/not-a-token")
    assert response.status_code == 400 and "Länken kan inte användas" in text(response)


def _refusals(audit_events) -> list[dict]:
    return [{"user": int(e.object_id) if e.object_id else None, **data_of(e)}
            for e in audit_events("auth.reset_link_refused")]


def test_every_refused_reset_link_is_a_security_event_with_its_reason_never_the_token(
        world, admin_web, other_web, audit_events):
    drafter = world.users["drafter"]
    other_web.client.get("/password-reset/not-a-token")
    link = issue_link(admin_web, world)
    token = link.rpartition("/")[2]
    issue_link(admin_web, world)  # a newer link replaces it
    other_web.client.get(f"/password-reset/{token}")
    other_web.client.post(f"/password-reset/{token}", data={
        "new_password": NEW_PASSWORD, "csrf_token": other_web.csrf_token("/login")})
    newest = issue_link(admin_web, world).rpartition("/")[2]
    stored = db.session.scalar(select(PasswordResetLink).where(
        PasswordResetLink.token_hash == admin.token_hash(newest)))
    stored.expires_at = stored.created_at
    db.session.commit()
    other_web.client.get(f"/password-reset/{newest}")

    assert _refusals(audit_events) == [
        {"user": None, "reason": "unknown link"},
        {"user": drafter, "reason": "link used or replaced"},
        {"user": drafter, "reason": "link used or replaced"},
        {"user": drafter, "reason": "link expired"}]
    for event in audit_events("auth.reset_link_refused"):
        assert token not in event.canonical and newest not in event.canonical
        assert "not-a-token" not in event.canonical
        assert admin.token_hash(token) not in event.canonical
    assert world.user("drafter").check_password(PASSWORD)


def test_a_deactivated_users_link_is_recorded_as_refused_for_that_reason(
        world, admin_web, other_web, audit_events):
    link = issue_link(admin_web, world)
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    other_web.client.get("/" + link.split("/", 3)[3])
    assert _refusals(audit_events) == [{"user": world.users["drafter"],
                                        "reason": "account deactivated"}]


def test_a_flood_of_unknown_reset_links_is_throttled_with_one_event_per_window(
        app, world, web, audit_events):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"

    statuses = [web.client.get(f"/password-reset/guess-{n}").status_code for n in range(10)]

    assert statuses == [400, 400, 400] + [429] * 7
    assert len(audit_events("auth.reset_link_refused")) == 3
    [throttled] = audit_events("auth.reset_link_throttled")
    assert data_of(throttled)["window"] == "3 per 15 minute"
    page = text(web.client.get("/password-reset/guess-last"))
    assert "För många länkar som inte kan användas. Försök igen om 15 minuter" in page
    # Another address is not held up.
    assert web.client.get("/password-reset/guess", environ_base={
        "REMOTE_ADDR": "127.0.0.2"}).status_code == 400


@pytest.fixture
def mailbox(app):
    port = free_port()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      EXTERNAL_URL="https://lagesbild.example.se")
    from aiosmtpd.controller import Controller

    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()


def test_with_mail_configured_the_link_is_mailed_and_never_queued(world, admin_web, mailbox):
    link = issue_link(admin_web, world)
    assert link.startswith("https://lagesbild.example.se/password-reset/")
    [message] = mailbox.to("drafter@example.se")
    assert message["Subject"] == "Välj ett lösenord för Lägesbild"
    assert link in message.get_content()
    from app.models import Notification

    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_when_the_mail_server_is_down_the_admin_is_told(world, app, admin_web):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_STARTTLS=False)
    target = world.users["drafter"]
    response = post(admin_web, f"/admin/users/{target}/reset-link", {},
                    page=f"/admin/users/{target}")
    assert response.status_code == 200
    assert "Den kunde inte skickas med e-post" in text(response)
    assert 'id="reset-link-value"' in text(response)


# -- one's own password ----------------------------------------------------------------------------

def test_change_ones_own_password(world, web, other_web, audit_events):
    web.log_in_as("drafter")
    other_web.log_in_as("drafter")
    response = post(web, "/account/password", {"current_password": PASSWORD,
                                               "new_password": NEW_PASSWORD})
    assert response.status_code == 302
    assert web.is_logged_in()  # this session goes on
    assert not other_web.is_logged_in()  # every other one ended
    assert len(audit_events("user.password_change")) == 1
    assert world.user("drafter").check_password(NEW_PASSWORD)


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"current_password": "fel", "new_password": NEW_PASSWORD}, "password-current_password",
     "Det nuvarande lösenordet stämmer inte"),
    ({"current_password": PASSWORD, "new_password": "kort"}, "password-new_password",
     "minst 10 tecken"),
    ({"current_password": PASSWORD, "new_password": "1234567890"}, "password-new_password",
     "vanligaste"),
    ({"current_password": PASSWORD, "new_password": PASSWORD}, "password-new_password",
     "samma som det nuvarande"),
])
def test_change_password_refusals(world, web, form, field, message):
    web.log_in_as("drafter")
    response = post(web, "/account/password", form)
    assert response.status_code == 303  # back to the page of the form
    response = web.client.get(response.headers["Location"])
    assert response.status_code == 200
    html = text(response)
    assert_field_error(html, field, message)
    assert PASSWORD not in html and NEW_PASSWORD not in html  # never sent back
    assert world.user("drafter").check_password(PASSWORD)


def test_wrong_current_passwords_are_throttled_like_the_login(app, world, web, audit_events):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    web.log_in_as("drafter")
    wrong = {"current_password": "not it", "new_password": NEW_PASSWORD}

    statuses = [post(web, "/account/password", wrong).status_code for _ in range(3)]
    # Past the limit even the right current password waits: nothing is checked.
    held = post(web, "/account/password", {"current_password": PASSWORD,
                                           "new_password": NEW_PASSWORD})
    for _ in range(5):
        post(web, "/account/password", wrong)

    assert statuses == [303, 303, 303]  # refused, back to the form's page
    assert held.status_code == 429
    assert 14 * 60 < int(held.headers["Retry-After"]) <= 15 * 60
    assert "För många felaktiga nuvarande lösenord. Försök igen om 15 minuter" in text(held)
    assert world.user("drafter").check_password(PASSWORD)
    [throttled] = audit_events("auth.password_change_throttled")
    assert int(throttled.object_id) == world.users["drafter"]
    assert web.is_logged_in()  # held up, not signed out


def test_a_weak_new_password_does_not_count_towards_the_limit(app, world, web):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    web.log_in_as("drafter")
    for _ in range(5):
        assert post(web, "/account/password", {"current_password": PASSWORD,
                                               "new_password": "kort"}).status_code == 303
    assert post(web, "/account/password", {"current_password": PASSWORD,
                                           "new_password": NEW_PASSWORD}).status_code == 302


def test_one_users_wrong_passwords_do_not_hold_up_another(app, world, web, other_web):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "3 per 15 minutes"
    web.log_in_as("drafter")
    other_web.log_in_as("reviewer")
    for _ in range(4):
        post(web, "/account/password", {"current_password": "not it",
                                        "new_password": NEW_PASSWORD})
    assert post(other_web, "/account/password", {"current_password": PASSWORD,
                                                 "new_password": NEW_PASSWORD}
                ).status_code == 302


def test_the_password_page_needs_a_signed_in_user(world, web):
    assert web.client.get("/account/password").status_code == 302


# -- organisations ---------------------------------------------------------------------------------

def test_create_and_rename_an_organisation(world, admin_web, audit_events):
    response = post(admin_web, "/admin/organisations", {"name": "Västra sdf",
                                                        "kind": "district_office"})
    assert response.status_code == 302
    organisation = db.session.scalar(select(Organisation).where(
        Organisation.name == "Västra sdf"))
    path = f"/admin/organisations/{organisation.id}"
    assert post(admin_web, path, {"name": "Västerorts sdf"}).status_code == 302
    [event] = audit_events("organisation.rename")
    assert data_of(event) == {"before": {"name": "Västra sdf"},
                              "after": {"name": "Västerorts sdf"}}
    assert "Västerorts sdf" in text(admin_web.client.get("/admin/organisations"))


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"name": "Stadsledningskontoret", "kind": "city_office"}, "new-name", "finns redan"),
    ({"name": "", "kind": "city_office"}, "new-name", "Ange organisationens namn"),
    ({"name": "Ny", "kind": ""}, "new-kind", "Okänd organisationstyp"),
])
def test_create_organisation_refusals(world, admin_web, form, field, message):
    response = post(admin_web, "/admin/organisations", form)
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    assert_field_error(text(response), field, message)


def test_renaming_an_organisation_to_a_taken_name_is_refused(world, admin_web):
    organisation = admin.find_organisation("Norra stadsdelsförvaltningen")
    path = f"/admin/organisations/{organisation.id}"
    response = post(admin_web, path, {"name": "Stadsledningskontoret"})
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    assert_field_error(text(response), "edit-name", "finns redan")
    assert 'value="Stadsledningskontoret"' in text(response)


# -- areas -----------------------------------------------------------------------------------------

def test_create_an_area_and_edit_it(world, admin_web, audit_events):
    response = post(admin_web, "/admin/areas", {
        "name": "Väster", "organisations": ["Norra stadsdelsförvaltningen",
                                            "Polisen – lokalpolisområde Norr"]})
    assert response.status_code == 302
    area = db.session.scalar(select(Area).where(Area.name == "Väster"))
    path = f"/admin/areas/{area.id}"
    assert post(admin_web, path, {"name": "Västerort",
                                  "organisations": ["Norra stadsdelsförvaltningen"]}
                ).status_code == 302
    [event] = audit_events("area.edit")
    assert data_of(event)["after"] == {"name": "Västerort",
                                       "organisations": ["Norra stadsdelsförvaltningen"]}


def test_an_area_refuses_a_duplicate_name_keeping_the_choices(world, admin_web):
    response = post(admin_web, "/admin/areas", {
        "name": "Norr", "organisations": ["Polisen – lokalpolisområde Söder"]})
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    html = text(response)
    assert_field_error(html, "new-name", "Det finns redan ett område som heter ”Norr”")
    assert re.search(r'value="Polisen – lokalpolisområde Söder" checked', html)


def test_an_organisation_whose_staff_hold_roles_stays_on_the_area(world, admin_web):
    path = f"/admin/areas/{world.areas['Norr']}"
    response = post(admin_web, path, {"name": "Norr",
                                      "organisations": ["Polisen – lokalpolisområde Norr"]})
    assert response.status_code == 303  # back to the page of the form
    response = admin_web.client.get(response.headers["Location"])
    assert response.status_code == 200
    html = text(response)
    assert_field_error(html, "edit-organisations", "drafter2@example.se, drafter@example.se")
    assert len(db.session.get(Area, world.areas["Norr"]).organisations) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "area.edit")) == 0


@pytest.mark.parametrize("path", ["/admin/users/999999", "/admin/organisations/999999",
                                  "/admin/areas/999999"])
def test_unknown_ids_are_404(world, admin_web, path):
    assert admin_web.client.get(path).status_code == 404


def test_organisation_and_area_forms_drawn_before_a_change_are_refused(world, admin_web):
    organisation = admin.find_organisation("Norra stadsdelsförvaltningen")
    org_path, area_path = f"/admin/organisations/{organisation.id}", \
        f"/admin/areas/{world.areas['Norr']}"
    shown = {path: input_values(text(admin_web.client.get(path)))
             for path in (org_path, area_path, "/admin/areas")}
    run(world, "admin", admin.rename_organisation, organisation, "Norrmalms sdf")
    run(world, "admin", admin.edit_area, admin.find_area("Norr"), name="Norrort")
    run(world, "admin", admin.create_area, "Väster")
    for path, data in ((org_path, {"name": "Ett tredje namn"}),
                       (area_path, {"name": "Norr", "organisations": []}),
                       ("/admin/areas", {"name": "Öster"})):
        response = admin_web.client.post(path, data={
            **data, "csrf_token": shown[path]["csrf_token"][0],
            "expected_version": shown[path]["expected_version"][0]})
        assert response.status_code == 409, path
        assert "under tiden" in text(response)
    db.session.rollback()
    assert admin.find_organisation("Norrmalms sdf") and admin.find_area("Norrort")
    assert db.session.scalar(select(func.count()).select_from(Area)) == 3


def test_a_refusal_is_shown_at_the_pages_own_address_once(world, admin_web):
    response = post(admin_web, "/admin/organisations", {"name": "", "kind": "city_office"})

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/organisations"
    shown = text(admin_web.client.get("/admin/organisations"))
    assert_field_error(shown, "new-name", "Ange organisationens namn")
    assert 'name="next" value="/admin/organisations"' in shown  # the language switch: a GET
    again = text(admin_web.client.get("/admin/organisations"))
    assert 'aria-invalid="true"' not in again and "Ange organisationens namn" not in again
