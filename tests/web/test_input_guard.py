"""A NUL character anywhere in a request is refused before the database, on both databases
(PostgreSQL cannot store one, SQLite can): 400 with a message in Swedish naming the field,
and nothing recorded or changed."""
from __future__ import annotations

import pytest

from tests.factories import head_seq


def _refusal(response) -> str:
    assert response.status_code == 400, response.status_code
    html = response.get_data(as_text=True)
    assert "Förfrågan innehåller ett NUL-tecken" in html
    return html


def test_a_nul_in_the_login_form_is_refused_before_anyone_is_looked_up(web, world):
    before = head_seq()
    response = web.client.post("/login", data={
        "email": "a\x00b@x.se", "password": "x", "csrf_token": web.csrf_token()})
    assert "(i ”email”)" in _refusal(response)
    assert head_seq() == before  # not even an auth.login_failed


@pytest.mark.parametrize("where", ["query", "form", "field name", "path"])
def test_a_nul_anywhere_is_refused_for_a_signed_in_user(web, world, where):
    web.log_in_as("consolidator")
    contribution = world.contribution()
    before = head_seq()
    token = web.csrf_token("/")
    if where == "query":
        response = web.client.get("/audit/?action=x%00y")
    elif where == "path":
        response = web.client.post(f"/contributions/{contribution.id}/transition/ret%00urn",
                                   data={"csrf_token": token, "expected_version": 1})
    else:
        name, value = ("reason", "a\x00b") if where == "form" else ("re\x00ason", "a")
        response = web.client.post(f"/contributions/{contribution.id}/exclude", data={
            "csrf_token": token, "expected_version": contribution.version, name: value})
    _refusal(response)
    assert head_seq() == before
    assert world.contribution().excluded_reason is None


def test_the_message_is_english_when_the_user_chose_english(web, world):
    web.client.post("/language", data={"lang": "en", "next": "/login",
                                       "csrf_token": web.csrf_token()})
    response = web.client.get("/login?next=%00")
    assert response.status_code == 400
    assert "The request contains a NUL character (in &#39;next&#39;)" in \
        response.get_data(as_text=True)


def test_a_nul_in_an_uploaded_files_name_is_refused(web, world):
    import io

    web.log_in_as("consolidator")
    response = web.client.post("/documents/import", content_type="multipart/form-data", data={
        "csrf_token": web.csrf_token("/documents/import"), "area_id": world.areas["Norr"],
        "period": "december 2021", "file": (io.BytesIO(b"text"), "a\x00b.txt")})
    assert "(i ”file”)" in _refusal(response)
