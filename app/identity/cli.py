"""flask --app app groups map|unmap|list: which identity-provider group gives which role."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from app.core.command_line import run_as_command_line
from app.identity import operations

groups_cli = AppGroup("groups", help="Map the identity provider's groups to roles.")


@groups_cli.command("map")
@click.option("--group", required=True, help="The group as the provider names it in the "
                                             "groups claim (Entra ID: its object id).")
@click.option("--role", required=True, help="drafter, reviewer, consolidator, approver, "
                                            "auditor or admin.")
@click.option("--organisation", required=True, help="The organisation its members belong to.")
@click.option("--area", default=None, help="The area, for drafters and reviewers.")
def groups_map(group, role, organisation, area):
    """Members of GROUP get ROLE (in AREA) at their next sign-in."""
    mapping = run_as_command_line(lambda actor: operations.add_mapping(
        actor, group=group, role=role, organisation_name=organisation, area_name=area))
    click.echo(f"Mapped {mapping.provider_group} to {mapping.role}"
               f"{' in ' + mapping.area.name if mapping.area else ''} "
               f"({mapping.organisation.name}): mapping {mapping.id}.")


@groups_cli.command("unmap")
@click.argument("mapping_id", type=click.IntRange(1, 2**31 - 1))
def groups_unmap(mapping_id):
    """Remove a mapping (see `groups list`); its memberships go at each user's next sign-in."""
    removed = run_as_command_line(lambda actor: operations.remove_mapping(actor, mapping_id))
    click.echo(f"Removed the mapping of {removed['group']} to {removed['role']}.")


@groups_cli.command("list")
def groups_list():
    """Every mapping: id, group, role, organisation, area."""
    for mapping in operations.list_mappings():
        click.echo("\t".join([str(mapping.id), mapping.provider_group, mapping.role,
                              mapping.organisation.name,
                              mapping.area.name if mapping.area else "-"]))
