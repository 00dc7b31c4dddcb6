"""Service tests for app.admin.operations: organisations, areas, topics, users, roles and
periods; validation, who may call them, and the audit event each change writes."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.admin import operations as admin
from app.audit.verify import verify_chain
from app.contributions import operations as contributions
from app.core.errors import InvalidInput, NotAllowed
from app.core.text_rules import luhn_ok
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import (
    Area,
    Consolidation,
    Contribution,
    Membership,
    Organisation,
    Period,
    Topic,
    User,
)
from tests.factories import CITY_TOPICS, PASSWORD, SETUP, data_of, events_since, head_seq, run

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------



def counts() -> dict[str, int]:
    db.session.expire_all()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Organisation, Area, Topic, User, Membership, Period, Contribution,
                          Consolidation)}


def setup_refuses(function, *args, **kwargs) -> InvalidInput:
    """Call an admin service as the command line would; it must refuse and change nothing."""
    before, seq = counts(), head_seq()
    with pytest.raises(InvalidInput) as info:
        with operation(SETUP):
            function(SETUP, *args, **kwargs)
    assert counts() == before
    assert events_since(seq) == []
    return info.value


def as_setup(function, *args, **kwargs):
    with operation(SETUP):
        result = function(SETUP, *args, **kwargs)
        return result.id


def new_user_kwargs(**overrides) -> dict:
    kwargs = {"email": "ny@example.se", "name": "Ny Person",
              "organisation_name": "Norra stadsdelsförvaltningen", "password": PASSWORD}
    kwargs.update(overrides)
    return kwargs


DEADLINES = dict(drafting_deadline=date(2030, 2, 10), review_deadline=date(2030, 2, 17),
                 consolidation_deadline=date(2030, 2, 24), approval_deadline=date(2030, 2, 28))


# --------------------------------------------------------------------------------------------
# Users
# --------------------------------------------------------------------------------------------


def test_create_user_writes_user_and_one_event_without_the_password(world):
    seq = head_seq()
    user_id = as_setup(admin.create_user, **new_user_kwargs(email="  Ny.Person@Example.SE "))

    user = db.session.get(User, user_id)
    assert user.email == "ny.person@example.se"
    assert user.organisation.name == "Norra stadsdelsförvaltningen"
    assert user.active and user.memberships == []
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password_hash
    [event] = events_since(seq)
    assert event.action == "user.create"
    assert (event.object_type, event.object_id) == ("user", str(user_id))
    assert (event.actor_id, event.actor_name, event.actor_organisation) == \
        (None, "test set-up", "system")
    assert data_of(event) == {"email": "ny.person@example.se", "name": "Ny Person",
                              "organisation": "Norra stadsdelsförvaltningen"}
    assert PASSWORD not in event.data
    assert user.password_hash not in event.data
    assert verify_chain().ok


@pytest.mark.parametrize(("overrides", "message"), [
    pytest.param({"email": "drafter@example.se"}, "already exists", id="duplicate-email"),
    pytest.param({"email": " DRAFTER@Example.se "}, "already exists",
                 id="duplicate-email-other-case"),
    pytest.param({"email": "inte-en-adress"}, "not an e-mail", id="no-at-sign"),
    pytest.param({"email": "a b@example.se"}, "not an e-mail", id="space-in-email"),
    pytest.param({"email": ""}, "not an e-mail", id="empty-email"),
    pytest.param({"password": "123456789"}, "at least 10", id="short-password"),
    pytest.param({"password": ""}, "at least 10", id="empty-password"),
    pytest.param({"organisation_name": "Okänd förvaltning"}, "Unknown organisation",
                 id="unknown-organisation"),
    pytest.param({"name": "   "}, "must not be empty", id="blank-name"),
    pytest.param({"name": "Ny\x07Person"}, "control characters", id="control-char-in-name"),
])
def test_create_user_refuses_bad_input(world, overrides, message):
    error = setup_refuses(admin.create_user, **new_user_kwargs(**overrides))
    assert message in error.message


def test_password_of_exactly_the_minimum_length_is_accepted(world):
    user_id = as_setup(admin.create_user, **new_user_kwargs(password="gul-bil-17"))
    assert db.session.get(User, user_id).check_password("gul-bil-17")


@pytest.mark.parametrize(("organisation", "role", "area", "message"), [
    pytest.param("Polisen – lokalpolisområde Norr", "drafter", "Norr", "cannot hold",
                 id="police-as-drafter"),
    pytest.param("Norra stadsdelsförvaltningen", "reviewer", "Norr", "cannot hold",
                 id="district-office-as-reviewer"),
    pytest.param("Stadsledningskontoret", "drafter", "Norr", "cannot hold",
                 id="city-office-as-drafter"),
    pytest.param("Norra stadsdelsförvaltningen", "consolidator", None, "cannot hold",
                 id="district-office-as-consolidator"),
    pytest.param("Polisen – lokalpolisområde Norr", "admin", None, "cannot hold",
                 id="police-as-admin"),
    pytest.param("Stadsledningskontoret", "consolidator", "Norr", "city-wide",
                 id="area-for-city-role"),
    pytest.param("Stadsledningskontoret", "auditor", "Norr", "city-wide",
                 id="area-for-auditor"),
    pytest.param("Norra stadsdelsförvaltningen", "drafter", None, "needs an area",
                 id="drafter-without-area"),
    pytest.param("Polisen – lokalpolisområde Norr", "reviewer", None, "needs an area",
                 id="reviewer-without-area"),
    pytest.param("Norra stadsdelsförvaltningen", "drafter", "Söder", "does not serve",
                 id="office-of-another-area"),
    pytest.param("Polisen – lokalpolisområde Söder", "reviewer", "Norr", "does not serve",
                 id="police-of-another-area"),
    pytest.param("Norra stadsdelsförvaltningen", "drafter", "Väster", "Unknown area",
                 id="unknown-area"),
    pytest.param("Norra stadsdelsförvaltningen", "superuser", None, "Unknown role",
                 id="unknown-role"),
])
def test_grant_role_refuses_mismatches(world, organisation, role, area, message):
    user_id = as_setup(admin.create_user, **new_user_kwargs(organisation_name=organisation))
    error = setup_refuses(admin.grant_role, db.session.get(User, user_id), role, area)
    assert message in error.message
    assert db.session.get(User, user_id).memberships == []


def test_grant_role_refuses_a_duplicate(world):
    error = setup_refuses(admin.grant_role, world.user("drafter"), "drafter", "Norr")
    assert "already has" in error.message


@pytest.mark.parametrize(("organisation", "role", "area"), [
    ("Polisen – lokalpolisområde Norr", "approver", None),
    ("Polisen – lokalpolisområde Norr", "auditor", None),
    ("Norra stadsdelsförvaltningen", "auditor", None),
    ("Stadsledningskontoret", "approver", None),
])
def test_grant_role_accepts_the_allowed_combinations(world, organisation, role, area):
    user_id = as_setup(admin.create_user, **new_user_kwargs(organisation_name=organisation))
    seq = head_seq()
    with operation(SETUP):
        admin.grant_role(SETUP, db.session.get(User, user_id), role, area)
    [membership] = db.session.get(User, user_id).memberships
    assert (membership.role, membership.area_id) == (role, None)
    [event] = events_since(seq)
    assert event.action == "membership.create"
    assert (event.object_type, event.object_id) == ("user", str(user_id))
    assert data_of(event) == {"role": role, "area": area, "before": {"roles": []},
                              "after": {"roles": [role]}}


def test_no_organisation_may_hold_both_drafter_and_reviewer():
    """Why separation of duties between drafting and police review needs no runtime scenario:
    the role rules never let one user hold both."""
    assert not (admin.ROLE_ORGANISATION_KINDS["drafter"]
                & admin.ROLE_ORGANISATION_KINDS["reviewer"])
    assert admin.ROLE_ORGANISATION_KINDS["consolidator"] \
        & admin.ROLE_ORGANISATION_KINDS["approver"]


def test_a_second_area_for_a_drafter(world):
    """A district office serving two areas may give its drafter both."""
    with operation(SETUP):
        admin.create_area(SETUP, "Väster", ["Norra stadsdelsförvaltningen"])
        admin.grant_role(SETUP, world.user("drafter"), "drafter", "Väster")
    areas = sorted(m.area.name for m in world.user("drafter").memberships)
    assert areas == ["Norr", "Väster"]


# --------------------------------------------------------------------------------------------
# Organisations, areas, topics
# --------------------------------------------------------------------------------------------


def test_create_organisation_area_and_topics_write_one_event_each(world):
    seq = head_seq()
    with operation(SETUP):
        admin.create_organisation(SETUP, "  Västra   stadsdelsförvaltningen ", "district_office")
        area = admin.create_area(SETUP, "Väster", ["Västra stadsdelsförvaltningen"])
        admin.create_topic(SETUP, "Skolor", area_name="Väster")
        admin.create_topic(SETUP, "Trafik", number=4)

    events = events_since(seq)
    assert [e.action for e in events] == [
        "organisation.create", "area.create", "topic.create", "topic.create"]
    assert data_of(events[0]) == {"name": "Västra stadsdelsförvaltningen",
                                  "kind": "district_office"}
    assert data_of(events[1]) == {"name": "Väster",
                                  "organisations": ["Västra stadsdelsförvaltningen"]}
    assert data_of(events[2]) == {"title": "Skolor", "scope": "local", "number": None,
                                  "area": "Väster"}
    assert data_of(events[3])["number"] == 4
    area = db.session.get(Area, area.id)
    assert [o.name for o in area.organisations] == ["Västra stadsdelsförvaltningen"]
    assert [t.title for t in area.local_topics] == ["Skolor"]
    assert verify_chain().ok


@pytest.mark.parametrize(("function", "args", "kwargs", "message"), [
    pytest.param(admin.create_organisation, ("Stadsledningskontoret", "city_office"), {},
                 "already exists", id="duplicate-organisation"),
    pytest.param(admin.create_organisation, ("Ny", "ministry"), {}, "Unknown organisation kind",
                 id="unknown-kind"),
    pytest.param(admin.create_organisation, ("  ", "police"), {}, "must not be empty",
                 id="blank-organisation"),
    pytest.param(admin.create_area, ("Norr",), {}, "already exists", id="duplicate-area"),
    pytest.param(admin.create_area, ("Väster", ["Finns inte"]), {}, "Unknown organisation",
                 id="area-unknown-organisation"),
    pytest.param(admin.create_topic, ("Trafik",), {}, "Give either", id="topic-neither"),
    pytest.param(admin.create_topic, ("Trafik",), {"number": 9, "area_name": "Norr"},
                 "Give either", id="topic-both"),
    pytest.param(admin.create_topic, ("Trafik",), {"number": 1}, "already",
                 id="duplicate-topic-number"),
    pytest.param(admin.create_topic, ("Trafik",), {"number": 0}, "1 or more",
                 id="topic-number-zero"),
    pytest.param(admin.create_topic, ("Trygghet i norr",), {"area_name": "Norr"}, "already",
                 id="duplicate-local-topic"),
    pytest.param(admin.create_topic, ("Trafik",), {"area_name": "Väster"}, "Unknown area",
                 id="topic-unknown-area"),
])
def test_structure_changes_refuse_bad_input(world, function, args, kwargs, message):
    error = setup_refuses(function, *args, **kwargs)
    assert message in error.message


# --------------------------------------------------------------------------------------------
# Periods
# --------------------------------------------------------------------------------------------


def test_create_period_creates_contributions_sections_and_consolidation(world):
    with operation(SETUP):
        admin.create_topic(SETUP, "Skolor", area_name="Norr")
        inactive = admin.create_topic(SETUP, "Gammalt ämne", number=9)
        inactive.active = False
    seq = head_seq()

    period_id = as_setup(admin.create_period, "februari 2030", **DEADLINES)

    period = db.session.get(Period, period_id)
    assert (period.drafting_deadline, period.approval_deadline) == \
        (date(2030, 2, 10), date(2030, 2, 28))
    assert period.consolidation is not None
    assert (period.consolidation.state, period.consolidation.version) == ("open", 1)
    by_area = {c.area.name: c for c in period.contributions}
    assert sorted(by_area) == ["Norr", "Söder"]
    for area, local in (("Norr", ["Trygghet i norr", "Skolor"]),
                        ("Söder", ["Trygghet i söder"])):
        contribution = by_area[area]
        assert (contribution.state, contribution.round, contribution.version) == \
            ("draft", 1, 1)
        headings = [s.topic.heading for s in contribution.ordered_sections]
        assert headings == [f"{n}. {t}" for n, t in enumerate(CITY_TOPICS, start=1)] + local
        assert all(s.text == "" and s.revisions == [] for s in contribution.sections)
    [event] = events_since(seq)
    assert event.action == "period.create"
    assert (event.object_type, event.object_id) == ("period", str(period_id))
    assert data_of(event) == {
        "name": "februari 2030",
        "deadlines": ["2030-02-10", "2030-02-17", "2030-02-24", "2030-02-28"],
        "areas": ["Norr", "Söder"],
    }
    assert verify_chain().ok


def test_a_new_period_is_independent_of_the_last_one(world):
    section = world.sections("Norr")[0]
    run(world, "drafter", contributions.edit_section, section.id, "Januaritext",
        section.version)
    period_id = as_setup(admin.create_period, "februari 2030", **DEADLINES)
    new = next(c for c in db.session.get(Period, period_id).contributions
               if c.area.name == "Norr")
    assert all(s.text == "" for s in new.sections)
    assert world.sections("Norr")[0].text == "Januaritext"


@pytest.mark.parametrize("swap", [
    ("drafting_deadline", "review_deadline"),
    ("review_deadline", "consolidation_deadline"),
    ("consolidation_deadline", "approval_deadline"),
    ("drafting_deadline", "approval_deadline"),
])
def test_deadlines_out_of_order_are_refused(world, swap):
    deadlines = dict(DEADLINES)
    deadlines[swap[0]], deadlines[swap[1]] = deadlines[swap[1]], deadlines[swap[0]]
    error = setup_refuses(admin.create_period, "februari 2030", **deadlines)
    assert "in order" in error.message


def test_deadlines_on_the_same_day_are_accepted(world):
    day = date(2030, 2, 15)
    period_id = as_setup(admin.create_period, "februari 2030", drafting_deadline=day,
                         review_deadline=day, consolidation_deadline=day, approval_deadline=day)
    assert db.session.get(Period, period_id).review_deadline == day


def test_duplicate_period_name_is_refused(world):
    error = setup_refuses(admin.create_period, "januari 2030", **DEADLINES)
    assert "already exists" in error.message


# --------------------------------------------------------------------------------------------
# Who may administer
# --------------------------------------------------------------------------------------------

ADMIN_CALLS = {
    "organisation.create": (admin.create_organisation, ("Ny organisation", "police"), {}),
    "area.create": (admin.create_area, ("Väster",), {}),
    "topic.create": (admin.create_topic, ("Trafik",), {"number": 7}),
    "user.create": (admin.create_user, (), new_user_kwargs()),
    "membership.create": (admin.grant_role, (None, "auditor"), {}),
    "period.create": (admin.create_period, ("februari 2030",), DEADLINES),
    "user.deactivate": (admin.set_user_active, (None, False), {}),
}


def _call_args(world, attempted):
    function, args, kwargs = ADMIN_CALLS[attempted]
    if attempted in ("membership.create", "user.deactivate"):
        args = (world.user("approver"), *args[1:])
    return function, args, kwargs


@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
@pytest.mark.parametrize("attempted", list(ADMIN_CALLS))
def test_non_admins_are_refused_and_logged(world, key, attempted):
    function, args, kwargs = _call_args(world, attempted)
    before, seq = counts(), head_seq()

    with pytest.raises(NotAllowed):
        run(world, key, function, *args, **kwargs)

    assert counts() == before
    [event] = events_since(seq)
    assert event.action == "security.permission_denied"
    assert event.actor_id == world.users[key]
    assert data_of(event)["attempted"] == attempted
    assert data_of(event)["reason"] == "Only an administrator may do this."
    assert verify_chain().ok


@pytest.mark.parametrize("attempted", list(ADMIN_CALLS))
def test_an_admin_user_may_administer(world, attempted):
    function, args, kwargs = _call_args(world, attempted)
    seq = head_seq()

    run(world, "admin", function, *args, **kwargs)

    [event] = events_since(seq)
    assert event.action == attempted
    assert event.actor_id == world.users["admin"]
    assert event.actor_organisation == "Stadsledningskontoret"


def test_a_deactivated_admin_is_refused(world):
    with operation(SETUP):
        world.user("admin").active = False
    seq = head_seq()
    with pytest.raises(NotAllowed):
        run(world, "admin", admin.create_area, "Väster")
    assert [e.action for e in events_since(seq)] == ["security.permission_denied"]
    assert db.session.scalar(select(Area).where(Area.name == "Väster")) is None


def test_deactivating_a_user_ends_her_sessions_and_keeps_her_history(world):
    drafter = world.user("drafter")
    generation, seq = drafter.session_generation, head_seq()
    run(world, "admin", admin.set_user_active, drafter, False)
    db.session.rollback()
    drafter = world.user("drafter")
    assert not drafter.active and drafter.session_generation == generation + 1
    [event] = events_since(seq)
    assert event.action == "user.deactivate" and event.object_id == str(drafter.id)
    assert data_of(event) == {"email": "drafter@example.se", "before": {"active": True},
                              "after": {"active": False}}
    run(world, "admin", admin.set_user_active, drafter, True)
    assert world.user("drafter").active
    assert [e.action for e in events_since(seq)] == ["user.deactivate", "user.reactivate"]


def test_deactivation_twice_or_of_oneself_is_refused(world):
    with pytest.raises(InvalidInput, match="drafter@example.se is already active."):
        run(world, "admin", admin.set_user_active, world.user("drafter"), True)
    run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    with pytest.raises(InvalidInput, match="already deactivated"):
        run(world, "admin", admin.set_user_active, world.user("drafter"), False)
    seq = head_seq()
    with pytest.raises(InvalidInput, match="You cannot deactivate yourself."):
        run(world, "admin", admin.set_user_active, world.user("admin"), False)
    assert events_since(seq) == [] and world.user("admin").active


# A Luhn-valid number built here; every name an administrator types passes the one guard.
_NINE = "850709317"
_NUMBER = f"19{_NINE[:6]}-\n{_NINE[6:]}" + next(
    str(d) for d in range(10) if luhn_ok(_NINE + str(d)))


@pytest.mark.parametrize(("function", "args", "kwargs", "field"), [
    pytest.param(admin.create_organisation, (f"Polisen {_NUMBER}", "police"), {},
                 "name", id="organisation"),  # the form's field (app/admin/routes.py)
    pytest.param(admin.create_area, (f"Väster {_NUMBER}",), {}, "name", id="area"),
    pytest.param(admin.create_topic, (f"Trygghet {_NUMBER}",), {"number": 9}, "topic title",
                 id="city-topic"),
    pytest.param(admin.create_topic, (f"Trygghet {_NUMBER}",), {"area_name": "Norr"},
                 "topic title", id="local-topic"),
    pytest.param(admin.create_period, (f"mars {_NUMBER}",),
                 {"drafting_deadline": date(2031, 1, 1), "review_deadline": date(2031, 1, 2),
                  "consolidation_deadline": date(2031, 1, 3),
                  "approval_deadline": date(2031, 1, 4)}, "period name", id="period"),
    pytest.param(admin.create_user, (), new_user_kwargs(name=f"Ny {_NUMBER}"), "name",
                 id="user-name"),
    pytest.param(admin.create_user, (),
                 new_user_kwargs(email=_NUMBER.replace("-\n", "") + "@example.se"),
                 "email", id="user-email"),
])
def test_a_name_with_an_identity_number_is_refused_by_its_field(world, function, args, kwargs,
                                                                field):
    error = setup_refuses(function, *args, **kwargs)
    assert error.details["field"] == field and error.details["kind"] == "personnummer"
    assert "must not be stored" in error.message and "(character " in error.message
    assert _NINE[:6] not in error.message + repr(error.details)
