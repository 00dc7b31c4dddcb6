"""The web tests' fixtures (signed-in sessions, committed audit events) for the document tests,
and uploads waiting for confirmation kept in the test's own folder."""
import pytest

from tests.web.conftest import audit_events, other_web, web  # noqa: F401


@pytest.fixture(autouse=True)
def _uploads_in_tmp(request, tmp_path):
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["DOCUMENT_IMPORT_DIR"] = str(tmp_path / "uploads")
