"""The auditors' pages speak the users' language: actions by their labels, objects by name,
one revision number, and the raw codes for an auditor who asks (the toggle) and in the
export."""
from __future__ import annotations

import re

from app.extensions import db
from app.models import TopicScope
from tests.audit.test_provenance_changes import approve
from tests.factories import advance

CODE = '<code class="audit-code">'


def html_of(web, path: str) -> str:
    response = web.client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def use_english(web) -> None:
    web.client.post("/language", data={"lang": "en", "next": "/",
                                       "csrf_token": web.csrf_token("/")})


def returned(world):
    advance(world, "Norr", "returned")
    return world.contribution("Norr")


def test_the_log_shows_labels_and_names_not_codes(web, world):
    contribution = returned(world)
    section = world.sections("Norr")[0]
    web.log_in_as("auditor")
    html = html_of(web, f"/audit/?contribution={contribution.id}")
    assert "Bidraget återsänt för ändringar" in html and "Text ändrad" in html
    assert f"Avsnitt: {section.topic.heading} (januari 2030 — Norr)" in html
    assert f"section {section.id}" not in html and CODE not in html
    assert "Historik för bidraget januari 2030 — Norr" in html
    # The action filter: labels to read, codes as the values sent.
    assert '<option value="contribution.return">Bidraget återsänt för ändringar</option>' in html
    assert f'<a href="/audit/?contribution={contribution.id}&amp;codes=1">Visa koderna</a>' \
        in html


def test_the_codes_toggle_shows_the_raw_codes_and_keeps_them_on_every_link(web, world):
    contribution = returned(world)
    section = world.sections("Norr")[0]
    web.log_in_as("auditor")
    html = html_of(web, f"/audit/?contribution={contribution.id}&codes=1")
    assert "Bidraget återsänt för ändringar " + CODE + "contribution.return</code>" in html
    assert f"{CODE}section {section.id}</code>" in html
    assert f"{CODE}police_review → returned</code>" in html
    assert ">Bidraget återsänt för ändringar (contribution.return)</option>" in html
    assert '<input type="hidden" name="codes" value="1">' in html  # filtering keeps them
    assert ">Dölj koderna</a>" in html
    hide = re.search(r'<a href="([^"]*)">Dölj koderna</a>', html).group(1)
    assert "codes" not in hide


def test_the_log_in_english(web, world):
    contribution = returned(world)
    section = world.sections("Norr")[0]
    web.log_in_as("auditor")
    use_english(web)
    html = html_of(web, f"/audit/?contribution={contribution.id}")
    assert "Contribution returned for changes" in html
    assert f"Section: {section.topic.heading} (januari 2030 — Norr)" in html
    assert ">Show the codes</a>" in html


def test_a_refused_attempt_names_what_was_attempted(web, other_web, world):
    advance(world, "Norr", "police_review")
    contribution = world.contribution("Norr")
    other_web.log_in_as("drafter_south")
    assert other_web.client.get(f"/contributions/{contribution.id}").status_code == 403
    web.log_in_as("auditor")
    html = html_of(web, "/audit/?action=security.permission_denied")
    assert "Nekad: saknar behörighet" in html
    assert "Bidrag: januari 2030 — Norr" in html
    assert "Försökte:" in html


def test_the_history_of_a_contribution_speaks_labels_and_has_the_toggle(web, world):
    contribution = returned(world)
    web.log_in_as("auditor")
    html = html_of(web, f"/audit/contributions/{contribution.id}")
    assert "Bidraget skickat till polisen" in html and CODE not in html
    assert "Bidrag: januari 2030 — Norr" in html
    coded = html_of(web, f"/audit/contributions/{contribution.id}?codes=1")
    assert CODE + "contribution.submit</code>" in coded
    assert f'href="/audit/contributions/{contribution.id}">Dölj koderna</a>' in coded


def test_as_of_names_the_last_event_by_its_label(web, world):
    contribution = returned(world)
    web.log_in_as("auditor")
    html = html_of(web, f"/audit/contributions/{contribution.id}/as-of?at=2100-01-01T00:00")
    assert "Senaste händelsen dittills: nr" in html
    assert "Bidraget återsänt för ändringar." in html


def test_provenance_says_approved_once_and_shows_one_version_number(web, world):
    approve(world)
    web.log_in_as("auditor")
    path = f"/audit/contributions/{world.contribution().id}/provenance"
    html = html_of(web, path)
    assert "Fastställd." not in html  # was "Fastställd. [Fastställd]"
    assert html.count('<span class="state state-approved">Fastställd</span>') == 1
    assert "Texterna nedan är de fastställda versionerna." in html
    assert "avsnittets version" not in html  # the revision's number is the one shown
    coded = html_of(web, path + "?codes=1")
    assert CODE + "section.version=" in coded  # the recorded section version, for auditors


def test_the_export_keeps_the_raw_codes(web, world):
    returned(world)
    web.log_in_as("auditor")
    csv_text = web.client.get("/audit/export.csv", buffered=True).data.decode("utf-8-sig")
    assert ";contribution.return;contribution;" in csv_text
    assert "återsänt" not in csv_text


def test_times_on_the_audit_pages_are_in_the_one_format(web, world):
    contribution = returned(world)
    web.log_in_as("auditor")
    for path in ("/audit/", f"/audit/contributions/{contribution.id}",
                 f"/audit/contributions/{contribution.id}/provenance"):
        shown = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', html_of(web, path))
        assert shown, path
        assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text) for text in shown), \
            (path, shown)


def test_the_consolidation_page_heading_does_not_claim_a_state(web, world):
    web.log_in_as("consolidator")
    html = html_of(web, f"/periods/{world.period_id}/consolidation")
    assert "<h1>Sammanställningen för januari 2030</h1>" in html
    assert "Sammanställd lägesbild" not in html.split("<main", 1)[1]
    assert 'data-consolidation-state="open">Öppen</span>' in html


def test_topics_are_called_topics_in_english_on_every_page(web, world):
    advance(world, "Norr", "reviewed")
    db.session.rollback()
    web.log_in_as("consolidator")
    use_english(web)
    contribution = world.contribution("Norr")
    for path in (f"/contributions/{contribution.id}", f"/periods/{world.period_id}/consolidation"):
        html = html_of(web, path)
        assert "City-wide topics" in html and "priority area" not in html, path
    assert any(s.topic.scope == TopicScope.LOCAL for s in world.sections("Norr"))


def _queries_of(web, path: str) -> int:
    from sqlalchemy import event as sa_event

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        html_of(web, path)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_history_pages_cost_the_same_however_long_the_history(web, world):
    """Names, headings, revisions and diffs are read in bulk: ten more edits, in every
    section, add no query to the auditor's history nor to the contribution's history tab."""
    from app.contributions import operations as contributions
    from tests.factories import run

    contribution = returned(world)
    web.log_in_as("auditor")
    paths = (f"/audit/contributions/{contribution.id}", f"/audit/?contribution={contribution.id}",
             f"/contributions/{contribution.id}/history")
    before = [_queries_of(web, path) for path in paths]
    for round_number in range(10):
        for section in world.sections("Norr"):
            run(world, "drafter", contributions.edit_section, section.id,
                f"Omgång {round_number}.", section.version)
    after = [_queries_of(web, path) for path in paths]
    assert after == before
