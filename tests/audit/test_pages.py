"""The auditors' pages (/audit/...): who sees them, in Swedish and English, bad input, every
read and export logged, and auditors refused on every state-changing route of the app."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.audit.trail import canonical_json
from app.contributions import operations as contributions
from app.extensions import db
from app.models import AuditEvent
from tests.audit.support import guards_off, row, update_event
from tests.factories import advance, run
from workflows import CONSOLIDATION_WORKFLOW, CONTRIBUTION_WORKFLOW

TOOL = Path(__file__).resolve().parents[2] / "tools" / "verify_export.py"


@pytest.fixture
def returned(world):
    """Norr returned by the police with a remark, then edited again; Söder in review."""
    advance(world, "Norr", "returned")
    section = world.sections()[0]
    run(world, "drafter", contributions.edit_section, section.id, "Ny text om insatserna.",
        section.version)
    advance(world, "Söder", "police_review")
    return world


def pages(world) -> dict[str, str]:
    contribution = world.contribution()
    section = world.sections()[0]
    return {
        "log": "/audit/",
        "history": f"/audit/contributions/{contribution.id}",
        "provenance": f"/audit/contributions/{contribution.id}/provenance",
        "as_of": f"/audit/contributions/{contribution.id}/as-of?at=2100-01-01T00:00",
        "compare": f"/audit/sections/{section.id}/compare?from=1&to=2",
        "verify": "/audit/verify",
    }


def set_language(web, language: str) -> None:
    web.client.post("/language", data={"lang": language, "next": "/",
                                       "csrf_token": web.csrf_token("/")})


SWEDISH = {"log": "Händelselogg", "history": "Historik", "provenance": "Ursprung",
           "as_of": "Vid en viss tidpunkt", "compare": "Jämför versioner",
           "verify": "Kontrollera kedjan"}
ENGLISH = {"log": "Event log", "history": "History", "provenance": "Provenance",
           "as_of": "As of a moment", "compare": "Compare revisions",
           "verify": "Verify the chain"}


def test_every_page_in_swedish_and_english(web, returned):
    web.log_in_as("auditor")
    for name, path in pages(returned).items():
        response = web.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert '<html lang="sv">' in html and f"<h1>{SWEDISH[name]}" in html, name
    set_language(web, "en")
    for name, path in pages(returned).items():
        html = web.client.get(path).get_data(as_text=True)
        assert '<html lang="en">' in html and f"<h1>{ENGLISH[name]}" in html, name


def test_menu_item_for_auditors_only(web, other_web, returned):
    web.log_in_as("auditor")
    assert 'href="/audit/">Händelselogg</a>' in web.client.get("/").get_data(as_text=True)
    for key in ("admin", "drafter", "consolidator"):
        session = type(web)(web.client.application.test_client())
        session.log_in_as(key)
        assert "Händelselogg" not in session.client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("key", ["admin", "drafter", "reviewer", "consolidator", "approver"])
def test_everyone_but_auditors_is_refused(web, returned, key):
    web.log_in_as(key)
    for path in list(pages(returned).values()) + ["/audit/export.csv", "/audit/export.jsonl"]:
        assert web.client.get(path, buffered=True).status_code == 403, path


def test_anonymous_visitors_are_sent_to_log_in(web, returned):
    for path in pages(returned).values():
        response = web.client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith(
            "/login")


def test_who_returned_it_and_why_is_on_the_log(web, returned, audit_events):
    web.log_in_as("auditor")
    html = web.client.get(f"/audit/?contribution={returned.contribution().id}"
                          "&action=contribution.return").get_data(as_text=True)
    assert "contribution.return" in html and "Reviewer" in html
    assert "Komplettera texten." in html  # the remark, shown without opening the data
    assert "Anmärkning:" in html


def test_filters_and_older_newer_links(web, returned):
    web.log_in_as("auditor")
    area = returned.areas["Norr"]
    first = web.client.get(f"/audit/?area={area}").get_data(as_text=True)
    stored = db.session.scalars(select(AuditEvent.seq).where(AuditEvent.area_id == area)
                                .order_by(AuditEvent.seq.desc())).all()
    assert f'<th scope="row" class="audit-seq">{stored[0]}</th>' in first
    if len(stored) > 50:
        assert f"before_seq={stored[49]}" in first
    html = web.client.get(f"/audit/?area={area}&before_seq={stored[1]}").get_data(as_text=True)
    assert f'class="audit-seq">{stored[0]}</th>' not in html
    assert f'class="audit-seq">{stored[2]}</th>' in html
    assert "after_seq=" in html  # a way back to newer events


@pytest.mark.parametrize("path,message", [
    ("/audit/?from=igår", "är inte ett datum"),
    ("/audit/?before_seq=abc", "måste vara ett tal"),
    ("/audit/?period=x", "måste vara ett tal"),
    ("/audit/sections/1/compare?from=1", "Välj två versioner"),
    ("/audit/contributions/1/as-of?at=kl15", "är inte ett datum"),
    ("/audit/export.xml", "Okänt exportformat"),
    ("/audit/?before_seq=%C2%B2", "måste vara ett tal"),
    ("/audit/?after_seq=2147483648", "måste vara ett tal från 1 till 2"),
    ("/audit/?to=9999-12-31", "ligger utanför de datum som systemet hanterar"),
    ("/audit/export.csv?from=0001-01-01", "ligger utanför de datum"),
    ("/audit/sections/1/compare?from=%C2%B2&to=1", "Välj två versioner"),
    ("/audit/contributions/1/as-of?at=9999-12-31T23:59:59", "ligger utanför de datum"),
])
def test_bad_input_gets_a_clear_message(web, returned, path, message):
    web.log_in_as("auditor")
    response = web.client.get(path)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_unknown_objects_are_404(web, returned):
    web.log_in_as("auditor")
    assert web.client.get("/audit/contributions/9999").status_code == 404
    assert web.client.get("/audit/sections/9999/compare?from=1&to=2").status_code == 404
    section = returned.sections()[0]
    assert web.client.get(f"/audit/sections/{section.id}/compare?from=1&to=99"
                          ).status_code == 404


def test_reads_are_logged_as_audit_view(web, returned, audit_events):
    web.log_in_as("auditor")
    auditor_id = returned.users["auditor"]
    for path in pages(returned).values():
        web.client.get(path)
    viewed = audit_events("audit.view")
    assert [json.loads(e.data)["page"] for e in viewed] == [
        "log", "contribution_history", "provenance", "as_of", "compare", "verify"]
    assert all(e.actor_id == auditor_id for e in viewed)
    assert viewed[1].contribution_id == returned.contribution().id


def test_web_export_is_logged_and_reverifies(web, returned, audit_events, tmp_path):
    web.log_in_as("auditor")
    response = web.client.get("/audit/export.jsonl", buffered=True)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="audit-full-to-')
    path = tmp_path / "web.jsonl"
    path.write_bytes(response.data)
    result = subprocess.run([sys.executable, "-I", "-S", str(TOOL), str(path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    exported = audit_events("audit.export")
    assert len(exported) == 1 and exported[0].actor_id == returned.users["auditor"]
    assert json.loads(exported[0].data)["format"] == "jsonl"

    csv_response = web.client.get(f"/audit/export.csv?area={returned.areas['Söder']}",
                                  buffered=True)
    assert csv_response.status_code == 200
    assert csv_response.data.startswith(b"\xef\xbb\xbf")
    assert csv_response.mimetype == "text/csv"
    assert "Södra stadsdelsförvaltningen" in csv_response.data.decode("utf-8-sig")
    assert json.loads(audit_events("audit.export")[1].data)["filter"] == {
        "area_id": returned.areas["Söder"]}


def _verify_now(web, token: str | None = None):
    token = token or web.csrf_token("/audit/verify")
    return web.client.post("/audit/verify", data={"csrf_token": token})


def _verifications() -> list[dict]:
    db.session.rollback()
    return [json.loads(data) for data in db.session.scalars(
        select(AuditEvent.data).where(AuditEvent.action == "audit.verify")
        .order_by(AuditEvent.seq))]


def test_verify_page_shows_the_last_run_and_runs_one_on_request(web, returned):
    from app.audit.verify import verify_chain

    web.log_in_as("auditor")
    html = web.client.get("/audit/verify").get_data(as_text=True)
    assert "Kedjan har ännu inte kontrollerats från gränssnittet." in html
    assert _verifications() == []  # visiting computes nothing

    token = web.csrf_token("/audit/verify")  # (a visit: logged as audit.view)
    db.session.rollback()
    expected = verify_chain()
    response = _verify_now(web, token)
    assert response.status_code == 303 and response.location.endswith("/audit/verify")
    [logged] = _verifications()
    assert logged == {"ok": True, "count": expected.count, "head_seq": expected.head_seq,
                      "head_hash": expected.head_hash, "failed_seq": None, "reason": None,
                      "witness": {"ok": True, "reason": None, "failed_seq": None,
                                  "latest_seq": expected.head_seq}}
    html = web.client.get("/audit/verify").get_data(as_text=True)
    assert "Verifierad: kedjan är obruten." in html
    assert ("Bevittnad: loggen bygger vidare på den senaste signerade kontrollpunkten, "
            f"arkiverad utanför databasen.</strong>\n  Händelse {expected.head_seq}.") in html
    assert f"{expected.count} händelser kontrollerade." in html
    assert expected.head_hash in html
    assert "Revisor" in html  # who ran it


def test_a_failed_run_is_shown_and_the_page_does_not_recompute(web, returned):
    from tests.audit.support import guards_off, update_event

    web.log_in_as("auditor")
    assert _verify_now(web).status_code == 303
    with guards_off() as connection:
        update_event(connection, 5, actor_name="Mallory")
    html = web.client.get("/audit/verify").get_data(as_text=True)
    assert "Verifierad: kedjan är obruten." in html  # the last run's result, as logged
    assert _verify_now(web).status_code == 303
    html = web.client.get("/audit/verify").get_data(as_text=True)
    assert "FEL: kedjan är bruten vid händelse 5." in html
    assert "4 händelser före den kontrollerades utan fel." in html
    assert _verifications()[-1]["failed_seq"] == 5


def test_a_run_against_the_witness_names_a_forged_append(web, returned):
    from datetime import UTC, datetime, timedelta

    from tests.audit.support import EVENTS, forged_values, head, row

    count, newest = head()
    db.session.rollback()
    with db.engine.begin() as connection:  # straight into the table, behind the app's back
        connection.execute(EVENTS.insert().values(**forged_values(
            row(count), seq=count + 1, prev_hash=newest, action="contribution.approve",
            occurred_at=datetime.now(UTC) - timedelta(hours=1))))
    web.log_in_as("auditor")
    assert _verify_now(web).status_code == 303
    html = web.client.get("/audit/verify").get_data(as_text=True)
    assert "Verifierad: kedjan är obruten." in html  # the chain alone cannot tell
    assert f"FEL mot vittnet vid händelse {count + 1}." in html
    assert f"event {count + 1} is covered by no witness line" in html
    assert _verifications()[-1]["witness"]["failed_seq"] == count + 1


@pytest.mark.parametrize("key", ["admin", "drafter", "reviewer"])
def test_only_auditors_may_run_a_verification(web, returned, key):
    web.log_in_as(key)
    token = web.csrf_token("/")
    response = web.client.post("/audit/verify", data={"csrf_token": token})
    assert response.status_code == 403
    assert _verifications() == []
    db.session.rollback()
    refused = db.session.scalar(select(AuditEvent.data).where(
        AuditEvent.action.like("security.%")).order_by(AuditEvent.seq.desc()).limit(1))
    assert "audit.verify" in refused


def test_running_a_verification_needs_the_form_token(web, returned):
    web.log_in_as("auditor")
    assert web.client.post("/audit/verify", data={}).status_code == 400
    assert _verifications() == []


# -- auditors change nothing --------------------------------------------------------------

# Session-only routes: signing in or out and choosing a language change no data.
SESSION_ROUTES = {"web.login_post", "web.logout", "web.set_language"}
# Reads that use POST so that each download is an audit event (documents' DOCX exports):
# auditors read everything, so these may answer 200 - as long as nothing changes. Named one
# by one so that no new state-changing route can slip through.
READS_OVER_POST = {"documents.export_contribution": "document.export",
                   "documents.export_period": "document.export",
                   "audit.run_verification": "audit.verify"}
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _snapshot() -> dict[str, list]:
    """Every row of every table but the audit trail (which records the refusals)."""
    db.session.rollback()
    return {table.name: [tuple(row) for row in db.session.execute(
                select(table).order_by(*table.primary_key.columns)).all()]
            for table in db.metadata.sorted_tables if table.name != "audit_events"}


def _argument_values(world, name: str) -> list:
    contribution, section = world.contribution(), world.sections()[0]
    known = {
        "contribution_id": [contribution.id], "section_id": [section.id],
        "period_id": [world.period_id], "consolidation_id": [world.period().consolidation.id],
        "area_id": [world.areas["Norr"]], "user_id": [world.users["drafter"]],
        "trigger": sorted({t.trigger for w in (CONTRIBUTION_WORKFLOW, CONSOLIDATION_WORKFLOW)
                           for t in w.definition.transitions}),
        "document_format": ["docx", "pdf"],
    }
    return known.get(name, [1])


def _urls(app, world):
    from itertools import product

    for rule in app.url_map.iter_rules():
        methods = rule.methods & STATE_CHANGING
        if not methods or rule.endpoint in SESSION_ROUTES:
            continue
        names = sorted(rule.arguments)
        for values in product(*(_argument_values(world, n) for n in names)):
            with app.test_request_context():
                from flask import url_for
                url = url_for(rule.endpoint, **dict(zip(names, values, strict=False)))
            for method in sorted(methods):
                yield rule.endpoint, method, url


def test_auditors_are_refused_on_every_state_changing_route(web, returned, app):
    web.log_in_as("auditor")
    token = web.csrf_token("/")
    contribution, section = returned.contribution(), returned.sections()[0]
    form = {"csrf_token": token, "text": "Revisorn skriver.", "version": section.version,
            "expected_version": contribution.version, "reason": "Revisorn vill.",
            "remark": "Revisorn anmärker.", "remarks": "Revisorn anmärker.",
            "handled_in_topic_id": "", "confirm": "1"}
    before = _snapshot()
    seq_before = db.session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()))
    tried = []
    for endpoint, method, url in _urls(app, returned):
        response = web.client.open(url, method=method, data=form, buffered=True)
        # 303: a refused form goes back to its page (post/redirect/get); nothing is changed,
        # which the snapshot below checks.
        allowed = (400, 403, 200, 303) if endpoint in READS_OVER_POST else (400, 403, 303)
        assert response.status_code in allowed, (endpoint, method, url,
                                                 response.status_code)
        tried.append(endpoint)
    assert tried
    assert _snapshot() == before  # nothing changed
    db.session.rollback()
    logged = db.session.scalars(select(AuditEvent.action).where(AuditEvent.seq > seq_before)
                                ).all()
    # A made-up reset link is refused and recorded as such, whoever posts it.
    reads = set(READS_OVER_POST.values()) | {"auth.reset_link_refused"}
    assert all(action.startswith("security.") or action in reads for action in logged), \
        set(logged)


def test_an_export_that_fails_is_an_error_before_its_first_byte_and_is_not_recorded(
        web, returned, audit_events, app):
    """The file is built before anything is sent: an event the CSV cannot show (its time
    tampered with behind the application's back) makes the export an error page, not a 200
    cut off half-way, and no audit.export claims an export nobody got."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    target = row(3)
    record = json.loads(target.canonical)
    record["occurred_at"] += "junk"  # still readable by the database, not by the export
    with guards_off() as connection:
        update_event(connection, 3, canonical=canonical_json(record))
    web.log_in_as("auditor")
    response = web.client.get("/audit/export.csv", buffered=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html" and "Content-Disposition" not in response.headers
    assert audit_events("audit.export") == []

    complete = web.client.get("/audit/export.jsonl", buffered=True)  # this one can be built
    assert complete.status_code == 200
    exported = audit_events("audit.export")
    assert len(exported) == 1
    data = json.loads(exported[0].data)
    assert data["sha256"] == hashlib.sha256(complete.data).hexdigest()
    assert data["events"] == complete.data.count(b"\n") == data["up_to_seq"]


def test_asking_about_an_export_without_getting_it_is_not_an_export(web, returned,
                                                                    audit_events):
    web.log_in_as("auditor")
    response = web.client.head("/audit/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert audit_events("audit.export") == []
