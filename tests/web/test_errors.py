"""Error pages: Swedish, with a reference id that support can find in the server log."""
from __future__ import annotations

import contextvars
import io
import logging
import re

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app.core.errors import InvalidInput, InvalidTransition, NotAllowed, StaleVersion

REFERENCE = re.compile(r'Referens: <code class="request-id">([0-9a-f]{16})</code>')


def reference_of(response) -> str:
    match = REFERENCE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return match.group(1)


def logged(caplog, text: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if text in record.getMessage()]


def test_404_page_is_swedish_with_a_reference_in_the_log(client, caplog):
    caplog.set_level(logging.INFO, logger="app.web")

    response = client.get("/finns-inte")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "<title>Sidan finns inte – Lägesbild</title>" in html
    assert "<h1>Sidan finns inte (404)</h1>" in html
    assert "Ange den om du kontaktar support." in html
    assert '<a href="/">Till startsidan</a>' in html
    reference = reference_of(response)
    [record] = logged(caplog, reference)
    assert record.getMessage().startswith(f"error 404 on request {reference}")


def test_each_request_gets_its_own_reference(client, caplog):
    caplog.set_level(logging.INFO, logger="app.web")

    first, second = reference_of(client.get("/a")), reference_of(client.get("/b"))

    assert first != second
    assert logged(caplog, first) and logged(caplog, second)


def test_405_page(client):
    response = client.get("/logout")

    assert response.status_code == 405
    assert "<h1>Metoden stöds inte (405)</h1>" in response.get_data(as_text=True)
    reference_of(response)


def test_csrf_failure_page_explains_in_swedish(client, caplog):
    caplog.set_level(logging.INFO, logger="app.web")

    response = client.post("/login", data={"email": "a@example.se", "password": "x"})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<h1>Felaktig uppgift (400)</h1>" in html
    assert ("Formuläret hade gått ut eller saknade sin säkerhetskod. Ladda om sidan och "
            "försök igen.") in html
    assert logged(caplog, reference_of(response))


@pytest.fixture
def failing_app(app):
    """The app with routes that fail in known ways (added before its first request)."""
    def raise_(error):
        def view():
            raise error
        return view

    failures = {
        "/test-fails/crash": RuntimeError("secret detail: password=hunter2"),
        "/test-fails/not-allowed": NotAllowed("Du får inte granska ditt eget bidrag."),
        "/test-fails/transition": InvalidTransition("Bidraget är redan skickat."),
        "/test-fails/stale": StaleVersion("Någon annan har ändrat texten."),
        "/test-fails/input": InvalidInput("Anmärkning krävs."),
    }
    for path, error in failures.items():
        app.add_url_rule(path, endpoint=path, view_func=raise_(error))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 handler answers
    return app


def test_500_page_hides_the_error_and_logs_it_with_the_reference(failing_app, client, caplog):
    caplog.set_level(logging.INFO, logger="app.web")

    response = client.get("/test-fails/crash")

    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "<h1>Något gick fel (500)</h1>" in html
    assert "hunter2" not in html and "RuntimeError" not in html
    reference = reference_of(response)
    failure = [r for r in logged(caplog, reference) if r.levelno == logging.ERROR]
    assert failure, "the failure itself must be logged with the reference"
    assert failure[0].exc_info and failure[0].exc_info[0] is RuntimeError


@pytest.mark.parametrize("path, status, title, message", [
    ("/test-fails/not-allowed", 403, "Åtkomst nekad", "Du får inte granska ditt eget bidrag."),
    ("/test-fails/transition", 409, "Konflikt", "Bidraget är redan skickat."),
    ("/test-fails/stale", 409, "Konflikt", "Någon annan har ändrat texten."),
    ("/test-fails/input", 400, "Felaktig uppgift", "Anmärkning krävs."),
])
def test_domain_errors_map_to_status_and_show_their_message(failing_app, client, caplog, path,
                                                            status, title, message):
    caplog.set_level(logging.INFO, logger="app.web")

    response = client.get(path)

    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert f"<h1>{title} ({status})</h1>" in html
    assert f'<p class="error-message">{message}</p>' in html
    assert logged(caplog, reference_of(response))


class _EndlessUpload(io.RawIOBase):
    """A request body that never ends (a chunked upload of any size), counting what is read."""

    def __init__(self):
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b"x" * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


def _too_large_page(response) -> None:
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "<h1>För stor (413)</h1>" in html
    assert "Filen är för stor: en fil får vara högst 10 MB. Välj en mindre fil." in html


def test_a_body_over_the_limit_is_refused_with_413_unread(web, world, app):
    assert app.config["MAX_CONTENT_LENGTH"] == 11 * 2**20
    web.log_in_as("consolidator")
    token = web.csrf_token("/documents/import")
    declared = web.client.post("/documents/import", data=b"x" * (11 * 2**20 + 1),
                               content_type="multipart/form-data; boundary=b",
                               headers={"X-CSRFToken": token})
    _too_large_page(declared)

    # Chunked: no Content-Length, a server that ends the stream itself (as gunicorn does).
    endless = _EndlessUpload()
    environ = EnvironBuilder(path="/documents/import", method="POST",
                             content_type="multipart/form-data; boundary=b",
                             headers={"X-CSRFToken": token}).get_environ()
    web.client._add_cookies_to_wsgi(environ)
    environ.pop("CONTENT_LENGTH", None)
    environ.update({"wsgi.input": io.BufferedReader(endless), "wsgi.input_terminated": True,
                    "HTTP_TRANSFER_ENCODING": "chunked"})
    body, status, _headers = contextvars.Context().run(run_wsgi_app, app, environ, True)
    assert status.startswith("413")
    assert "Filen är för stor" in b"".join(body).decode("utf-8")
    assert endless.read_bytes <= app.config["MAX_CONTENT_LENGTH"] + 2**20  # not read whole


def _unreachable_app(url: str):
    from app import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False})
    return app


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_with_the_database_unreachable_pages_answer_503_and_the_process_stays_up(
        kind, tmp_path, caplog):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = (f"postgresql+psycopg://postgres@127.0.0.1:{port}/lagesbild" if kind == "postgresql"
           else f"sqlite:///{tmp_path / 'no such folder' / 'x.sqlite'}")
    app = _unreachable_app(url)
    client = app.test_client()

    response = client.post("/login", data={"email": "a@example.se", "password": "x"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert "Tillfälligt otillgänglig (503)" in html and "Inget av det du skickade sparades" in html
    assert "the database is unavailable" in caplog.text
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200  # the process itself is up
    with app.app_context():
        from app.extensions import db
        db.engine.dispose()
