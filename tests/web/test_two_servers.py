"""Two app servers (gunicorn, two workers each) on one database, as a city runs them behind a
load balancer: a flow that moves between them, an import previewed on one and confirmed on the
other, and a race between two reviewers on different servers. On PostgreSQL in the
PostgreSQL run, on one SQLite file in the SQLite run."""
from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from html import unescape

import pytest
from sqlalchemy import select

from app import create_app
from app.audit.verify import verify_chain
from app.extensions import db
from app.models import AuditEvent, Contribution
from tests.documents.support import add_area, seed_bytes, seed_mapping, use_seed_city_topics
from tests.factories import PASSWORD, build_world, fill_sections
from tests.web.servers import SECRET, database_url, environment, migrate, running_server

__all__ = ["database_url"]  # a fixture


class Browser:
    """One person's browser: cookies shared by both servers (cookies know no ports), and
    every status it ever saw."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            _NoRedirects())
        self.statuses: list[int] = []

    def request(self, url: str, data: bytes | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                status, body = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode()
        self.statuses.append(status)
        return status, body

    def page(self, url: str) -> tuple[str, dict[str, str]]:
        status, body = self.request(url)
        assert status == 200, (url, status)
        return body, {name: unescape(value) for name, value in
                      re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', body)}

    def post(self, url: str, fields: dict) -> tuple[int, str]:
        return self.request(url, urllib.parse.urlencode(fields).encode())

    def post_file(self, url: str, fields: dict, name: str, content: bytes) -> tuple[int, str]:
        boundary = uuid.uuid4().hex
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                 f"{value}\r\n".encode() for key, value in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{name}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
                     + content + f"\r\n--{boundary}--\r\n".encode())
        return self.request(url, b"".join(parts),
                            {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_in(self, base: str, key: str) -> None:
        _page, inputs = self.page(f"{base}/login")
        status, _body = self.post(f"{base}/login", {"csrf_token": inputs["csrf_token"],
                                                    "email": f"{key}@example.se",
                                                    "password": PASSWORD})
        assert status == 302, status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, as the tests' client sees it


@pytest.fixture(scope="module")
def servers(database_url, tmp_path_factory):
    env = environment(database_url, LAGESBILD_SECRET_KEY=SECRET, LAGESBILD_HTTPS="0")
    migrate(env)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET})
    with app.app_context():
        world = build_world()
        fill_sections(world, "Norr")
        use_seed_city_topics()
        ids = {"contribution": world.contribution("Norr").id,
               "section": world.sections("Norr")[0].id, "jarva": add_area("Järva")}
        db.session.remove()
    folder = tmp_path_factory.mktemp("two-servers")
    with running_server(env, folder) as one, running_server(env, folder) as two:
        yield one, two, ids, app
    with app.app_context():
        db.engine.dispose()


def test_a_flow_moves_between_the_servers_and_a_race_has_one_winner(servers):
    one, two, ids, app = servers
    contribution = f"/contributions/{ids['contribution']}"
    drafter = Browser()
    drafter.log_in(one, "drafter")
    # Signed in on one; edits and submits on the other.
    _page, form = drafter.page(f"{two}/sections/{ids['section']}/edit")
    status, _body = drafter.post(f"{two}/sections/{ids['section']}/edit", {
        "csrf_token": form["csrf_token"], "expected_version": form["expected_version"],
        "text": "Skrivet på den andra servern."})
    assert status == 302
    _page, form = drafter.page(f"{one}{contribution}")
    status, _body = drafter.post(f"{one}{contribution}/transition/submit", {
        "csrf_token": form["csrf_token"], "expected_version": form["expected_version"]})
    assert status == 302

    # Two reviewers, one on each server, approve at the same moment.
    reviewers = {"reviewer": (Browser(), one), "reviewer2": (Browser(), two)}
    forms = {}
    for key, (browser, base) in reviewers.items():
        browser.log_in(base, key)
        forms[key] = browser.page(f"{base}{contribution}")[1]
    start, results = threading.Barrier(2), {}

    def approve(key):
        browser, base = reviewers[key]
        start.wait()
        results[key] = browser.post(f"{base}{contribution}/transition/approve", {
            "csrf_token": forms[key]["csrf_token"],
            "expected_version": forms[key]["expected_version"]})[0]

    threads = [threading.Thread(target=approve, args=(key,)) for key in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results.values()) == [302, 409], results

    with app.app_context():
        assert db.session.get(Contribution, ids["contribution"]).state == "reviewed"
        approvals = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "contribution.approve")).all()
        assert len(approvals) == 1
        assert verify_chain().ok
        db.session.remove()
    seen = drafter.statuses + [s for browser, _ in reviewers.values() for s in browser.statuses]
    assert max(seen) < 500


def test_an_import_previewed_on_one_server_is_confirmed_on_the_other(servers):
    one, two, ids, app = servers
    coordinator = Browser()
    coordinator.log_in(one, "consolidator")
    _page, form = coordinator.page(f"{one}/documents/import")
    status, preview = coordinator.post_file(f"{one}/documents/import", {
        "csrf_token": form["csrf_token"], "area_id": ids["jarva"], "period": "december 2022"},
        "seed.txt", seed_bytes())
    assert status == 200 and "Kontrollera fördelningen" in preview
    source = re.search(r'name="source_sha256" value="([0-9a-f]{64})"', preview).group(1)
    fields = {"csrf_token": form["csrf_token"], "source_sha256": source,
              "area_id": ids["jarva"], "period": "december 2022", "filename": "seed.txt"}
    fields.update({f"block-{block}": target for block, target in seed_mapping().items()})

    status, _body = coordinator.post(f"{two}/documents/import/confirm", fields)

    assert status == 302
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "document.import")).one()
        assert verify_chain().ok
        db.session.remove()
    assert max(coordinator.statuses) < 500
