"""Uploads waiting for confirmation are kept in the test's own folder."""
import pytest


@pytest.fixture(autouse=True)
def _uploads_in_tmp(request, tmp_path):
    if "app" in request.fixturenames:
        request.getfixturevalue("app").config["DOCUMENT_IMPORT_DIR"] = str(tmp_path / "uploads")
