"""Group mappings: the audited operations, their rules (those of the memberships), the command
line and the administrators' page."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.extensions import db
from app.identity import operations as identity
from app.models import AuditEvent, GroupMapping
from tests.factories import SETUP
from tests.web_support import input_values

NORR_OFFICE = "Norra stadsdelsförvaltningen"
NORR_POLICE = "Polisen – lokalpolisområde Norr"


def _add(actor=SETUP, **fields):
    values = {"group": "g-1", "role": "drafter", "organisation_name": NORR_OFFICE,
              "area_name": "Norr", **fields}
    with operation(actor):
        return identity.add_mapping(actor, **values)


def _count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(GroupMapping))


def _events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_adding_and_removing_a_mapping_is_audited(world):
    mapping_id = _add().id
    [created] = _events("group_mapping.create")
    assert json.loads(created.data) == {"group": "g-1", "role": "drafter",
                                        "organisation": NORR_OFFICE, "area": "Norr"}
    assert created.object_id == str(mapping_id)

    with operation(SETUP):
        identity.remove_mapping(SETUP, mapping_id)

    assert _count() == 0
    [deleted] = _events("group_mapping.delete")
    assert json.loads(deleted.data)["group"] == "g-1"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"group": "  "}, "group", "Give the group as the identity provider names it."),
    ({"group": "x" * 257}, "group", "The group must be at most 256 characters"),
    ({"group": "g\x01"}, "group", "without control characters"),
    ({"role": "king"}, "role", "Unknown role 'king'."),
    ({"role": "reviewer"}, "role",
     "A user of Norra stadsdelsförvaltningen cannot hold the role 'reviewer'."),
    ({"role": "admin", "area_name": None}, "role",
     "A user of Norra stadsdelsförvaltningen cannot hold the role 'admin'."),
    ({"area_name": None}, "area", "The role 'drafter' needs an area."),
    ({"role": "auditor"}, "area", "The role 'auditor' is city-wide; do not give an area."),
    ({"area_name": "Söder"}, "area",
     "Norra stadsdelsförvaltningen does not serve the area 'Söder'."),
    ({"area_name": "Atlantis"}, "area", "Unknown area 'Atlantis'."),
    ({"organisation_name": "Nobody"}, "organisation", "Unknown organisation 'Nobody'."),
])
def test_a_mapping_the_rules_refuse_changes_nothing(world, fields, field, message):
    with pytest.raises(InvalidInput) as refused:
        _add(**fields)
    assert message in refused.value.message
    assert refused.value.details["field"] == field
    assert _count() == 0
    assert _events("group_mapping.create") == []


def test_the_same_mapping_twice_is_refused(world):
    _add()
    with pytest.raises(InvalidInput, match="already gives this role there"):
        _add()
    _add(role="auditor", area_name=None)  # another role for the same group is fine
    assert _count() == 2


def test_only_an_administrator_maps_groups(world):
    with pytest.raises(NotAllowed):
        _add(actor=world.user("consolidator"))
    assert _count() == 0
    [denied] = _events("security.permission_denied")
    assert json.loads(denied.data)["attempted"] == "group_mapping.create"


def test_removing_a_mapping_that_is_not_there(world):
    from app.core.errors import NotFound

    with pytest.raises(NotFound), operation(SETUP):
        identity.remove_mapping(SETUP, 999)


# -- the command line -----------------------------------------------------------------------

def test_groups_map_list_and_unmap_on_the_command_line(runner, world):
    mapped = runner.invoke(args=["groups", "map", "--group", "g-police", "--role", "reviewer",
                                 "--organisation", NORR_POLICE, "--area", "Norr"])
    assert mapped.exit_code == 0, mapped.output
    assert "Mapped g-police to reviewer in Norr" in mapped.output

    listed = runner.invoke(args=["groups", "list"])
    [line] = listed.output.splitlines()
    mapping_id, *rest = line.split("\t")
    assert rest == ["g-police", "reviewer", NORR_POLICE, "Norr"]

    removed = runner.invoke(args=["groups", "unmap", mapping_id])
    assert removed.exit_code == 0, removed.output
    assert _count() == 0
    [event] = _events("group_mapping.delete")
    assert event.actor_name.startswith("command line (")


def test_the_command_line_refuses_with_the_message(runner, world):
    result = runner.invoke(args=["groups", "map", "--group", "g", "--role", "consolidator",
                                 "--organisation", NORR_OFFICE])
    assert result.exit_code == 1
    assert "cannot hold the role 'consolidator'" in result.output
    missing = runner.invoke(args=["groups", "unmap", "12345"])
    assert missing.exit_code == 1 and "There is no group mapping 12345." in missing.output
    assert _count() == 0


# -- the page -------------------------------------------------------------------------------

def test_the_page_is_for_administrators_only(web, world, audit_events):
    web.log_in_as("consolidator")
    assert web.client.get("/admin/groups").status_code == 403
    token = web.csrf_token("/")
    response = web.client.post("/admin/groups", data={
        "csrf_token": token, "group": "g", "role": "auditor",
        "organisation": "Stadsledningskontoret", "area": ""})
    assert response.status_code == 403
    assert _count() == 0
    attempted = [json.loads(e.data)["attempted"]
                 for e in audit_events("security.permission_denied")]
    assert attempted == ["group_mapping.view", "group_mapping.create"]


def test_the_menu_shows_the_page_to_administrators(web, world):
    web.log_in_as("admin")
    assert 'href="/admin/groups">Gruppkopplingar</a>' in web.client.get("/").get_data(
        as_text=True)


def test_an_administrator_adds_and_removes_a_mapping_in_the_browser(web, world):
    web.log_in_as("admin")
    page = web.client.get("/admin/groups")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<h1 class="identity-title">Gruppkopplingar</h1>' in html
    assert "Det finns inga gruppkopplingar än." in html

    response = web.client.post("/admin/groups", data={
        "csrf_token": web.csrf_token("/admin/groups"), "group": "g-police-norr",
        "role": "reviewer", "organisation": NORR_POLICE, "area": "Norr"})

    assert response.status_code == 302
    html = web.client.get("/admin/groups").get_data(as_text=True)
    assert "Medlemmar i gruppen g-police-norr får rollen vid sin nästa inloggning." in html
    assert "<code>g-police-norr</code>" in html and "Granskare" in html
    [mapping_id] = [m.id for m in identity.list_mappings()]
    response = web.client.post(f"/admin/groups/{mapping_id}/remove",
                               data={"csrf_token": web.csrf_token("/admin/groups")})
    assert response.status_code == 302
    assert _count() == 0
    assert len(_events("group_mapping.delete")) == 1
    gone = web.client.post(f"/admin/groups/{mapping_id}/remove",
                           data={"csrf_token": web.csrf_token("/admin/groups")})
    assert gone.status_code == 404


def test_the_form_keeps_what_was_typed_and_shows_the_error_by_the_field(web, world):
    web.log_in_as("admin")
    response = web.client.post("/admin/groups", data={
        "csrf_token": web.csrf_token("/admin/groups"), "group": "g-kept",
        "role": "reviewer", "organisation": NORR_OFFICE, "area": "Norr"})

    assert response.status_code == 303 and response.headers["Location"] == "/admin/groups"
    html = web.client.get("/admin/groups").get_data(as_text=True)
    assert input_values(html)["group"] == ["g-kept"]
    assert ('<p class="identity-field-error" id="role-error">En användare från '
            'Norra stadsdelsförvaltningen kan inte ha rollen') in html
    assert 'aria-describedby="role-error" aria-invalid="true"' in html
    assert '<option value="reviewer" selected>' in html
    assert f'<option value="{NORR_OFFICE}" selected>' in html
    assert '<option value="Norr" selected>' in html
    assert _count() == 0
    again = web.client.get("/admin/groups").get_data(as_text=True)  # a reload: nothing stale
    assert 'aria-invalid="true"' not in again and "g-kept" not in again


@pytest.mark.parametrize("data", [
    {"group": "\u0000"}, {"role": ""}, {"organisation": ""}, {"area": "x" * 5000},
    {},
])
def test_hostile_form_values_are_a_message_not_a_500(web, world, data):
    web.log_in_as("admin")
    form = {"csrf_token": web.csrf_token("/admin/groups"), "group": "g", "role": "auditor",
            "organisation": "Stadsledningskontoret", "area": "", **data}
    if not data:
        form = {"csrf_token": form["csrf_token"]}
    response = web.client.post("/admin/groups", data=form)
    # A NUL is refused before the page (app.web.input_guard); the rest go back to it.
    assert response.status_code == (400 if data == {"group": "\u0000"} else 303)
    assert _count() == 0


# -- the list: searchable and paged ----------------------------------------------------------

def _add_many(count: int) -> None:
    with operation(SETUP):
        for number in range(count):
            identity.add_mapping(SETUP, group=f"g-{number:02d}", role="drafter",
                                 organisation_name=NORR_OFFICE, area_name="Norr")
        identity.add_mapping(SETUP, group="g-police_100%", role="reviewer",
                             organisation_name=NORR_POLICE, area_name="Norr")
        identity.add_mapping(SETUP, group="g-audit", role="auditor",
                             organisation_name="Stadsledningskontoret")


def _groups(html: str) -> list[str]:
    import re

    return re.findall(r'<th scope="row"><code>([^<]+)</code></th>', html)


def test_search_finds_mappings_by_group_organisation_or_area_any_case(world):
    _add_many(3)
    assert [m.provider_group for m in identity.search_mappings("G-0")[0]] == [
        "g-00", "g-01", "g-02"]
    assert [m.provider_group for m in identity.search_mappings("polisen")[0]] == [
        "g-police_100%"]
    assert identity.search_mappings("stadsledning")[1] == 1
    assert identity.search_mappings("norr")[1] == 4  # the area, and the organisations' names
    # LIKE's wildcards are taken literally.
    assert [m.provider_group for m in identity.search_mappings("_100%")[0]] == [
        "g-police_100%"]
    assert identity.search_mappings("%")[1] == 1
    assert identity.search_mappings("nothing like it") == ([], 0)


def test_the_page_is_paged_25_at_a_time_and_keeps_the_search(web, world):
    _add_many(30)  # 32 mappings
    web.log_in_as("admin")

    first = web.client.get("/admin/groups").get_data(as_text=True)
    second = web.client.get("/admin/groups?page=2").get_data(as_text=True)

    assert "Kopplingar: 32." in first and "sida 1 av 2" in first
    assert len(_groups(first)) == 25 and len(_groups(second)) == 7
    assert set(_groups(first)).isdisjoint(_groups(second))
    assert 'href="/admin/groups?page=2"' in first and 'href="/admin/groups?page=1"' in second
    found = web.client.get("/admin/groups?q=g-2").get_data(as_text=True)
    assert _groups(found) == [f"g-{n}" for n in range(20, 30)]
    assert "Kopplingar som matchar ”g-2”: 10." in found
    assert '<input id="q" name="q" type="search" value="g-2">' in found
    none = web.client.get("/admin/groups?q=zzz").get_data(as_text=True)
    assert "Kopplingar som matchar ”zzz”: 0." in none and _groups(none) == []


@pytest.mark.parametrize("page", ["0", "-1", "x", "9" * 30])
def test_a_bad_page_number_is_a_message_not_a_500(web, world, page):
    web.log_in_as("admin")
    assert web.client.get(f"/admin/groups?page={page}").status_code == 400
