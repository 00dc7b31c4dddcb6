"""The administrators' command line: every change audited as "command line (<account>)",
every refusal a non-zero exit with a clear message and no change."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit.verify import verify_chain
from app.extensions import db
from app.models import Area, AuditEvent, Membership, Organisation, Period, Topic, User

CITY = "Stadsledningskontoret"
OFFICE = "Norra stadsdelsförvaltningen"
POLICE = "Polisen – lokalpolisområde Norr"
PASSWORD = "ett långt lösenord"
DEADLINES = ["--drafting-deadline", "2030-01-10", "--review-deadline", "2030-01-17",
             "--consolidation-deadline", "2030-01-24", "--approval-deadline", "2030-01-31"]


def invoke(runner, *args: str, input: str | None = None, expect: int = 0):
    result = runner.invoke(args=list(args), input=input)
    assert result.exit_code == expect, result.output
    db.session.rollback()  # see what the command committed
    return result


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def snapshot() -> dict[str, int]:
    return {model.__name__: count(model)
            for model in (User, Membership, Organisation, Area, Topic, Period, AuditEvent)}


def events() -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def create_user(runner, email="admin@example.se", name="Ada Admin", organisation=CITY,
                role="admin", area=None, password=PASSWORD, expect=0):
    args = ["users", "create", "--email", email, "--name", name, "--organisation",
            organisation, "--role", role, "--password-stdin"]
    if area:
        args += ["--area", area]
    return invoke(runner, *args, input=f"{password}\n", expect=expect)


@pytest.fixture
def structure(runner):
    """The city office, one area with its office and police, via the command line."""
    invoke(runner, "organisations", "add", CITY, "--kind", "city_office")
    invoke(runner, "organisations", "add", OFFICE, "--kind", "district_office")
    invoke(runner, "organisations", "add", POLICE, "--kind", "police")
    invoke(runner, "areas", "add", "Norr", "--organisation", OFFICE, "--organisation", POLICE)


# -- users -------------------------------------------------------------------------------

def test_users_create_reads_the_password_from_stdin_and_list_shows_the_user(runner, structure):
    result = create_user(runner, email="Ada@Example.se")

    assert result.output == "Created user ada@example.se (admin).\n"
    assert PASSWORD not in result.output
    user = db.session.scalar(select(User).where(User.email == "ada@example.se"))
    assert user.check_password(PASSWORD)
    listing = invoke(runner, "users", "list").output
    assert listing == f"ada@example.se\tAda Admin\t{CITY}\tadmin\n"


def test_users_create_with_an_area_and_grant(runner, structure):
    create_user(runner, email="skribent@example.se", name="Sara Skribent", organisation=OFFICE,
                role="drafter", area="Norr")
    create_user(runner, email="revisor@example.se", name="Rut Revisor", role="auditor")

    granted = invoke(runner, "users", "grant", "--email", "Revisor@example.se",
                     "--role", "approver")

    assert granted.output == "Granted approver to Revisor@example.se.\n"
    assert invoke(runner, "users", "list").output.splitlines() == [
        f"revisor@example.se\tRut Revisor\t{CITY}\tauditor, approver",
        f"skribent@example.se\tSara Skribent\t{OFFICE}\tdrafter@Norr",
    ]


def test_users_create_needs_password_stdin(runner, structure):
    before = snapshot()

    result = runner.invoke(args=["users", "create", "--email", "a@example.se", "--name", "A",
                                 "--organisation", CITY, "--role", "admin"],
                           input=f"{PASSWORD}\n")

    assert result.exit_code == 2
    assert "Missing option '--password-stdin'" in result.output
    assert snapshot() == before


@pytest.mark.parametrize("change, message", [
    (dict(organisation="Okänd förvaltning"),
     "Error: Unknown organisation 'Okänd förvaltning'. Known: Norra stadsdelsförvaltningen, "
     "Polisen – lokalpolisområde Norr, Stadsledningskontoret."),
    (dict(email="taken@example.se"), "Error: A user with e-mail taken@example.se already exists."),
    (dict(email="TAKEN@example.se"), "Error: A user with e-mail taken@example.se already exists."),
    (dict(password="kort"), "Error: The password must be at least 10 characters."),
    (dict(password=""), "Error: The password must be at least 10 characters."),
    (dict(role="boss"), "Error: Unknown role 'boss'. Known: drafter, reviewer, consolidator, "
                        "approver, auditor, admin."),
    (dict(role="drafter", organisation=OFFICE),
     "Error: The role 'drafter' needs an area."),
    (dict(role="drafter", organisation=OFFICE, area="Söder"),
     "Error: Unknown area 'Söder'. Known: Norr."),
    (dict(role="reviewer", organisation=OFFICE, area="Norr"),
     f"Error: A user of {OFFICE} cannot hold the role 'reviewer'."),
    (dict(role="admin", area="Norr"),
     "Error: The role 'admin' is city-wide; do not give an area."),
    (dict(email="not-an-address"), "Error: 'not-an-address' is not an e-mail address."),
    (dict(name="   "), "Error: The name must not be empty."),
])
def test_users_create_refusals_change_nothing(runner, structure, change, message):
    create_user(runner, email="taken@example.se", role="auditor")
    before = snapshot()

    result = create_user(runner, **{"email": "new@example.se", **change}, expect=1)

    assert result.output.strip() == message
    assert "Traceback" not in result.output
    assert snapshot() == before  # no user, no membership, no audit event


def test_users_grant_refusals(runner, structure):
    create_user(runner)
    before = snapshot()

    unknown = invoke(runner, "users", "grant", "--email", "nobody@example.se", "--role",
                     "auditor", expect=1)
    twice = invoke(runner, "users", "grant", "--email", "admin@example.se", "--role", "admin",
                   expect=1)

    assert unknown.output == "Error: There is no user with e-mail nobody@example.se.\n"
    assert twice.output == "Error: admin@example.se already has the role 'admin' there.\n"
    assert snapshot() == before


def test_users_deactivate_and_reactivate(runner, structure):
    create_user(runner)
    create_user(runner, email="leaver@example.se", name="Lea Leaver", role="auditor")

    gone = invoke(runner, "users", "deactivate", "--email", "Leaver@example.se")
    again = invoke(runner, "users", "deactivate", "--email", "leaver@example.se", expect=1)
    listed = invoke(runner, "users", "list")
    back = invoke(runner, "users", "reactivate", "--email", "leaver@example.se")
    unknown = invoke(runner, "users", "deactivate", "--email", "nobody@example.se", expect=1)

    assert gone.output == "Deactivated Leaver@example.se; their sessions have ended.\n"
    assert again.output == "Error: leaver@example.se is already deactivated.\n"
    assert "leaver@example.se\tLea Leaver" in listed.output and "[deactivated]" in listed.output
    assert back.output == "Reactivated leaver@example.se.\n"
    assert unknown.output == "Error: There is no user with e-mail nobody@example.se.\n"
    assert [e.action for e in events()][-2:] == ["user.deactivate", "user.reactivate"]


# -- organisations, areas, topics, periods -----------------------------------------------

def test_organisations_add_and_list(runner, structure):
    assert invoke(runner, "organisations", "list").output.splitlines() == [
        f"{OFFICE}\tdistrict_office",
        f"{POLICE}\tpolice",
        f"{CITY}\tcity_office",
    ]


def test_organisations_add_refusals(runner, structure):
    before = snapshot()

    duplicate = invoke(runner, "organisations", "add", CITY, "--kind", "city_office", expect=1)
    blank = invoke(runner, "organisations", "add", "  ", "--kind", "police", expect=1)
    bad_kind = invoke(runner, "organisations", "add", "X", "--kind", "ministry", expect=2)

    assert duplicate.output == f"Error: An organisation named '{CITY}' already exists.\n"
    assert blank.output == "Error: The organisation name must not be empty.\n"
    assert "Invalid value for '--kind'" in bad_kind.output
    assert snapshot() == before


def test_areas_add_and_list(runner, structure):
    result = invoke(runner, "areas", "add", "Söder")

    assert result.output == "Added area Söder.\n"
    assert invoke(runner, "areas", "list").output.splitlines() == [
        f"Norr\t{OFFICE}, {POLICE}",
        "Söder\t",
    ]


def test_areas_add_refusals(runner, structure):
    before = snapshot()

    unknown = invoke(runner, "areas", "add", "Söder", "--organisation", "Okänd", expect=1)
    duplicate = invoke(runner, "areas", "add", "Norr", expect=1)

    assert unknown.output.startswith("Error: Unknown organisation 'Okänd'.")
    assert duplicate.output == "Error: An area named 'Norr' already exists.\n"
    assert snapshot() == before


def test_topics_add_and_list(runner, structure):
    assert invoke(runner, "topics", "add", "Ordningsvakter", "--number", "9").output == \
        "Added topic 9. Ordningsvakter.\n"
    invoke(runner, "topics", "add", "Unga i risk för kriminalitet", "--number", "2")
    assert invoke(runner, "topics", "add", "Trygghet i centrum", "--area", "Norr").output == \
        "Added topic Trygghet i centrum.\n"

    assert invoke(runner, "topics", "list").output.splitlines() == [
        "city-wide\t2. Unga i risk för kriminalitet",
        "city-wide\t9. Ordningsvakter",
        "Norr\tTrygghet i centrum",
    ]


@pytest.mark.parametrize("args, message", [
    (["Ny"], "Error: Give either a number (city-wide topic) or an area (local topic)."),
    (["Ny", "--number", "1", "--area", "Norr"],
     "Error: Give either a number (city-wide topic) or an area (local topic)."),
    (["Ny", "--number", "1"], "Error: There is already a city-wide topic number 1."),
    (["Ny", "--number", "0"], "Error: A city-wide topic's number must be 1 or more."),
    (["Ny", "--area", "Söder"], "Error: Unknown area 'Söder'. Known: Norr."),
])
def test_topics_add_refusals(runner, structure, args, message):
    invoke(runner, "topics", "add", "Kameraövervakning", "--number", "1")
    before = snapshot()

    result = invoke(runner, "topics", "add", *args, expect=1)

    assert result.output.strip() == message
    assert snapshot() == before


def test_periods_add_and_list(runner, structure):
    invoke(runner, "topics", "add", "Ordningsvakter", "--number", "1")
    invoke(runner, "areas", "add", "Söder")

    result = invoke(runner, "periods", "add", "januari 2030", *DEADLINES)

    assert result.output == "Opened period januari 2030 with 2 contributions.\n"
    assert invoke(runner, "periods", "list").output == (
        "januari 2030\topen\tdeadlines 2030-01-10 / 2030-01-17 / 2030-01-24 / 2030-01-31\n")


def test_periods_add_refusals(runner, structure):
    invoke(runner, "periods", "add", "januari 2030", *DEADLINES)
    before = snapshot()

    duplicate = invoke(runner, "periods", "add", "januari 2030", *DEADLINES, expect=1)
    disorder = invoke(runner, "periods", "add", "februari 2030",
                      *DEADLINES[:2], "--review-deadline", "2030-01-05", *DEADLINES[4:],
                      expect=1)
    not_a_date = invoke(runner, "periods", "add", "mars 2030", "--drafting-deadline",
                        "2030-13-01", *DEADLINES[2:], expect=2)

    assert duplicate.output == "Error: A period named 'januari 2030' already exists.\n"
    assert disorder.output == ("Error: The review deadline (2030-01-05) is before the "
                               "drafting deadline (2030-01-10). The deadlines must be in "
                               "order: drafting, review, consolidation, approval.\n")
    assert "'2030-13-01' is not a date (YYYY-MM-DD)" in not_a_date.output
    assert snapshot() == before


# -- the audit trail of the command line -------------------------------------------------

def test_every_change_is_an_audit_event_by_the_command_line(runner, structure):
    create_user(runner, email="skribent@example.se", name="Sara Skribent", organisation=OFFICE,
                role="drafter", area="Norr")
    invoke(runner, "users", "grant", "--email", "skribent@example.se", "--role", "auditor")
    invoke(runner, "topics", "add", "Ordningsvakter", "--number", "1")
    invoke(runner, "topics", "add", "Trygghet i centrum", "--area", "Norr")
    invoke(runner, "periods", "add", "januari 2030", *DEADLINES)

    trail = events()

    assert [e.action for e in trail] == [
        "organisation.create", "organisation.create", "organisation.create", "area.create",
        "user.create", "membership.create", "membership.create", "topic.create",
        "topic.create", "period.create"]
    for event in trail:
        assert event.actor_name.startswith("command line ("), event.actor_name
        assert event.actor_id is None
        assert event.actor_organisation == "system"
        assert event.client_address == "command line"
    assert json.loads(trail[3].data) == {"name": "Norr", "organisations": [OFFICE, POLICE]}
    assert json.loads(trail[6].data) == {"role": "auditor", "area": None,
                                         "before": {"roles": ["drafter@Norr"]},
                                         "after": {"roles": ["auditor", "drafter@Norr"]}}
    assert all(PASSWORD not in e.data for e in trail)
    assert verify_chain().ok


def test_listing_changes_nothing(runner, structure):
    create_user(runner)
    before = snapshot()

    for group in ("users", "organisations", "areas", "topics", "periods"):
        invoke(runner, group, "list")

    assert snapshot() == before


def test_audit_verify_reports_the_chain(runner, structure):
    result = invoke(runner, "audit", "verify")

    assert result.output.startswith("OK: 4 events, head hash ")
    assert verify_chain().head_hash in result.output


def test_audit_verify_on_an_empty_database(runner):
    assert invoke(runner, "audit", "verify").output.startswith("OK: 0 events")
