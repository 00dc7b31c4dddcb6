"""The people verbs of the command line over the same operations as the pages: users revoke,
edit and reset-link, organisations rename, areas rename and set-organisations. Each change is
an audit event by "command line (<account>)"; each refusal exits 1 with the message and
changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin import operations as admin
from app.extensions import db
from app.models import AuditEvent, PasswordResetLink
from tests.factories import advance, data_of, events_since, head_seq


def invoke(runner, *args: str, expect: int = 0):
    result = runner.invoke(args=list(args))
    assert result.exit_code == expect, result.output
    db.session.rollback()  # see what the command committed
    return result


def only_event(seq: int) -> AuditEvent:
    [event] = events_since(seq)
    assert event.actor_name.startswith("command line (") and event.actor_id is None
    return event


def test_users_revoke_says_who_holds_the_work_now(world, runner):
    advance(world, "Norr", "police_review")
    seq = head_seq()
    result = invoke(runner, "users", "revoke", "--email", "reviewer@example.se",
                    "--role", "reviewer", "--area", "Norr")
    assert "Revoked reviewer – Norr from reviewer@example.se." in result.output
    assert "Lägesbild januari 2030 — Norr: now with Reviewer2" in result.output
    event = only_event(seq)
    assert event.action == "membership.delete"
    assert data_of(event)["after"] == {"roles": []}


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "drafter@example.se", "--role", "reviewer", "--area", "Norr"],
     "does not have the role"),
    (["--email", "admin@example.se", "--role", "admin"], "last active administrator"),
    (["--email", "nobody@example.se", "--role", "drafter"], "no user with e-mail"),
])
def test_users_revoke_refusals(world, runner, args, message):
    seq = head_seq()
    result = invoke(runner, "users", "revoke", *args, expect=1)
    assert message in result.output and events_since(seq) == []


def test_users_edit(world, runner):
    seq = head_seq()
    result = invoke(runner, "users", "edit", "--email", "drafter@example.se",
                    "--name", "Dora Drafter", "--new-email", "dora@example.se")
    assert "email: drafter@example.se -> dora@example.se" in result.output
    assert "name: Drafter -> Dora Drafter" in result.output
    assert only_event(seq).action == "user.edit"
    assert invoke(runner, "users", "edit", "--email", "dora@example.se",
                  "--name", "Dora Drafter").output.strip() == "Nothing changed."
    result = invoke(runner, "users", "edit", "--email", "dora@example.se",
                    "--new-email", "reviewer@example.se", expect=1)
    assert "A user with e-mail reviewer@example.se already exists." in result.output


def test_users_reset_link_prints_a_link_that_works_once(world, runner, app):
    app.config["EXTERNAL_URL"] = "https://lagesbild.example.se"
    seq = head_seq()
    result = invoke(runner, "users", "reset-link", "--email", "drafter@example.se")
    link = result.stdout.strip()
    assert link.startswith("https://lagesbild.example.se/password-reset/")
    token = link.rpartition("/")[2]
    event = only_event(seq)
    assert event.action == "user.reset_link" and token not in event.canonical
    assert db.session.scalar(select(PasswordResetLink.token_hash)) == admin.token_hash(token)
    assert admin.reset_link_user(token).email == "drafter@example.se"


def test_users_reset_link_refuses_a_deactivated_user(world, runner):
    invoke(runner, "users", "deactivate", "--email", "drafter@example.se")
    result = invoke(runner, "users", "reset-link", "--email", "drafter@example.se", expect=1)
    assert "deactivated" in result.output


def test_users_deactivate_refuses_the_last_administrator(world, runner):
    result = invoke(runner, "users", "deactivate", "--email", "admin@example.se", expect=1)
    assert "last active administrator" in result.output


def test_organisations_rename(world, runner):
    seq = head_seq()
    result = invoke(runner, "organisations", "rename", "Norra stadsdelsförvaltningen",
                    "Norrmalms stadsdelsförvaltning")
    assert result.output.strip() == ("Renamed Norra stadsdelsförvaltningen to Norrmalms "
                                     "stadsdelsförvaltning.")
    assert only_event(seq).action == "organisation.rename"
    result = invoke(runner, "organisations", "rename", "Norrmalms stadsdelsförvaltning",
                    "Stadsledningskontoret", expect=1)
    assert "already exists" in result.output
    result = invoke(runner, "organisations", "rename", "Okänd", "Ny", expect=1)
    assert "Unknown organisation 'Okänd'" in result.output


def test_areas_rename_and_set_organisations(world, runner):
    seq = head_seq()
    invoke(runner, "areas", "rename", "Norr", "Norrort")
    assert only_event(seq).action == "area.edit"
    assert invoke(runner, "areas", "rename", "Norrort", "Söder", expect=1).output.count(
        "already exists") == 1
    invoke(runner, "organisations", "add", "Nya polisen", "--kind", "police")
    seq = head_seq()
    result = invoke(runner, "areas", "set-organisations", "Norrort",
                    "--organisation", "Norra stadsdelsförvaltningen",
                    "--organisation", "Polisen – lokalpolisområde Norr",
                    "--organisation", "Nya polisen")
    assert "served by" in result.output
    assert data_of(only_event(seq))["after"]["organisations"][1] == "Nya polisen"
    result = invoke(runner, "areas", "set-organisations", "Norrort",
                    "--organisation", "Nya polisen", expect=1)
    assert "cannot stop serving Norrort" in result.output
