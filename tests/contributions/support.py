"""Helpers for the contribution page tests: reading pages and posting their forms."""
from __future__ import annotations

import json
import re
from html import unescape

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Contribution, Section
from tests.web_support import input_values


def page(web, path: str, status: int = 200) -> str:
    response = web.client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page's visible words, tags removed and whitespace collapsed."""
    words = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
    return re.sub(r" ([,.:;)])", r"\1", words)


def fresh_contribution(contribution_id: int) -> Contribution:
    db.session.rollback()  # see what the requests committed
    return db.session.get(Contribution, contribution_id)


def fresh_section(section_id: int) -> Section:
    db.session.rollback()
    return db.session.get(Section, section_id)


def denials(object_id=None) -> list[dict]:
    """The data of every security.permission_denied event (optionally for one object)."""
    db.session.rollback()
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "security.permission_denied").order_by(AuditEvent.seq)).all()
    return [json.loads(e.data) | {"object_id": e.object_id, "actor": e.actor_name,
                                  "contribution_id": e.contribution_id}
            for e in events if object_id is None or e.object_id == str(object_id)]


def events_of(contribution_id: int) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(
        AuditEvent.contribution_id == contribution_id).order_by(AuditEvent.seq)))


def form_token(web, path: str) -> str:
    html = page(web, path)
    tokens = set(input_values(html).get("csrf_token", []))
    assert len(tokens) == 1, tokens
    return tokens.pop()


def act(web, contribution_id: int, trigger: str, *, version: int | None = None,
        token: bool = True, **fields):
    """Post a workflow action from the contribution page, as its form does."""
    path = f"/contributions/{contribution_id}"
    data = dict(fields)
    if token:
        data["csrf_token"] = form_token(web, path)
    if version is None:
        version = fresh_contribution(contribution_id).version
    data["expected_version"] = str(version)
    return web.client.post(f"{path}/transition/{trigger}", data=data)


def save(web, section_id: int, text: str, *, version: int | None = None, token: bool = True):
    """Post the section editor's form."""
    data = {"text": text}
    if token:
        data["csrf_token"] = form_token(web, f"/sections/{section_id}/edit")
    data["expected_version"] = str(fresh_section(section_id).version if version is None
                                   else version)
    return web.client.post(f"/sections/{section_id}/edit", data=data)


def use_english(web, path: str = "/login") -> None:
    response = web.client.post("/language", data={"lang": "en", "next": path,
                                                 "csrf_token": web.csrf_token(path)})
    assert response.status_code == 302


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>', html,
                      re.S)
    assert match, f"no textarea {name}"
    return unescape(match.group(1))
