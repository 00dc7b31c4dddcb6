"""The people operations of app.admin.operations: editing users, revoking roles, the last
administrator, renaming organisations and areas, which organisations serve an area, and the
account lifecycle (one's own password, one-time reset links, the password rule). Each change
is one audit event with before and after; each refusal changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin import operations as admin
from app.admin.passwords import check_new_password, common_passwords
from app.audit.verify import verify_chain
from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, Membership, Organisation, PasswordResetLink, User
from app.web import auth
from app.web.tasks import handed_over, tasks_for
from tests.factories import PASSWORD, SETUP, advance, data_of, events_since, head_seq, run

NEW_PASSWORD = "tre gröna äpplen i en skål"


def refused(world, key, function, *args, **kwargs) -> InvalidInput:
    """As user `key` (or the command line for None): refused, no event, nothing changed."""
    seq = head_seq()
    rows = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (User, Membership, Organisation, PasswordResetLink)}
    with pytest.raises(InvalidInput) as info:
        if key is None:
            with operation(SETUP):
                function(SETUP, *args, **kwargs)
        else:
            run(world, key, function, *args, **kwargs)
    db.session.rollback()
    assert events_since(seq) == []
    assert rows == {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
                    for m in (User, Membership, Organisation, PasswordResetLink)}
    return info.value


# -- editing a user ----------------------------------------------------------------------------

def test_edit_user_records_one_event_with_before_and_after(world):
    seq = head_seq()
    changes = run(world, "admin", admin.edit_user, world.user("drafter"), name="Dora Drafter",
                  email=" Dora@Example.se ")
    assert changes == {"name": ("Drafter", "Dora Drafter"),
                       "email": ("drafter@example.se", "dora@example.se")}
    user = world.user("drafter")
    assert (user.name, user.email) == ("Dora Drafter", "dora@example.se")
    [event] = events_since(seq)
    assert event.action == "user.edit" and event.actor_name == "Admin"
    assert data_of(event) == {"before": {"email": "drafter@example.se", "name": "Drafter"},
                              "after": {"email": "dora@example.se", "name": "Dora Drafter"}}
    assert verify_chain().ok


def test_edit_user_with_nothing_changed_records_nothing(world):
    seq = head_seq()
    assert run(world, "admin", admin.edit_user, world.user("drafter"), name="Drafter",
               email="drafter@example.se") == {}
    assert events_since(seq) == []


@pytest.mark.parametrize(("name", "email", "field", "message"), [
    ("Drafter", "reviewer@example.se", "email", "already exists"),
    ("Drafter", "REVIEWER@example.se", "email", "already exists"),
    ("Drafter", "inte en adress", "email", "not an e-mail"),
    ("   ", "drafter@example.se", "name", "must not be empty"),
    ("x" * 201, "drafter@example.se", "name", "longer than 200"),
])
def test_edit_user_refusals_name_the_field(world, name, email, field, message):
    error = refused(world, "admin", admin.edit_user, world.user("drafter"), name=name,
                    email=email)
    assert message in error.message and error.details["field"] == field
    assert (world.user("drafter").name, world.user("drafter").email) == \
        ("Drafter", "drafter@example.se")


def test_only_an_administrator_edits_users(world):
    with pytest.raises(NotAllowed):
        run(world, "consolidator", admin.edit_user, world.user("drafter"), name="X",
            email="drafter@example.se")
    assert world.user("drafter").name == "Drafter"


def test_past_events_keep_the_name_they_were_recorded_with(world):
    advance(world, "Norr", "police_review")
    run(world, "admin", admin.edit_user, world.user("drafter"), name="Dora Nyman",
        email="drafter@example.se")
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    submitted = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "contribution.submit"))
    assert submitted.actor_name == "Drafter"
    assert submitted.actor_id == world.users["drafter"]
    assert verify_chain().ok


# -- revoking roles; the last administrator -----------------------------------------------------

def test_revoke_role_records_before_and_after_and_ends_sessions(world):
    user = world.user("drafter2")
    generation, seq = user.session_generation, head_seq()
    run(world, "admin", admin.revoke_role, user, "drafter", "Norr")
    user = world.user("drafter2")
    assert user.memberships == [] and user.session_generation == generation + 1
    [event] = events_since(seq)
    assert event.action == "membership.delete"
    assert data_of(event) == {"role": "drafter", "area": "Norr",
                              "before": {"roles": ["drafter@Norr"]}, "after": {"roles": []}}


@pytest.mark.parametrize(("role", "area", "message"), [
    ("reviewer", "Norr", "does not have the role"),
    ("drafter", "Söder", "does not have the role"),
    ("drafter", None, "does not have the role"),
    ("drafter", "Väster", "Unknown area"),
    ("superuser", None, "does not have the role"),
])
def test_revoking_a_role_the_user_does_not_hold_is_refused(world, role, area, message):
    error = refused(world, "admin", admin.revoke_role, world.user("drafter"), role, area)
    assert message in error.message


def test_revoking_in_the_middle_of_a_round_hands_the_work_to_the_others(world):
    """The police reviewer's open review goes to the area's other reviewer."""
    advance(world, "Norr", "police_review")
    held = tasks_for(world.user("reviewer"))
    assert [task.subject.id for task in held] == [world.contribution("Norr").id]
    run(world, "admin", admin.revoke_role, world.user("reviewer"), "reviewer", "Norr")
    [item] = handed_over(held)
    assert [holder.email for holder in item.holders] == ["reviewer2@example.se"]
    run(world, "admin", admin.revoke_role, world.user("reviewer2"), "reviewer", "Norr")
    [item] = handed_over(held)
    assert item.holders == []  # nobody: the page says to grant the role to someone


def test_the_last_active_administrator_cannot_be_deactivated_or_lose_the_role(world):
    only_admin = world.user("admin")
    error = refused(world, None, admin.revoke_role, only_admin, "admin")
    assert "last active administrator" in error.message
    error = refused(world, None, admin.set_user_active, only_admin, False)
    assert "last active administrator" in error.message
    assert world.user("admin").active and world.user("admin").memberships


def test_with_a_second_administrator_the_first_may_go(world):
    run(world, "admin", admin.grant_role, world.user("consolidator2"), "admin")
    run(world, "consolidator2", admin.revoke_role, world.user("admin"), "admin")
    assert [m.role for m in world.user("admin").memberships] == []
    # Now consolidator2 is the last: a deactivated second admin does not count.
    run(world, "consolidator2", admin.grant_role, world.user("approver"), "admin")
    run(world, "consolidator2", admin.set_user_active, world.user("approver"), False)
    error = refused(world, None, admin.revoke_role, world.user("consolidator2"), "admin")
    assert "last active administrator" in error.message


# -- organisations and areas ---------------------------------------------------------------------

def test_rename_organisation(world):
    organisation = admin.find_organisation("Norra stadsdelsförvaltningen")
    seq = head_seq()
    assert run(world, "admin", admin.rename_organisation, organisation, "  Norrmalms  sdf ")
    [event] = events_since(seq)
    assert event.action == "organisation.rename"
    assert data_of(event) == {"before": {"name": "Norra stadsdelsförvaltningen"},
                              "after": {"name": "Norrmalms sdf"}}
    assert world.user("drafter").organisation.name == "Norrmalms sdf"
    seq = head_seq()
    assert not run(world, "admin", admin.rename_organisation,
                   admin.find_organisation("Norrmalms sdf"), "Norrmalms sdf")
    assert events_since(seq) == []


@pytest.mark.parametrize(("name", "message"), [
    ("Stadsledningskontoret", "already exists"), ("", "must not be empty"),
    ("a\x01b", "control characters")])
def test_rename_organisation_refusals(world, name, message):
    error = refused(world, "admin", admin.rename_organisation,
                    admin.find_organisation("Norra stadsdelsförvaltningen"), name)
    assert message in error.message and error.details["field"] == "name"


def test_edit_area_renames_and_sets_organisations_in_one_event(world):
    with operation(SETUP):
        admin.create_organisation(SETUP, "Nya polisen", "police")
    area = admin.find_area("Norr")
    seq = head_seq()
    assert run(world, "admin", admin.edit_area, area, name="Norrort",
               organisation_names=["Norra stadsdelsförvaltningen",
                                   "Polisen – lokalpolisområde Norr", "Nya polisen"])
    [event] = events_since(seq)
    assert event.action == "area.edit"
    assert data_of(event) == {
        "before": {"name": "Norr", "organisations": ["Norra stadsdelsförvaltningen",
                                                     "Polisen – lokalpolisområde Norr"]},
        "after": {"name": "Norrort", "organisations": ["Norra stadsdelsförvaltningen",
                                                       "Nya polisen",
                                                       "Polisen – lokalpolisområde Norr"]}}
    assert [m.area.name for m in world.user("drafter").memberships] == ["Norrort"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "Söder"}, "name", "already exists"),
    ({"name": " "}, "name", "must not be empty"),
    ({"organisation_names": ["Okänd"]}, "organisations", "Unknown organisation"),
    ({"organisation_names": ["Polisen – lokalpolisområde Norr"]}, "organisations",
     "cannot stop serving Norr: drafter2@example.se, drafter@example.se hold roles there"),
])
def test_edit_area_refusals(world, changes, field, message):
    error = refused(world, "admin", admin.edit_area, admin.find_area("Norr"), **changes)
    assert message in error.message and error.details["field"] == field
    assert len(admin.find_area("Norr").organisations) == 2


def test_create_area_and_organisation_name_their_fields(world):
    assert refused(world, "admin", admin.create_area, "Norr").details["field"] == "name"
    assert refused(world, "admin", admin.create_area, "Väster",
                   ["Okänd"]).details["field"] == "organisations"
    assert refused(world, "admin", admin.create_organisation, "Stadsledningskontoret",
                   "city_office").details["field"] == "name"
    assert refused(world, "admin", admin.create_organisation, "Ny",
                   "kommun").details["field"] == "kind"


# -- the password rule -------------------------------------------------------------------------

def test_the_vendored_list_holds_twenty_thousand_common_passwords():
    passwords = common_passwords()
    assert len(passwords) > 19_000
    assert {"password", "123456789", "qwertyuiop"} <= passwords


@pytest.mark.parametrize(("password", "message"), [
    ("kort", "at least 10"),
    ("x" * 257, "at most 256"),
    ("qwertyuiop", "most commonly used"),
    ("Password12", "most commonly used"),  # any case
    ("drafter@example.se", "your e-mail address"),
])
def test_the_password_rule_refuses(password, message):
    with pytest.raises(InvalidInput, match=message):
        check_new_password(password, email="drafter@example.se")


@pytest.mark.parametrize("password", ["tre gröna äpplen", "abcdefghij-not-common", "ö" * 10])
def test_the_password_rule_has_no_composition_rules(password):
    assert check_new_password(password) == password


def test_create_user_applies_the_password_rule(world):
    error = refused(world, None, admin.create_user, email="ny@example.se", name="Ny",
                    organisation_name="Stadsledningskontoret", password="1234567890")
    assert "most commonly used" in error.message


def test_create_user_without_a_password_has_none_anyone_knows(world):
    with operation(SETUP):
        user = admin.create_user(SETUP, email="ny@example.se", name="Ny",
                                 organisation_name="Stadsledningskontoret", password=None)
        user_id = user.id
    user = db.session.get(User, user_id)
    assert user.password_hash.startswith("scrypt:")
    assert not user.check_password("")


# -- one's own password --------------------------------------------------------------------------

def test_change_password_needs_the_current_one_and_ends_every_session(world):
    user = world.user("drafter")
    generation, seq = user.session_generation, head_seq()
    with operation(user):
        admin.change_password(user, PASSWORD, NEW_PASSWORD)
    user = world.user("drafter")
    assert user.check_password(NEW_PASSWORD) and user.session_generation > generation
    [event] = events_since(seq)
    assert (event.action, event.actor_id) == ("user.password_change", user.id)
    assert NEW_PASSWORD not in event.canonical and PASSWORD not in event.canonical


@pytest.mark.parametrize(("current", "new", "field", "message"), [
    ("fel lösenord", NEW_PASSWORD, "current_password", "not right"),
    ("", NEW_PASSWORD, "current_password", "not right"),
    (PASSWORD, "kort", "new_password", "at least 10"),
    (PASSWORD, "password123", "new_password", "most commonly used"),
    (PASSWORD, PASSWORD, "new_password", "the same as the current"),
])
def test_change_password_refusals(world, current, new, field, message):
    user = world.user("drafter")
    seq = head_seq()
    with pytest.raises(InvalidInput) as info:
        with operation(user):
            admin.change_password(user, current, new)
    assert message in info.value.message and info.value.details["field"] == field
    assert events_since(seq) == [] and world.user("drafter").check_password(PASSWORD)


# -- reset links -----------------------------------------------------------------------------------

def issue(world, key="drafter") -> str:
    token, _expires = run(world, "admin", admin.issue_reset_link, world.user(key))
    return token


def test_a_reset_link_is_stored_as_a_hash_and_logged_without_its_token(world):
    seq = head_seq()
    token = issue(world)
    [link] = db.session.scalars(select(PasswordResetLink)).all()
    assert link.token_hash == admin.token_hash(token) and token not in link.token_hash
    assert link.expires_at - link.created_at == timedelta(hours=24)
    [event] = events_since(seq)
    assert event.action == "user.reset_link" and event.actor_name == "Admin"
    assert token not in event.canonical and link.token_hash not in event.canonical
    assert data_of(event)["superseded"] == 0


def test_a_reset_link_works_once(world):
    token = issue(world)
    generation = world.user("drafter").session_generation
    seq = head_seq()
    with operation(None):
        admin.reset_password(token, NEW_PASSWORD)
    user = world.user("drafter")
    assert user.check_password(NEW_PASSWORD) and user.session_generation > generation
    [event] = events_since(seq)
    assert (event.action, event.actor_id) == ("user.password_reset", user.id)
    with pytest.raises(InvalidInput, match="cannot be used"):
        with operation(None):
            admin.reset_password(token, "ett annat långt lösenord")
    assert world.user("drafter").check_password(NEW_PASSWORD)


def test_a_new_link_replaces_the_old_one(world):
    first = issue(world)
    second = issue(world)
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(first)
    assert admin.reset_link_user(second).email == "drafter@example.se"


def test_an_expired_link_is_refused(world):
    token = issue(world)
    link = db.session.scalar(select(PasswordResetLink))
    link.expires_at = link.created_at - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(token)


@pytest.mark.parametrize("token", ["", "nonsense", "a" * 43, None])
def test_an_unknown_link_is_refused(world, token):
    issue(world)
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(token)


def test_a_weak_password_through_a_link_is_refused_and_the_link_still_works(world):
    token = issue(world)
    with pytest.raises(InvalidInput, match="most commonly used") as info:
        with operation(None):
            admin.reset_password(token, "iloveyou12")
    assert info.value.details["field"] == "new_password"
    assert admin.reset_link_user(token).email == "drafter@example.se"


def test_a_deactivated_user_cannot_use_a_link_or_get_one(world):
    token = issue(world)
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(token)
    # Reactivated, the old link stays spent: deactivation ended it.
    error = refused(world, "admin", admin.issue_reset_link, world.user("drafter"))
    assert "deactivated" in error.message
    run(world, "admin", admin.set_user_active, world.user("drafter"), True)
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(token)


def test_a_deactivated_user_cannot_sign_in(world):
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    with operation(None):
        assert auth.authenticate("drafter@example.se", PASSWORD) is None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login_failed"))
    assert data_of(event)["reason"] == "account deactivated"


def test_changing_ones_password_spends_open_reset_links(world):
    token = issue(world)
    user = world.user("drafter")
    with operation(user):
        admin.change_password(user, PASSWORD, NEW_PASSWORD)
    with pytest.raises(InvalidInput, match="cannot be used"):
        admin.reset_link_user(token)


def test_only_an_administrator_issues_links(world):
    with pytest.raises(NotAllowed):
        run(world, "auditor", admin.issue_reset_link, world.user("drafter"))
    assert db.session.scalar(select(func.count()).select_from(PasswordResetLink)) == 0


# -- search -------------------------------------------------------------------------------------

def test_search_users_by_name_or_email_paged(world):
    found, total = admin.search_users("REVIEWER", per_page=2)
    # By name: "Reviewer", "Reviewer South", "Reviewer2".
    assert total == 3 and [u.email for u in found] == ["reviewer@example.se",
                                                       "reviewer_south@example.se"]
    found, _ = admin.search_users("reviewer", page=2, per_page=2)
    assert [u.email for u in found] == ["reviewer2@example.se"]
    assert admin.search_users("%")[1] == 0 and admin.search_users("_")[1] == 2
    assert admin.search_users("")[1] == len(world.users)
