"""Swedish by default, English on request; every interface message translated."""
import importlib.util
from pathlib import Path

from tests.factories import PASSWORD


def _load_translations_tool():
    path = Path(__file__).resolve().parents[2] / "tools" / "translations.py"
    spec = importlib.util.spec_from_file_location("translations_tool", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_interface_message_has_a_swedish_translation():
    missing = _load_translations_tool().missing("sv")
    assert not missing, "untranslated (run tools/translations.py): " + ", ".join(sorted(missing))


def test_extraction_finds_the_frame_messages():
    found = _load_translations_tool().extract()
    assert "Log in" in found and "My tasks" in found and "Skip to content" in found


def test_swedish_is_the_default(web):
    html = web.client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "Logga in" in html and "E-postadress" in html
    assert 'lang="en"' in html and ">English<" in html


def test_switching_to_english_and_back(web, world):
    token = web.csrf_token()
    response = web.client.post("/language", data={"lang": "en", "next": "/login",
                                                 "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    html = web.client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "E-mail address" in html and "Lösenord" not in html
    web.log_in("drafter@example.se", PASSWORD)
    start = web.client.get("/").get_data(as_text=True)
    assert "My tasks" in start and "Drafter" in start
    web.client.post("/language", data={"lang": "sv", "next": "/",
                                       "csrf_token": web.csrf_token("/")})
    assert "Mina uppgifter" in web.client.get("/").get_data(as_text=True)


def test_unknown_language_is_refused_and_changes_nothing(web):
    response = web.client.post("/language", data={"lang": "xx", "next": "/login",
                                                 "csrf_token": web.csrf_token()})
    assert response.status_code == 302
    html = web.client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html and "Okänt språk." in html


def test_language_switch_needs_csrf(web):
    response = web.client.post("/language", data={"lang": "en", "next": "/login"})
    assert response.status_code == 400
    assert '<html lang="sv">' in web.client.get("/login").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(web):
    response = web.client.post("/language", data={"lang": "en", "next": "https://evil.example/",
                                                 "csrf_token": web.csrf_token()})
    assert response.headers["Location"] == "/"


def test_service_errors_are_shown_translated(app, web, world):
    """A refusal made in a service (English Msg) reaches a Swedish user in Swedish."""
    from app.core.errors import InvalidInput
    from app.core.messages import N_, Msg

    error = InvalidInput(Msg(N_("The consolidation for {period}"), period="x"))
    with app.test_request_context("/"):
        from flask_babel import gettext
        assert error.translated(gettext) == "Sammanställningen för x"
    assert error.message == "The consolidation for x"


def test_the_chosen_language_follows_the_user_to_her_next_sign_in_and_her_messages(
        web, other_web, world, audit_events):
    from app.extensions import db
    from app.models import User

    web.log_in_as("reviewer")
    web.client.post("/language", data={"lang": "en", "next": "/",
                                       "csrf_token": web.csrf_token("/")})
    (event,) = audit_events("user.set_language")
    assert event.actor_id == world.users["reviewer"]
    db.session.rollback()
    assert db.session.get(User, world.users["reviewer"]).language == "en"
    # Another browser, nothing chosen there: English after signing in.
    other_web.log_in_as("reviewer")
    assert "My tasks" in other_web.client.get("/").get_data(as_text=True)
    # Choosing Swedish on the login page before signing in keeps Swedish, and remembers it.
    third = type(web)(web.client.application.test_client())
    third.client.post("/language", data={"lang": "sv", "next": "/login",
                                         "csrf_token": third.csrf_token()})
    third.log_in_as("reviewer")
    assert "Mina uppgifter" in third.client.get("/").get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, world.users["reviewer"]).language == "sv"
