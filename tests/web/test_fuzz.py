"""Hostile input over every route and every field the pages use, as every role: never a 5xx,
and nothing changes but security events (issue 11, item 5).

The routes come from app.url_map, so a new route is fuzzed without touching this file. Which
fields each route reads is found by watching it read them (a request class whose form and
query dictionaries note every key asked for), and the values a real submission carries come
from the forms the pages themselves render, as each role sees them. A form's version is made
stale, so that a submission that gets past every field is refused before it acts: each
request can then be required to change nothing but security events and logged reads.

One world, one pass: path parameters get each payload in turn (the others real ids), and
each field gets each payload with the rest of its form as the page sent it.
"""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
from flask import Request, got_request_exception
from sqlalchemy import func, select
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from app.extensions import db
from app.models import AuditEvent
from tests.factories import PASSWORD, advance, build_world
from tests.web_support import WebSession

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "000_1dce9511288ad7b6.txt"
ROLES = ("drafter", "reviewer", "consolidator", "approver", "auditor", "admin", None)

# (label, the payload as it goes on the wire: percent-encoded)
PAYLOADS: tuple[tuple[str, str], ...] = tuple(
    (label, quote(value, safe="")) for label, value in (
        ("huge id", "99999999999999999999"),
        ("int4 max + 1", "2147483648"),
        ("5000 digits", "9" * 5000),
        ("superscript two", "²"),
        ("arabic-indic twelve", "١٢"),
        ("NUL in an e-mail", "a\x00b@x.se"),
        ("NUL alone", "\x00"),
        ("first day", "0001-01-01"),
        ("last day", "9999-12-31"),
        ("last moment", "9999-12-31T23:59:59"),
        ("long string", "x" * 30_000),
    )
) + (
    ("invalid UTF-8", "%ff%fe"),
)
# Free text (a textarea, a text or password input) takes any digits or date as text: it gets
# what can still break a database or a decoder.
TEXT_PAYLOADS = tuple(p for p in PAYLOADS if p[0] in (
    "NUL in an e-mail", "NUL alone", "long string", "invalid UTF-8"))
# A path parameter is an id or a name from a short list: what a URL rule has to turn away.
PATH_PAYLOADS = tuple(p for p in PAYLOADS if p[0] in (
    "huge id", "int4 max + 1", "superscript two", "arabic-indic twelve",
    "NUL alone", "invalid UTF-8")) + (("long segment", "x" * 2000),)
# Upload contents for a form's file field.
FILE_PAYLOADS = (
    ("NUL bytes", b"\x00" * 64),
    ("invalid UTF-8", b"\xff\xfe\xfd Rubrik\n\n- text\n"),
    ("not a zip", b"PK\x03\x04" + b"\x00garbage" * 50),
)
# What a fuzzed request may add to the trail: refusals and logged reads.
ALLOWED_ACTIONS = ("security.", "auth.login_failed", "auth.login_throttled",
                   "auth.reset_link_refused", "auth.reset_link_throttled",
                   "auth.password_change_throttled", "audit.view", "audit.export",
                   "audit.verify", "document.print", "document.export")
# Tables a refused or read-only request may still write: an import preview keeps its upload
# for the confirmation (app/documents/pending.py).
SCRATCH_TABLES = ("audit_events", "pending_uploads")
# Signing out would end the session the rest of the run uses: fuzzed without a session only.
# Signing in fails for every payload, and each attempt costs a password check (scrypt): once.
ANONYMOUS_ONLY = {"web.logout", "web.login_post"}
UNCHANGING = {"csrf_token"}  # a wrong token is refused before anything else reads the form


# -- watching which fields a route reads ------------------------------------------------------

_reads: list[str] = []


class _Watched(ImmutableMultiDict):
    def get(self, key, default=None, type=None):
        _reads.append(key)
        return super().get(key, default=default, type=type)

    def __getitem__(self, key):
        _reads.append(key)
        return super().__getitem__(key)

    def getlist(self, key, type=None):
        _reads.append(key)
        return super().getlist(key, type=type)

    def __contains__(self, key):
        _reads.append(key)
        return super().__contains__(key)


class WatchedRequest(Request):
    parameter_storage_class = _Watched


# -- the forms the pages render ----------------------------------------------------------------

@dataclass
class Form:
    action: str
    method: str
    multipart: bool
    fields: dict[str, str] = field(default_factory=dict)
    text_fields: set[str] = field(default_factory=set)


class _Forms(HTMLParser):
    """Every form on a page with the values it would submit (first option of a select,
    textareas as filled in, buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self._select: tuple[Form, str] | None = None
        self._textarea: tuple[Form, str] | None = None

    def _form_for(self, attributes) -> Form | None:
        if attributes.get("form"):
            return self.by_id.get(attributes["form"])
        return self.forms[-1] if self.forms else None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            form = Form(attributes.get("action") or "", (attributes.get("method") or "get")
                        .upper(), "multipart" in (attributes.get("enctype") or ""))
            self.forms.append(form)
            if attributes.get("id"):
                self.by_id[attributes["id"]] = form
            return
        form = self._form_for(attributes)
        name = attributes.get("name")
        if form is None or not name:
            return
        if tag == "input" and attributes.get("type") not in ("submit", "file"):
            form.fields.setdefault(name, attributes.get("value") or "")
            if attributes.get("type") in (None, "text", "password", "email", "search"):
                form.text_fields.add(name)
        elif tag == "input":
            form.fields.setdefault(name, "")
        elif tag == "select":
            self._select = (form, name)
        elif tag == "option" and self._select:
            select_form, select_name = self._select
            select_form.fields.setdefault(select_name, attributes.get("value") or "")
        elif tag == "textarea":
            form.fields.setdefault(name, "")
            form.text_fields.add(name)
            self._textarea = (form, name)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            form, name = self._textarea
            form.fields[name] += data


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def stale(fields: dict[str, str]) -> dict[str, str]:
    """The form as sent, but with the version it carries made stale: a submission that gets
    past every field is refused before it acts."""
    return {name: str(int(value) + 1000) if name.endswith("version") and value.isdigit()
            else value for name, value in fields.items()}


# -- one fuzz run -----------------------------------------------------------------------------

@dataclass
class Target:
    """One route to fuzz as one role: a real URL (path values by name) and its base form."""

    endpoint: str
    method: str
    rule: str
    path_values: dict[str, str]
    fields: dict[str, str]
    multipart: bool = False
    text_fields: set[str] = field(default_factory=set)


_PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def path_of(rule: str, values: dict[str, str]) -> str:
    """The rule's path with each parameter's (percent-encoded) value put in."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], rule)


@dataclass
class Finding:
    role: str | None
    method: str
    path: str
    field: str
    payload: str
    status: int
    error: str = ""


class Fuzzer:
    def __init__(self, app, world):
        self.app = app
        self.world = world
        self.sessions: dict[str | None, WebSession] = {}
        self.tokens: dict[str | None, str] = {}
        self.server_errors: list[Finding] = []
        self.requests = 0
        self.adapter = app.url_map.bind("localhost")
        self.last_error = ""
        got_request_exception.connect(self._note_error, app)

    def _note_error(self, sender, exception, **extra):
        self.last_error = f"{type(exception).__name__}: {str(exception).splitlines()[0][:120]}"

    def session(self, role: str | None) -> WebSession:
        if role not in self.sessions:
            web = WebSession(self.app.test_client())
            if role is not None:
                web.log_in(f"{role}@example.se", PASSWORD)
            self.sessions[role] = web
            self.tokens[role] = web.csrf_token("/" if role else "/login")
        return self.sessions[role]

    def send(self, role, method: str, path: str, fields: dict[str, str], *,
             encoded: dict[str, str] | None = None, multipart: bool = False,
             files: dict[str, tuple[bytes, str]] | None = None, what: tuple[str, str]):
        """One request: `fields` as plain values, `encoded` as already percent-encoded."""
        web = self.session(role)
        plain = dict(fields)
        if method != "GET":
            plain["csrf_token"] = self.tokens[role]
        _reads.clear()
        self.last_error = ""
        self.requests += 1
        if multipart:
            # A multipart part carries text as it is (invalid UTF-8 arrives replaced).
            data: dict = {**plain, **{k: unquote(v, errors="replace")
                                      for k, v in (encoded or {}).items()}}
            for name, (content, filename) in (files or {}).items():
                data[name] = (io.BytesIO(content), filename)
            response = web.client.open(path, method=method, data=data, buffered=True,
                                       content_type="multipart/form-data")
        else:
            wire = "&".join(filter(None, (urlencode(plain), "&".join(
                f"{quote(k, safe='')}={v}" for k, v in (encoded or {}).items()))))
            if method == "GET":
                response = web.client.open(path, method=method, query_string=wire,
                                           buffered=True)
            else:
                response = web.client.open(path, method=method, data=wire.encode("ascii"),
                                           content_type="application/x-www-form-urlencoded",
                                           buffered=True)
        response.close()
        if response.status_code >= 500:
            self.server_errors.append(Finding(role, method, path[:120], *what,
                                              response.status_code, self.last_error))
        return response, list(_reads)

    # -- discovering the targets ----------------------------------------------------------

    def defaults(self) -> dict[str, str]:
        contribution, section = self.world.contribution(), self.world.sections()[0]
        return {"contribution_id": str(contribution.id), "section_id": str(section.id),
                "period_id": str(self.world.period_id), "trigger": "return",
                "export_format": "csv", "filename": "app.css"}

    def targets(self, role) -> Iterator[Target]:
        """Every rule with real values, with the base form the role's pages submit to it."""
        defaults = self.defaults()
        crawled: dict[tuple[str, str], Target] = {}
        for form in self.crawl(role):
            target = self.target_of(form)
            if target is not None:
                key = (target.endpoint, target.method)
                if key not in crawled or len(target.fields) > len(crawled[key].fields):
                    crawled[key] = target
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint in ANONYMOUS_ONLY and role is not None:
                continue
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if (rule.endpoint, method) in crawled:
                    yield crawled[(rule.endpoint, method)]
                else:
                    yield Target(rule.endpoint, method, rule.rule,
                                 {name: defaults.get(name, "1") for name in rule.arguments},
                                 {})

    def target_of(self, form: Form) -> Target | None:
        path = urlsplit(form.action).path
        try:
            rule, values = self.adapter.match(path, method=form.method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            return None
        fields = stale(form.fields)
        fields.pop("csrf_token", None)
        return Target(rule.endpoint, form.method, rule.rule,
                      {k: quote(str(v), safe="") for k, v in values.items()}, fields,
                      form.multipart, form.text_fields)

    def crawl(self, role) -> list[Form]:
        """The forms on every page the role can open (real ids), and on the page an upload
        form answers with a real document (the import's preview)."""
        defaults = self.defaults()
        web = self.session(role)
        found: list[Form] = []
        for rule in self.app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or \
                    rule.endpoint.endswith("static"):
                continue
            path = path_of(rule.rule, {n: defaults.get(n, "1") for n in rule.arguments})
            response = web.client.get(path, buffered=True)
            response.close()
            if response.status_code == 200 and "text/html" in response.content_type:
                found.extend(forms_of(response.get_data(as_text=True)))
        for form in [f for f in found if f.multipart]:
            fields = {**form.fields, "period": "december 2021",
                      "area_id": str(self.world.areas["Norr"])}
            fields.pop("csrf_token", None)
            response, _ = self.send(role, form.method, urlsplit(form.action).path, fields,
                                    multipart=True, what=("crawl", "document"),
                                    files={"file": (FIXTURE.read_bytes(), FIXTURE.name)})
            if response.status_code == 200:
                found.extend(f for f in forms_of(response.get_data(as_text=True))
                             if not f.multipart)
        return found


# -- what may change ----------------------------------------------------------------------------

def table_rows() -> dict[str, list]:
    """Every row of every table but the audit trail and the scratch tables."""
    db.session.rollback()
    return {table.name: [tuple(row) for row in db.session.execute(
                select(table).order_by(*table.primary_key.columns)).all()]
            for table in db.metadata.sorted_tables if table.name not in SCRATCH_TABLES}


def head_seq() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.max(AuditEvent.seq))) or 0


def unexpected_events(since: int) -> list[str]:
    db.session.rollback()
    return [f"{event.seq} {event.action}" for event in db.session.scalars(
        select(AuditEvent).where(AuditEvent.seq > since).order_by(AuditEvent.seq))
        if not event.action.startswith(ALLOWED_ACTIONS)]


# -- the test -----------------------------------------------------------------------------------

@pytest.fixture
def fuzz_world(app):
    world = build_world()
    advance(world, "Norr", "police_review")  # the police's approve and return forms
    advance(world, "Söder", "reviewed")  # the coordinator's consolidate, reopen, exclude
    app.request_class = WatchedRequest
    # A failing request answers 500 as in production (TESTING would raise it in the test).
    app.config["PROPAGATE_EXCEPTIONS"] = False
    return world


@dataclass
class Plan:
    """A target as one role: what its base request read, and whether the role got past the
    access checks (a refusal of the stale version counts: every field was read by then)."""

    role: str | None
    target: Target
    fields: list[str]
    reached: bool


def _key(target: Target, name: str) -> tuple[str, str, str]:
    # remark_section_12 and remark_section_13 are one field to fuzz
    return target.endpoint, target.method, re.sub("[0-9]+", "#", name)


def test_hostile_input_never_gives_a_server_error_nor_changes_anything(app, fuzz_world):
    fuzzer = Fuzzer(app, fuzz_world)
    for role in ROLES:
        fuzzer.session(role)  # signed in before anything is compared
    before_rows, before_seq = table_rows(), head_seq()
    plans = []
    for role in ROLES:
        for target in fuzzer.targets(role):
            response, read = fuzzer.send(
                role, target.method, path_of(target.rule, target.path_values),
                {k: v for k, v in target.fields.items() if k != "file"},
                multipart=target.multipart, files=_document(target), what=("base", "-"))
            reached = response.status_code not in (302, 401, 403, 404)
            plans.append(Plan(role, target, sorted((set(read) | set(target.fields))
                                                   - UNCHANGING), reached))
    changes = _changes(before_rows, before_seq, "the pages and their forms as sent")
    # Every field (and path parameter) gets every payload once, from a role that gets past
    # the access checks where there is one; every other role that reads it gets one payload.
    reachable = {_key(plan.target, name) for plan in plans if plan.reached
                 for name in [*plan.fields, *(f"<{n}>" for n in plan.target.path_values)]}
    fully_fuzzed: set[tuple[str, str, str]] = set()
    rotation = 0

    def payloads_for(plan: Plan, name: str, kind):
        nonlocal rotation
        key = _key(plan.target, name)
        if key not in fully_fuzzed and (plan.reached or key not in reachable):
            fully_fuzzed.add(key)
            return kind
        rotation += 1
        return [kind[rotation % len(kind)]]

    rows, seq, role_before = table_rows(), head_seq(), plans[0].role
    for plan in plans:
        target, role = plan.target, plan.role
        if role != role_before:  # compared once per role: the tables are read whole
            changes += _changes(rows, seq, f"fuzzing as {role_before}")
            rows, seq, role_before = table_rows(), head_seq(), role
        path = path_of(target.rule, target.path_values)
        base = {k: v for k, v in target.fields.items() if k != "file"}
        for name in target.path_values:
            for label, value in payloads_for(plan, f"<{name}>", PATH_PAYLOADS):
                fuzzer.send(role, target.method,
                            path_of(target.rule, {**target.path_values, name: value}), base,
                            multipart=target.multipart, files=_document(target),
                            what=(f"<{name}>", label))
        for name in plan.fields:
            kind = TEXT_PAYLOADS if name in target.text_fields else PAYLOADS
            others = {k: v for k, v in base.items() if k != name}
            for label, value in payloads_for(plan, name, kind):
                fuzzer.send(role, target.method, path, others, encoded={name: value},
                            multipart=target.multipart,
                            files=_document(target) if name != "file" else None,
                            what=(name, label))
            if name == "file" and target.multipart:
                for label, content in FILE_PAYLOADS:
                    fuzzer.send(role, target.method, path, others, multipart=True,
                                files={"file": (content, "hostile.txt")}, what=("file", label))
    changes += _changes(rows, seq, f"fuzzing as {role_before}")
    report = "\n".join(f"{f.status} {f.role} {f.method} {f.path} [{f.field} = {f.payload}] "
                       f"{f.error}" for f in fuzzer.server_errors[:80])
    assert not fuzzer.server_errors, (
        f"{len(fuzzer.server_errors)} of {fuzzer.requests} requests gave a server error:\n"
        f"{report}")
    assert not changes, "fuzzed requests changed data:\n" + "\n".join(changes)
    assert fuzzer.requests > 1000, fuzzer.requests  # the run really covered the routes


def _document(target: Target) -> dict[str, tuple[bytes, str]] | None:
    """A real document for an upload form, so the other fields are read past the file."""
    return {"file": (FIXTURE.read_bytes(), FIXTURE.name)} if target.multipart else None


def _changes(rows: dict, seq: int, what: str) -> list[str]:
    events = unexpected_events(seq)
    changed = sorted(name for name, found in table_rows().items() if found != rows[name])
    return [f"{what}: events {events}, tables {changed}"] if events or changed else []


def test_the_crawl_finds_the_forms_that_matter(app, fuzz_world):
    """The fuzz reaches deep only through the pages' own forms: check it sees the important
    ones (a template change that hides them would silently weaken the fuzz)."""
    fuzzer = Fuzzer(app, fuzz_world)
    seen = {(role, t.endpoint) for role in ("reviewer", "consolidator")
            for t in fuzzer.targets(role) if t.fields}
    assert ("reviewer", "contributions.transition") in seen
    assert ("consolidator", "periods.contribution_transition") in seen
    assert ("consolidator", "documents.import_confirm") in seen
