"""Command line for administrators: flask --app app users|organisations|areas|topics|periods."""
from __future__ import annotations

import sys
from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from app.admin import operations as admin
from app.core.command_line import run_as_command_line
from app.core.errors import DomainError
from app.extensions import db


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)", param_hint=name) \
            from error


users_cli = AppGroup("users", help="Manage user accounts.")
organisations_cli = AppGroup("organisations", help="Manage organisations.")
areas_cli = AppGroup("areas", help="Manage areas.")
topics_cli = AppGroup("topics", help="Manage topics.")
periods_cli = AppGroup("periods", help="Manage periods.")


def _user_by_email(email: str):
    from app.models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise DomainError(f"There is no user with e-mail {email}.")
    return user


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--organisation", required=True, help="The organisation's name.")
@click.option("--role", required=True, help="drafter, reviewer, consolidator, approver, "
                                            "auditor or admin.")
@click.option("--area", default=None, help="The area, for drafters and reviewers.")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
def users_create(email, name, organisation, role, area, password_stdin):
    """Create a user with one role."""
    password = sys.stdin.readline().rstrip("\r\n")

    def change(actor):
        user = admin.create_user(actor, email=email, name=name, organisation_name=organisation,
                                 password=password)
        admin.grant_role(actor, user, role, area)
        return user

    user = run_as_command_line(change)
    click.echo(f"Created user {user.email} ({role}{' – ' + area if area else ''}).")


@users_cli.command("grant")
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--area", default=None)
def users_grant(email, role, area):
    """Give an existing user one more role."""
    def change(actor):
        return admin.grant_role(actor, _user_by_email(email), role, area)

    run_as_command_line(change)
    click.echo(f"Granted {role}{' – ' + area if area else ''} to {email}.")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def users_deactivate(email):
    """Deactivate a user who left: every session ends now and sign-in is refused."""
    run_as_command_line(lambda actor: admin.set_user_active(actor, _user_by_email(email), False))
    click.echo(f"Deactivated {email}; their sessions have ended.")


@users_cli.command("reactivate")
@click.option("--email", required=True)
def users_reactivate(email):
    """Let a deactivated user sign in again."""
    run_as_command_line(lambda actor: admin.set_user_active(actor, _user_by_email(email), True))
    click.echo(f"Reactivated {email}.")


@users_cli.command("list")
def users_list():
    """List users with their organisation and roles."""
    from app.models import User

    for user in db.session.scalars(select(User).order_by(User.email)):
        roles = ", ".join(f"{m.role}{'@' + m.area.name if m.area else ''}"
                          for m in user.memberships)
        state = "" if user.active else " [deactivated]"
        click.echo(f"{user.email}\t{user.name}\t{user.organisation.name}\t{roles}{state}")


@organisations_cli.command("add")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(["district_office", "police",
                                                          "city_office"]))
def organisations_add(name, kind):
    """Add an organisation."""
    run_as_command_line(lambda actor: admin.create_organisation(actor, name, kind))
    click.echo(f"Added organisation {name} ({kind}).")


@organisations_cli.command("list")
def organisations_list():
    from app.models import Organisation

    for organisation in db.session.scalars(select(Organisation).order_by(Organisation.name)):
        click.echo(f"{organisation.name}\t{organisation.kind}")


@areas_cli.command("add")
@click.argument("name")
@click.option("--organisation", "organisations", multiple=True,
              help="An organisation serving the area (repeatable).")
def areas_add(name, organisations):
    """Add an area."""
    run_as_command_line(lambda actor: admin.create_area(actor, name, list(organisations)))
    click.echo(f"Added area {name}.")


@areas_cli.command("list")
def areas_list():
    from app.models import Area

    for area in db.session.scalars(select(Area).order_by(Area.name)):
        click.echo(f"{area.name}\t" + ", ".join(o.name for o in area.organisations))


@topics_cli.command("add")
@click.argument("title")
@click.option("--number", type=int, default=None, help="For a city-wide topic.")
@click.option("--area", default=None, help="For a local topic of this area.")
def topics_add(title, number, area):
    """Add a city-wide topic (--number) or a local topic (--area)."""
    topic = run_as_command_line(
        lambda actor: admin.create_topic(actor, title, number=number, area_name=area))
    click.echo(f"Added topic {topic.heading}.")


@topics_cli.command("list")
def topics_list():
    from app.models import Topic

    topics = sorted(db.session.scalars(select(Topic)), key=lambda t: t.sort_key)
    for topic in topics:
        where = topic.area.name if topic.area else "city-wide"
        click.echo(f"{where}\t{topic.heading}")


@periods_cli.command("add")
@click.argument("name")
@click.option("--drafting-deadline", required=True)
@click.option("--review-deadline", required=True)
@click.option("--consolidation-deadline", required=True)
@click.option("--approval-deadline", required=True)
def periods_add(name, drafting_deadline, review_deadline, consolidation_deadline,
                approval_deadline):
    """Open a period: a contribution for every area."""
    deadlines = {
        "drafting_deadline": _date(drafting_deadline, "--drafting-deadline"),
        "review_deadline": _date(review_deadline, "--review-deadline"),
        "consolidation_deadline": _date(consolidation_deadline, "--consolidation-deadline"),
        "approval_deadline": _date(approval_deadline, "--approval-deadline"),
    }
    period = run_as_command_line(lambda actor: admin.create_period(actor, name, **deadlines))
    click.echo(f"Opened period {period.name} with {len(period.contributions)} contributions.")


@periods_cli.command("list")
def periods_list():
    from app.models import Period

    for period in db.session.scalars(select(Period).order_by(Period.id)):
        state = period.consolidation.state if period.consolidation else "-"
        click.echo(f"{period.name}\t{state}\tdeadlines {period.drafting_deadline} / "
                   f"{period.review_deadline} / {period.consolidation_deadline} / "
                   f"{period.approval_deadline}")


# -- topics and periods: rename, reorder, retire, reinstate; open, move deadlines -----------
# (app.admin.structure, the same operations as the pages at /admin/topics and /admin/periods)

def _deadline_options(command):
    for name in reversed(("drafting", "review", "consolidation", "approval")):
        command = click.option(f"--{name}-deadline", required=True,
                               metavar="YYYY-MM-DD")(command)
    return command


def _deadlines(**values: str) -> dict[str, date]:
    return {f"{name}_deadline": _date(values[name], f"--{name}-deadline")
            for name in ("drafting", "review", "consolidation", "approval")}


@topics_cli.command("rename")
@click.argument("title")
@click.option("--to", "new_title", required=True, help="The new title.")
@click.option("--area", default=None, help="The area, for a local topic.")
def topics_rename(title, new_title, area):
    """Rename a topic (city-wide, or --area's local topic)."""
    from app.admin import structure

    topic = run_as_command_line(lambda actor: structure.rename_topic(
        actor, structure.find_topic(title, area).id, new_title))
    click.echo(f"Renamed '{title}' to '{topic.title}'.")


@topics_cli.command("reorder")
@click.argument("title")
@click.option("--area", default=None,
              help="The area whose local topic it is (none: a city-wide topic).")
@click.option("--up", "direction", flag_value="up", help="One place up.")
@click.option("--down", "direction", flag_value="down", help="One place down.")
def topics_reorder(title, area, direction):
    """Move a topic one place up or down: an area's local topic, or a city-wide one (which
    swaps numbers with its neighbour)."""
    from app.admin import structure

    if direction is None:
        raise click.UsageError("Give --up or --down.")
    run_as_command_line(lambda actor: structure.move_topic(
        actor, structure.find_topic(title, area).id, direction))
    if area is None:
        click.echo("City-wide topics: " + "; ".join(t.heading
                                                    for t in structure.city_topics()))
        return
    order = [t.title for t in structure.area_topics(admin.find_area(area).id)]
    click.echo(f"Local topics of {area}: " + "; ".join(order))


@topics_cli.command("retire")
@click.argument("title")
@click.option("--area", default=None, help="The area, for a local topic.")
def topics_retire(title, area):
    """Retire a topic: periods opened from now on leave it out; every contribution that
    has its section keeps it."""
    from app.admin import structure

    kept = run_as_command_line(lambda actor: structure.retire_topic(
        actor, structure.find_topic(title, area).id))
    click.echo(f"Retired '{title}': periods opened from now on leave it out.")
    for section in kept:
        written = "written" if section.written else "not written yet"
        click.echo(f"  The section stays in {section.area}, {section.period} "
                   f"({section.state}, {written}).")


@topics_cli.command("reinstate")
@click.argument("title")
@click.option("--area", default=None, help="The area, for a local topic.")
def topics_reinstate(title, area):
    """Bring a retired topic back into the periods opened from now on."""
    from app.admin import structure

    run_as_command_line(lambda actor: structure.reinstate_topic(
        actor, structure.find_topic(title, area).id))
    click.echo(f"Reinstated '{title}'.")


@periods_cli.command("open")
@click.argument("name")
@_deadline_options
@click.option("--carry-forward", is_flag=True,
              help="Start every area's draft from its last approved texts.")
def periods_open(name, drafting_deadline, review_deadline, consolidation_deadline,
                 approval_deadline, carry_forward):
    """Open a period with its deadlines: a draft for every area (and, with --carry-forward,
    the last approved texts in them)."""
    from app.admin import structure

    deadlines = _deadlines(drafting=drafting_deadline, review=review_deadline,
                           consolidation=consolidation_deadline, approval=approval_deadline)
    opened = run_as_command_line(lambda actor: structure.open_period(
        actor, name, **deadlines, carry_forward=carry_forward))
    click.echo(f"Opened period {opened.period.name} with "
               f"{len(opened.period.contributions)} contributions.")
    if opened.carried is not None:
        for area, count in opened.carried.filled.items():
            click.echo(f"  {area}: {count} texts carried forward.")
        for area, why in opened.carried.skipped.items():
            click.echo(f"  {area}: nothing carried forward ({why}).")


@periods_cli.command("move-deadlines")
@click.argument("name")
@_deadline_options
def periods_move_deadlines(name, drafting_deadline, review_deadline, consolidation_deadline,
                           approval_deadline):
    """Give a period new deadlines (all four, in order)."""
    from app.admin import structure

    deadlines = _deadlines(drafting=drafting_deadline, review=review_deadline,
                           consolidation=consolidation_deadline, approval=approval_deadline)
    period = run_as_command_line(lambda actor: structure.move_deadlines(
        actor, admin.find_period(name).id, **deadlines))
    click.echo(f"Moved the deadlines of {period.name}: {period.drafting_deadline} / "
               f"{period.review_deadline} / {period.consolidation_deadline} / "
               f"{period.approval_deadline}.")


# -- people: revoke, edit, reset links; renaming organisations and areas ------------------------

def _print_handed_over(held) -> None:
    from app.web.tasks import handed_over

    for item in handed_over(held):
        names = ", ".join(holder.name for holder in item.holders)
        click.echo(f"  {item.title}: now with {names}" if names else
                   f"  {item.title}: nobody else can act on it now; grant the role to someone")


@users_cli.command("revoke")
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--area", default=None, help="The area, for drafters and reviewers.")
def users_revoke(email, role, area):
    """Take one role back; says who now holds the work it covered."""
    from app.web.tasks import tasks_for

    try:
        held = tasks_for(_user_by_email(email))
    except DomainError as error:
        raise click.ClickException(error.message) from error
    db.session.rollback()
    run_as_command_line(lambda actor: admin.revoke_role(actor, _user_by_email(email), role,
                                                        area))
    click.echo(f"Revoked {role}{' – ' + area if area else ''} from {email}.")
    still = {(task.kind, task.subject.id) for task in tasks_for(_user_by_email(email))}
    _print_handed_over([task for task in held if (task.kind, task.subject.id) not in still])


@users_cli.command("edit")
@click.option("--email", required=True, help="The user's current e-mail address.")
@click.option("--name", "new_name", default=None, help="The new name.")
@click.option("--new-email", default=None, help="The new e-mail address.")
def users_edit(email, new_name, new_email):
    """Correct a user's name or e-mail address."""
    def change(actor):
        user = _user_by_email(email)
        return admin.edit_user(actor, user, name=user.name if new_name is None else new_name,
                               email=user.email if new_email is None else new_email)

    changes = run_as_command_line(change)
    if not changes:
        click.echo("Nothing changed.")
    for field, (before, after) in sorted(changes.items()):
        click.echo(f"{field}: {before} -> {after}")


@users_cli.command("reset-link")
@click.option("--email", required=True)
def users_reset_link(email):
    """Issue a one-time link with which the user chooses a new password (printed once; an
    earlier link stops working)."""
    from flask import current_app

    token, expires_at = run_as_command_line(
        lambda actor: admin.issue_reset_link(actor, _user_by_email(email)))
    path = f"/password-reset/{token}"
    click.echo(current_app.config["EXTERNAL_URL"].rstrip("/") + path)
    click.echo(f"Works once, until {expires_at:%Y-%m-%d %H:%M} UTC. Give it to {email}.",
               err=True)


@organisations_cli.command("rename")
@click.argument("name")
@click.argument("new_name")
def organisations_rename(name, new_name):
    """Rename an organisation."""
    renamed = run_as_command_line(lambda actor: admin.rename_organisation(
        actor, admin.find_organisation(name), new_name))
    click.echo(f"Renamed {name} to {new_name}." if renamed else "Nothing changed.")


@areas_cli.command("rename")
@click.argument("name")
@click.argument("new_name")
def areas_rename(name, new_name):
    """Rename an area."""
    renamed = run_as_command_line(lambda actor: admin.edit_area(
        actor, admin.find_area(name), name=new_name))
    click.echo(f"Renamed {name} to {new_name}." if renamed else "Nothing changed.")


@areas_cli.command("set-organisations")
@click.argument("name")
@click.option("--organisation", "organisations", multiple=True,
              help="An organisation serving the area (repeatable; the list replaces the old).")
def areas_set_organisations(name, organisations):
    """Set which organisations serve an area."""
    changed = run_as_command_line(lambda actor: admin.edit_area(
        actor, admin.find_area(name), organisation_names=list(organisations)))
    click.echo(f"{name}: served by {', '.join(organisations) or 'nobody'}." if changed
               else "Nothing changed.")


def register_cli(app: Flask) -> None:
    for group in (users_cli, organisations_cli, areas_cli, topics_cli, periods_cli):
        app.cli.add_command(group)
