"""Each user's notification preferences (app.notifications.operations and the page at
/account/notifications): immediate or a daily digest, reminders on or off; saved through one
audited operation, refused with a message and nothing changed on bad input."""
from __future__ import annotations

import pytest

from app.core.errors import InvalidInput, NotAllowed
from app.core.unit_of_work import operation
from app.extensions import db
from app.notifications.operations import set_notification_preferences
from tests.contributions.support import page, text_of
from tests.factories import data_of, head_seq, run
from tests.web_support import input_values

PATH = "/account/notifications"


def fresh(world, key: str):
    db.session.rollback()
    return world.user(key)


def test_a_user_chooses_the_digest_and_switches_reminders_off_recorded_once(world,
                                                                           audit_events):
    assert run(world, "drafter", set_notification_preferences, world.user("drafter"),
               "digest", False) is True
    user = fresh(world, "drafter")
    assert (user.notification_mode, user.reminders_on) == ("digest", False)
    (event,) = audit_events("user.set_notification_preferences")
    assert event.actor_id == user.id and event.object_id == str(user.id)
    assert data_of(event) == {"from": {"mode": "immediate", "reminders": True},
                          "to": {"mode": "digest", "reminders": False}}
    seq = head_seq()
    assert run(world, "drafter", set_notification_preferences, world.user("drafter"),
               "digest", False) is False  # the same again: nothing to record
    assert head_seq() == seq


def test_nobody_chooses_for_someone_else(world, audit_events):
    with pytest.raises(NotAllowed):
        run(world, "admin", set_notification_preferences, world.user("drafter"), "digest",
            True)
    assert fresh(world, "drafter").notification_mode == "immediate"
    (denied,) = audit_events("security.permission_denied")
    assert data_of(denied)["attempted"] == "user.set_notification_preferences"


def test_an_unknown_mode_is_refused_and_nothing_changes(world):
    seq = head_seq()
    with pytest.raises(InvalidInput, match="each as it happens, or one a day"):
        with operation(world.user("drafter")):
            set_notification_preferences(world.user("drafter"), world.user("drafter"),
                                         "hourly", False)
    user = fresh(world, "drafter")
    assert (user.notification_mode, user.reminders_on) == ("immediate", True)
    assert head_seq() == seq


def test_every_signed_in_user_finds_the_page_in_her_own_menu(web, world):
    web.log_in_as("auditor")
    start = page(web, "/")
    assert f'<a href="{PATH}">Aviseringar</a>' in start
    html = page(web, PATH)
    assert "<h1>Aviseringar</h1>" in html
    values = input_values(html)
    assert values["mode"] == ["immediate", "digest"] and values["reminders"] == ["on"]
    assert 'id="mode-immediate" name="mode" value="immediate" checked' in html
    assert 'id="reminders" name="reminders" value="on" checked' in html


def test_saving_the_form_changes_the_preferences_and_says_so(web, world, audit_events):
    web.log_in_as("reviewer")
    token = web.csrf_token(PATH)
    response = web.client.post(PATH, data={"csrf_token": token, "mode": "digest"})
    assert response.status_code == 302 and response.headers["Location"] == PATH
    user = fresh(world, "reviewer")
    assert (user.notification_mode, user.reminders_on) == ("digest", False)
    html = page(web, PATH)
    assert "Dina val för aviseringar är sparade." in html
    assert 'value="digest" checked' in html and 'value="on" checked' not in html
    assert len(audit_events("user.set_notification_preferences")) == 1
    again = web.client.post(PATH, data={"csrf_token": token, "mode": "digest"})
    assert again.status_code == 302
    assert "inget ändrades" in page(web, PATH)
    assert len(audit_events("user.set_notification_preferences")) == 1


@pytest.mark.parametrize(("fields", "message"), [
    ({"mode": "hourly", "reminders": "on"}, "Välj hur dina meddelanden ska komma"),
    ({"reminders": "on"}, "Välj hur dina meddelanden ska komma"),
    ({"mode": "digest", "reminders": "yes please"}, "Påminnelser är antingen på"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_changes(web, world, fields,
                                                                 message):
    web.log_in_as("drafter")
    seq = head_seq()
    response = web.client.post(PATH, data={"csrf_token": web.csrf_token(PATH), **fields})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in text_of(html) and 'role="alert"' in html
    assert 'value="immediate" checked' in html  # the form shows what is still saved
    user = fresh(world, "drafter")
    assert (user.notification_mode, user.reminders_on) == ("immediate", True)
    assert head_seq() == seq


def test_the_page_needs_a_sign_in_and_a_form_token(web, world):
    response = web.client.get(PATH)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    web.log_in_as("drafter")
    refused = web.client.post(PATH, data={"mode": "digest"})
    assert refused.status_code == 400
    assert fresh(world, "drafter").notification_mode == "immediate"


def test_the_page_in_english(web, world):
    web.log_in_as("drafter")
    web.client.post("/language", data={"csrf_token": web.csrf_token("/"), "lang": "en"})
    html = page(web, PATH)
    assert "<h1>Notifications</h1>" in html
    assert "One message a day, listing them (a daily digest)" in html
