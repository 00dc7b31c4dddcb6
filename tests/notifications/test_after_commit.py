"""Right after the response of a request that handed work on, its messages go out (best
effort: what fails here waits for `flask notifications send`)."""
from __future__ import annotations

from tests.contributions.support import act
from tests.factories import fill_sections


def test_a_submission_through_the_page_is_mailed_right_after_the_response(web, world,
                                                                          mailbox):
    fill_sections(world, "Norr")
    web.log_in_as("drafter")
    response = act(web, world.contribution("Norr").id, "submit")
    assert response.status_code == 302
    assert mailbox.messages == []  # not while the response is on its way
    response.close()  # as the WSGI server does once it has sent the response
    assert mailbox.recipients() == ["reviewer2@example.se", "reviewer@example.se"]


def test_a_refused_submission_mails_nothing(web, world, mailbox):
    web.log_in_as("drafter")
    response = act(web, world.contribution("Norr").id, "submit")  # the sections are empty
    assert response.status_code in (400, 409)
    response.close()
    assert mailbox.messages == []
