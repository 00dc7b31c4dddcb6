"""What is never sent, delivered to a real SMTP server: nothing to a user deactivated after
her message was queued (handoff, reminder or digest), no reminders to whoever switched them
off; and every mail's footer links to the preferences at the configured address."""
from __future__ import annotations

from datetime import date

from app.admin import operations as admin
from app.core.unit_of_work import operation
from app.notifications import sender
from app.notifications.digest import queue_digests
from app.reminders.reminders import remind
from tests.contributions.support import act
from tests.factories import SETUP, advance, fill_sections
from tests.notifications.support import choose, outbox

PREFERENCES = "https://lagesbild.example.se/account/notifications"


def deactivate(world, key: str) -> None:
    with operation(SETUP):
        admin.set_user_active(SETUP, world.user(key), False)


def test_a_user_deactivated_after_the_handoff_gets_nothing(world, mailbox, runner):
    advance(world, "Norr", "police_review")  # queued for both of Norr's reviewers
    deactivate(world, "reviewer2")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == ("Sent 1; to try again later 0; given up 0. Not sent to "
                             "deactivated users: 1.\n")
    assert mailbox.recipients() == ["reviewer@example.se"]
    (dropped,) = [n for n in outbox() if n.recipient.email == "reviewer2@example.se"]
    assert dropped.sent_at is None and dropped.failed_at is not None
    assert dropped.last_error == sender.DEACTIVATED
    assert sender.deliver_due().sent == 0  # never tried again


def test_a_deactivated_user_is_neither_reminded_nor_sent_a_digest(world, mailbox):
    choose(world, "reviewer2", "digest")
    advance(world, "Norr", "police_review")
    deactivate(world, "reviewer2")
    deactivate(world, "drafter_south")
    with operation(SETUP):
        remind(date(2030, 1, 16))  # the review deadline is the 17th
        remind(date(2030, 1, 9))  # Söder's drafter would hold Söder's draft
        digested = queue_digests(date(2030, 1, 16))
    assert digested.digests == 0 and digested.not_sent_to_deactivated == 1
    sender.deliver_due()
    assert "reviewer2@example.se" not in mailbox.recipients()
    assert "drafter_south@example.se" not in mailbox.recipients()
    assert "reviewer@example.se" in mailbox.recipients()


def test_reminders_switched_off_send_none_and_the_handoffs_still_come(world, mailbox):
    choose(world, "reviewer2", "immediate", reminders_on=False)
    advance(world, "Norr", "police_review")
    with operation(SETUP):
        reminded = remind(date(2030, 1, 16))
        overdue = remind(date(2030, 1, 18))  # the morning after the missed review
    assert reminded.before == 1 and overdue.overdue == 1  # reviewer only
    sender.deliver_due()
    to_her = mailbox.to("reviewer2@example.se")
    assert [m["Subject"] for m in to_her] == [
        "Lägesbild: bidraget från Norr för januari 2030 väntar på din granskning"]
    assert len(mailbox.to("reviewer@example.se")) == 3  # the handoff and two reminders
    # The coordinators are still told who holds the late review, she included.
    (late,) = [m for m in mailbox.to("consolidator@example.se")
               if "sista dag har passerat" in m["Subject"]]
    assert world.user("reviewer2").name in late.get_content()


def test_every_mail_links_to_the_preferences_at_the_configured_address(web, world,
                                                                       mailbox):
    fill_sections(world, "Norr")
    web.log_in_as("drafter")
    response = act(web, world.contribution("Norr").id, "submit")
    response.close()  # the best-effort delivery after the response
    assert response.status_code == 302
    with operation(SETUP):
        remind(date(2030, 1, 9))
    sender.deliver_due()
    assert len(mailbox.messages) == 3  # two reviewers; Söder's drafter reminded
    for message in mailbox.messages:
        text = message.get_content()
        assert text.rstrip().endswith(
            f"Vill du hellre få ett meddelande om dagen, eller stänga av påminnelserna: "
            f"{PREFERENCES}"), text


def test_the_link_never_follows_the_requests_host(app, web, world, mailbox):
    app.config["SERVER_NAME"] = "evil.example.org"  # every test request carries this Host
    fill_sections(world, "Norr")
    web.log_in_as("drafter")
    response = act(web, world.contribution("Norr").id, "submit")
    response.close()
    assert response.request.host == "evil.example.org" and response.status_code == 302
    sender.deliver_due()
    assert len(mailbox.messages) == 2
    for message in mailbox.messages:
        assert "evil.example.org" not in message.get_content()
        assert PREFERENCES in message.get_content()
