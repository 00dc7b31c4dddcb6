"""The administrator's pages for topics and periods (/admin/topics, /admin/periods): admins
only; every change through app.admin.structure; every refused form back with what was typed,
the message next to its field (aria-invalid, aria-describedby) and nothing changed."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.extensions import db
from app.models import AuditEvent, Period, Section, Topic
from tests.documents.support import approve_period
from tests.factories import SETUP
from tests.web_support import input_values

FORM = {"name": "februari 2030", "drafting_deadline": "2030-02-10",
        "review_deadline": "2030-02-17", "consolidation_deadline": "2030-02-24",
        "approval_deadline": "2030-02-28"}
PAGES = ["/admin/topics", "/admin/periods", "/admin/periods/new"]


def topic_named(title: str) -> Topic:
    db.session.rollback()
    return db.session.scalar(select(Topic).where(Topic.title == title))


def hidden_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields (CSRF token, the version shown) of the page's form posting to
    `action`."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S)
    assert form, f"no form posts to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                           form.group(1)))


def post(web, path: str, data: dict, page: str | None = None):
    """Submit the form for `path` as the page (`page`, else `path` itself) rendered it; a
    request the page has no form for (a crafted one) gets the page's CSRF token only."""
    html = web.client.get(page or path).get_data(as_text=True)
    if f'action="{path}"' in html:
        fields = hidden_fields(html, path)
    else:
        fields = {"csrf_token": input_values(html)["csrf_token"][0]}
    return web.client.post(path, data={**fields, **data})


def snapshot() -> dict:
    db.session.rollback()
    return {"topics": [(t.id, t.title, t.position, t.active) for t in
                       db.session.scalars(select(Topic).order_by(Topic.id))],
            "periods": [(p.id, p.name, p.drafting_deadline, p.review_deadline,
                         p.consolidation_deadline, p.approval_deadline)
                        for p in db.session.scalars(select(Period).order_by(Period.id))],
            "sections": db.session.scalar(select(func.count()).select_from(Section)),
            "events": [e.action for e in db.session.scalars(
                select(AuditEvent).where(~AuditEvent.action.startswith("security."),
                                         ~AuditEvent.action.startswith("auth.")))]}


def field_error(html: str, name: str) -> str:
    """The message shown next to field `name`, checking the input points at it."""
    match = re.search(rf'<span class="adm-field-message" id="field-{name}-error">([^<]*)</span>',
                      html)
    assert match, f"no error next to {name}"
    tag = re.search(rf'<input[^>]*id="field-{name}"[^>]*>', html, re.S).group()
    assert 'aria-invalid="true"' in tag and f"field-{name}-error" in tag
    return match.group(1)


def refused_form(web, path: str, data: dict, page: str | None = None, status: int = 400) -> str:
    before = snapshot()
    response = post(web, path, data, page)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert snapshot() == before
    return response.get_data(as_text=True)


# -- who may ---------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["drafter", "reviewer", "consolidator", "approver", "auditor"])
def test_only_admins_reach_the_pages(web, world, audit_events, key):
    topic = topic_named("Ordningsvakter")
    web.log_in_as(key)
    paths = PAGES + [f"/admin/topics/{topic.id}/rename", f"/admin/topics/{topic.id}/retire",
                     f"/admin/periods/{world.period_id}/deadlines"]
    for path in paths:
        assert web.client.get(path).status_code == 403, path
    token = web.csrf_token("/")
    response = web.client.post(f"/admin/topics/{topic.id}/retire", data={"csrf_token": token})
    assert response.status_code == 403
    assert topic_named("Ordningsvakter").active
    denied = audit_events("security.permission_denied")
    assert len(denied) == len(paths) + 1


def test_anonymous_is_sent_to_login(client, world):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_menu_shows_the_pages_to_admins_only(web, world):
    web.log_in_as("admin")
    assert 'href="/admin/topics"' in web.client.get("/").get_data(as_text=True)
    web.log_out()
    web.log_in_as("consolidator")
    assert 'href="/admin/topics"' not in web.client.get("/").get_data(as_text=True)


# -- topics ----------------------------------------------------------------------------------

def test_the_topics_page_lists_city_and_local_topics_with_their_actions(web, world):
    web.log_in_as("admin")
    html = web.client.get("/admin/topics").get_data(as_text=True)
    assert "3. Ordningsvakter" in html and "Trygghet i norr" in html
    norr = html[html.index('id="topic-' + str(topic_named("Trygghet i norr").id) + '"'):]
    assert "Flytta upp" not in norr[:norr.index("</tr>")]  # alone in its area: nowhere to go
    with operation(SETUP):
        admin.create_topic(SETUP, "Skolan", area_name="Norr")
    html = web.client.get("/admin/topics").get_data(as_text=True)
    skolan = topic_named("Skolan")
    row = html[html.index(f'id="topic-{skolan.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Flytta upp" in row and "Flytta ner" not in row


def test_a_city_wide_topic_is_moved_from_the_page(web, world, audit_events):
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    html = web.client.get("/admin/topics").get_data(as_text=True)
    row = html[html.index(f'id="topic-{topic.id}"'):]
    row = row[:row.index("</tr>")]
    assert "Flytta upp" in row and "Flytta ner" not in row  # the last city-wide topic

    response = post(web, f"/admin/topics/{topic.id}/move", {"direction": "up"},
                    page="/admin/topics")

    assert response.status_code == 302
    assert topic_named("Ordningsvakter").number == 2
    assert len(audit_events("topic.reorder")) == 1
    html = web.client.get("/admin/topics").get_data(as_text=True)
    assert "2. Ordningsvakter" in html


def test_rename_from_the_page(web, world, audit_events):
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    page = web.client.get(f"/admin/topics/{topic.id}/rename").get_data(as_text=True)
    assert input_values(page)["title"] == ["Ordningsvakter"]
    response = post(web, f"/admin/topics/{topic.id}/rename", {"title": "Väktare"})
    assert response.status_code == 302
    assert topic_named("Väktare").id == topic.id
    assert len(audit_events("topic.rename")) == 1
    html = web.client.get("/admin/topics").get_data(as_text=True)
    assert "”3. Ordningsvakter” heter nu ”3. Väktare”." in html


@pytest.mark.parametrize(("title", "message"), [
    ("", "Ange det prioriterade områdets rubrik."),
    ("Otillåten påverkan", "Det finns redan ett prioriterat område som heter ”Otillåten påverkan” "
                           "där."),
    ("Ordningsvakter", "Det prioriterade området heter redan ”Ordningsvakter”."),
    ("Vakter 19121212-1212", "I det prioriterade områdets rubrik finns något som ser ut som "
                             "ett personnummer (tecken 8). Ta bort det: sådana nummer får inte "
                             "sparas."),
    ("x" * 301, "Högst 300 tecken är tillåtna i det prioriterade områdets rubrik."),
])
def test_a_refused_rename_keeps_the_typed_title_by_its_field(web, world, title, message):
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    html = refused_form(web, f"/admin/topics/{topic.id}/rename", {"title": title})
    assert field_error(html, "title") == message
    assert input_values(html)["title"] == [title]
    assert "19121212" not in field_error(html, "title")


def test_rename_warns_that_approved_lagesbilder_follow_the_title(web, world):
    approve_period(world)
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    html = web.client.get(f"/admin/topics/{topic.id}/rename").get_data(as_text=True)
    assert "Fastställda lägesbilder som har det här prioriterade området: 2." in html


def test_move_a_local_topic_from_the_page(web, world, audit_events):
    with operation(SETUP):
        admin.create_topic(SETUP, "Skolan", area_name="Norr")
    skolan = topic_named("Skolan")
    web.log_in_as("admin")
    response = post(web, f"/admin/topics/{skolan.id}/move", {"direction": "up"}, "/admin/topics")
    assert response.status_code == 302
    html = web.client.get("/admin/topics").get_data(as_text=True)
    assert html.index("Skolan") < html.index("Trygghet i norr")
    assert len(audit_events("topic.reorder")) == 1


@pytest.mark.parametrize(("title", "direction", "message"), [
    ("Trygghet i norr", "up", "”Trygghet i norr” står redan först."),
    ("Trygghet i norr", "diagonally", "Flytta ett prioriterat område uppåt (”up”) eller nedåt "
                                      "(”down”)."),
    ("Ordningsvakter", "down", "”Ordningsvakter” står redan sist."),
])
def test_a_refused_move_says_why_on_the_topics_page(web, world, title, direction, message):
    topic = topic_named(title)
    web.log_in_as("admin")
    html = refused_form(web, f"/admin/topics/{topic.id}/move",
                        {"direction": direction, "expected_version": topic.version},
                        "/admin/topics")
    assert message in html and 'role="alert"' in html
    # The language switch goes to the topics page, not to the move's address (POST only).
    assert 'name="next" value="/admin/topics"' in html


def test_retire_asks_first_and_says_what_stays(web, world, audit_events):
    topic = topic_named("Otillåten påverkan")
    web.log_in_as("admin")
    html = web.client.get(f"/admin/topics/{topic.id}/retire").get_data(as_text=True)
    assert "Perioder som öppnas härefter får inget avsnitt" in html
    assert "Bidrag som inte är fastställda än och som har det här prioriterade området: 2." \
        in html
    assert "<td>Norr</td>" in html and "<td>januari 2030</td>" in html
    assert topic_named("Otillåten påverkan").active  # asking changes nothing
    response = post(web, f"/admin/topics/{topic.id}/retire", {})
    assert response.status_code == 302
    assert not topic_named("Otillåten påverkan").active
    html = web.client.get("/admin/topics").get_data(as_text=True)
    assert "Bidrag som inte är fastställda än och som behåller avsnittet: 2." in html
    assert "Borttaget ur bruk" in html
    assert len(audit_events("topic.retire")) == 1


def test_retiring_twice_is_refused_and_reinstating_works(web, world, audit_events):
    topic = topic_named("Otillåten påverkan")
    web.log_in_as("admin")
    confirmation = web.client.get(f"/admin/topics/{topic.id}/retire").get_data(as_text=True)
    fields = hidden_fields(confirmation, f"/admin/topics/{topic.id}/retire")
    assert web.client.post(f"/admin/topics/{topic.id}/retire", data=fields).status_code == 302
    html = web.client.get(f"/admin/topics/{topic.id}/retire").get_data(as_text=True)
    assert "redan borttaget ur bruk" in html and "Ta det prioriterade området ur bruk" not in html
    # The same confirmation sent again (a second tab): the topic changed since it was shown.
    before = snapshot()
    response = web.client.post(f"/admin/topics/{topic.id}/retire", data=fields)
    assert response.status_code == 409 and snapshot() == before
    assert "Någon har ändrat det prioriterade området medan du arbetade" in \
        response.get_data(as_text=True)
    listing = web.client.get("/admin/topics").get_data(as_text=True)
    fields = hidden_fields(listing, f"/admin/topics/{topic.id}/reinstate")
    response = web.client.post(f"/admin/topics/{topic.id}/reinstate", data=fields)
    assert response.status_code == 302 and topic_named("Otillåten påverkan").active
    before = snapshot()
    response = web.client.post(f"/admin/topics/{topic.id}/reinstate", data=fields)
    assert response.status_code == 409 and snapshot() == before
    assert len(audit_events("topic.reinstate")) == 1


def test_an_unknown_topic_is_404(web, world):
    web.log_in_as("admin")
    assert web.client.get("/admin/topics/999999/rename").status_code == 404
    assert web.client.get("/admin/topics/999999/retire").status_code == 404


# -- periods ---------------------------------------------------------------------------------

def test_open_a_period_with_carry_forward_from_the_page(web, world, audit_events):
    approve_period(world)
    web.log_in_as("admin")
    page = web.client.get("/admin/periods/new").get_data(as_text=True)
    assert 'type="date"' in page and 'name="carry_forward"' in page
    response = post(web, "/admin/periods/new", {**FORM, "carry_forward": "1"})
    assert response.status_code == 302
    db.session.rollback()
    period = db.session.scalar(select(Period).where(Period.name == "februari 2030"))
    assert period.review_deadline == date(2030, 2, 17)
    assert all(s.text for c in period.contributions for s in c.sections)
    assert len(audit_events("period.create")) == 2  # the world's, and this one
    assert len(audit_events("contribution.carry_forward")) == 2
    html = web.client.get("/admin/periods").get_data(as_text=True)
    assert "februari 2030 är öppnad, med ett utkast till bidrag för varje område (2)." in html
    assert "Senast fastställda texter överförda: 8 avsnitt ifyllda i Norr, Söder." in html


def test_open_without_carry_forward_leaves_the_drafts_empty(web, world):
    web.log_in_as("admin")
    assert post(web, "/admin/periods/new", FORM).status_code == 302
    db.session.rollback()
    period = db.session.scalar(select(Period).where(Period.name == "februari 2030"))
    assert not any(s.text for c in period.contributions for s in c.sections)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"review_deadline": "2030-02-05"}, "review_deadline",
     "Fel ordning: sista dag för granskningen (2030-02-05) kommer före sista dag för "
     "skrivandet (2030-02-10)."),
    ({"approval_deadline": "2030-02-20"}, "approval_deadline",
     "Fel ordning: sista dag för fastställelsen (2030-02-20) kommer före sista dag för "
     "sammanställningen (2030-02-24)."),
    ({"drafting_deadline": ""}, "drafting_deadline", "Ange ett datum (ÅÅÅÅ-MM-DD)."),
    ({"review_deadline": "2030-02-30"}, "review_deadline", "”2030-02-30” är inte ett datum"),
    ({"consolidation_deadline": "1999-12-31"}, "consolidation_deadline", "utanför"),
    ({"name": ""}, "name", "Ange periodens namn."),
    ({"name": "x" * 101}, "name", "Högst 100 tecken är tillåtna i periodens namn."),
])
def test_a_refused_period_keeps_what_was_typed_and_marks_the_field(web, world, changes, field,
                                                                   message):
    web.log_in_as("admin")
    data = {**FORM, **changes, "carry_forward": "1"}
    html = refused_form(web, "/admin/periods/new", data)
    assert message in field_error(html, field)
    values = input_values(html)
    for name in FORM:
        assert values[name] == [data[name]], name
    assert re.search(r'<input type="checkbox"[^>]*name="carry_forward"[^>]*checked', html)
    assert "Inget sparades." in html


def test_a_duplicate_period_name_is_refused_above_the_form(web, world):
    web.log_in_as("admin")
    html = refused_form(web, "/admin/periods/new", {**FORM, "name": "januari 2030"})
    assert "Det finns redan en period som heter ”januari 2030”." in html
    assert input_values(html)["name"] == ["januari 2030"]


def test_the_periods_list_is_paged_newest_first(web, world):
    with operation(SETUP):
        for number in range(1, 22):
            admin.create_period(SETUP, f"period {number:02d}", drafting_deadline=date(2031, 1, 1),
                                review_deadline=date(2031, 1, 2),
                                consolidation_deadline=date(2031, 1, 3),
                                approval_deadline=date(2031, 1, 4))
    web.log_in_as("admin")
    first = web.client.get("/admin/periods").get_data(as_text=True)
    assert "22 perioder, den senaste först" in first and "Sida 1 av 2" in first
    assert first.index("period 21") < first.index("period 20")
    assert "period 02" in first and "period 01" not in first and "januari 2030" not in first
    assert 'href="/admin/periods?page=2"' in first
    second = web.client.get("/admin/periods?page=2").get_data(as_text=True)
    assert "period 01" in second and "januari 2030" in second and "period 02" not in second
    for bad in ("3", "0", "x", "99999999999"):
        assert web.client.get(f"/admin/periods?page={bad}").status_code == 400, bad


def test_move_deadlines_from_the_page(web, world, audit_events):
    web.log_in_as("admin")
    path = f"/admin/periods/{world.period_id}/deadlines"
    page = web.client.get(path).get_data(as_text=True)
    assert input_values(page)["review_deadline"] == ["2030-01-17"]
    response = post(web, path, {"drafting_deadline": "2030-01-12",
                                "review_deadline": "2030-01-19",
                                "consolidation_deadline": "2030-01-26",
                                "approval_deadline": "2030-02-02"})
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(Period, world.period_id).approval_deadline == date(2030, 2, 2)
    assert len(audit_events("period.move_deadlines")) == 1


def test_refused_deadlines_keep_what_was_typed(web, world):
    web.log_in_as("admin")
    path = f"/admin/periods/{world.period_id}/deadlines"
    data = {"drafting_deadline": "2030-01-20", "review_deadline": "2030-01-19",
            "consolidation_deadline": "2030-01-26", "approval_deadline": "2030-02-02"}
    html = refused_form(web, path, data)
    assert "kommer före sista dag för skrivandet (2030-01-20)" in field_error(
        html, "review_deadline")
    assert input_values(html)["drafting_deadline"] == ["2030-01-20"]
    same = {"drafting_deadline": "2030-01-10", "review_deadline": "2030-01-17",
            "consolidation_deadline": "2030-01-24", "approval_deadline": "2030-01-31"}
    html = refused_form(web, path, same)
    assert "Sista datumen är desamma som förut: inget att ändra." in html


def test_an_approved_period_shows_its_deadlines_closed(web, world):
    approve_period(world)
    web.log_in_as("admin")
    path = f"/admin/periods/{world.period_id}/deadlines"
    html = web.client.get(path).get_data(as_text=True)
    assert "dess sista datum kan inte längre flyttas" in html and 'type="date"' not in html
    assert "Fastställd: stängd" in web.client.get("/admin/periods").get_data(as_text=True)
    html = refused_form(web, path, {"drafting_deadline": "2030-01-12",
                                    "review_deadline": "2030-01-19",
                                    "consolidation_deadline": "2030-01-26",
                                    "approval_deadline": "2030-02-02",
                                    "expected_version": world.period().version},
                        page="/admin/periods", status=409)
    assert "Lägesbilden för januari 2030 är fastställd" in html


def test_an_unknown_period_is_404(web, world):
    web.log_in_as("admin")
    assert web.client.get("/admin/periods/999999/deadlines").status_code == 404


def test_the_pages_in_english(web, world):
    web.log_in_as("admin")
    token = web.csrf_token("/")
    web.client.post("/language", data={"lang": "en", "csrf_token": token, "next": "/"})
    html = refused_form(web, "/admin/periods/new", {**FORM, "review_deadline": "2030-02-05"})
    assert "The review deadline (2030-02-05) is before the drafting deadline (2030-02-10)." in \
        field_error(html, "review_deadline")
    assert "Topics" in web.client.get("/admin/topics").get_data(as_text=True)


def test_a_rename_against_an_older_page_is_refused_with_the_typed_title_kept(web, world):
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    path = f"/admin/topics/{topic.id}/rename"
    first_tab = hidden_fields(web.client.get(path).get_data(as_text=True), path)
    assert post(web, path, {"title": "Väktare"}).status_code == 302
    before = snapshot()
    response = web.client.post(path, data={**first_tab, "title": "Ordningsvakter i city"})
    assert response.status_code == 409 and snapshot() == before
    html = response.get_data(as_text=True)
    assert "Någon har ändrat det prioriterade området medan du arbetade" in html
    assert input_values(html)["title"] == ["Ordningsvakter i city"]
    # The page now carries the current version: sending it again renames.
    assert hidden_fields(html, path)["expected_version"] == str(topic_named("Väktare").version)
    resent = web.client.post(path, data={**hidden_fields(html, path),
                                         "title": "Ordningsvakter i city"})
    assert resent.status_code == 302


def test_deadlines_against_an_older_page_are_refused(web, world):
    web.log_in_as("admin")
    path = f"/admin/periods/{world.period_id}/deadlines"
    first_tab = hidden_fields(web.client.get(path).get_data(as_text=True), path)
    moved = {"drafting_deadline": "2030-01-12", "review_deadline": "2030-01-19",
             "consolidation_deadline": "2030-01-26", "approval_deadline": "2030-02-02"}
    assert post(web, path, moved).status_code == 302
    before = snapshot()
    response = web.client.post(path, data={**first_tab, **moved,
                                           "approval_deadline": "2030-02-03"})
    assert response.status_code == 409 and snapshot() == before
    html = response.get_data(as_text=True)
    assert "Någon har ändrat perioden medan du arbetade" in html
    assert input_values(html)["approval_deadline"] == ["2030-02-03"]


@pytest.mark.parametrize("version", ["", "x", "-1", "99999999999"])
def test_a_form_without_a_sound_version_is_refused(web, world, version):
    topic = topic_named("Ordningsvakter")
    web.log_in_as("admin")
    path = f"/admin/topics/{topic.id}/rename"
    html = refused_form(web, path, {"title": "Väktare", "expected_version": version})
    assert "Formuläret saknar den version du såg. Ladda om sidan och försök igen." in html
