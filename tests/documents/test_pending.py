"""Uploads waiting between the import's preview and its confirmation (app.documents.pending):
in the database, the uploader's own, gone once confirmed or a day old."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.core.clock import now
from app.extensions import db
from app.models import PendingUpload
from tests.documents.support import add_area, seed_bytes, seed_mapping, use_seed_city_topics
from tests.documents.test_web import _upload
from tests.web_support import input_values


def _preview(web, area_id) -> dict:
    values = input_values(_upload(web, area_id, seed_bytes()).get_data(as_text=True))
    form = {"csrf_token": values["csrf_token"][0], "source_sha256": values["source_sha256"][0],
            "area_id": str(area_id), "period": "december 2022", "filename": "seed.txt"}
    form.update({f"block-{block}": target for block, target in seed_mapping().items()})
    return form


def _waiting() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(PendingUpload))


def test_the_upload_waits_in_the_database_and_goes_with_the_import(web, world):
    use_seed_city_topics()
    area_id = add_area("Järva")
    web.log_in_as("consolidator")
    form = _preview(web, area_id)
    assert _waiting() == 1
    (waiting,) = db.session.scalars(select(PendingUpload)).all()
    assert waiting.data == seed_bytes() and waiting.user_id == world.users["consolidator"]
    _preview(web, area_id)  # the same file previewed again: still one
    assert _waiting() == 1

    assert web.client.post("/documents/import/confirm", data=form).status_code == 302
    assert _waiting() == 0
    again = web.client.post("/documents/import/confirm", data=form)
    assert again.status_code == 400
    assert "Den uppladdade filen finns inte längre" in again.get_data(as_text=True)


def test_nobody_confirms_another_persons_upload(web, other_web, world, audit_events):
    use_seed_city_topics()
    area_id = add_area("Järva")
    web.log_in_as("consolidator")
    form = _preview(web, area_id)
    other_web.log_in_as("consolidator2")
    form["csrf_token"] = other_web.csrf_token("/documents/import")
    response = other_web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 400
    assert "Den uppladdade filen finns inte längre" in response.get_data(as_text=True)
    assert audit_events("document.import") == [] and _waiting() == 1


def test_an_upload_a_day_old_is_gone(web, world):
    use_seed_city_topics()
    area_id = add_area("Järva")
    web.log_in_as("consolidator")
    form = _preview(web, area_id)
    db.session.rollback()
    db.session.execute(update(PendingUpload).values(created_at=now() - timedelta(days=1,
                                                                              seconds=1)))
    db.session.commit()
    response = web.client.post("/documents/import/confirm", data=form)
    assert response.status_code == 400
    # The next preview, anyone's, clears it away.
    _preview(web, add_area("Rinkeby"))
    assert _waiting() == 1
