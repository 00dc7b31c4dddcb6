"""The whole flow end to end in a real browser, five people each in their own browser context:

1. the drafter (Rinkeby-Kista) fills Järva's local topics and submits;
2. the police return it with a remark on one section;
3. the drafter sees the remark beside that section, answers it, fixes it and resubmits;
4. the police see the word diff of the fix and approve;
5. the coordinator edits wording in Järva and consolidates every area, then submits for approval;
6. the approver returns the consolidation once with a remark, the coordinator resubmits, and the
   approver approves;
7. the auditor sees the period approved and Järva's history.

Set-up (documented choice): the flow runs on a server of its own (the demo data plus a fresh
period "juni 2031"), so the shared demo server the other browser tests read stays as it is.
In the fresh period, services have already done what is not under test: Järva's ten city-wide
texts are written (as in the demo), and the four other areas are submitted and approved by their
police. Everything Järva's people and the city office do is done through the pages.
"""
from __future__ import annotations

import re
import threading
from datetime import date

import pytest
from playwright.sync_api import expect

from app.demo.loader import DEMO_DOMAIN, DEMO_PASSWORD
from tests import flow

PERIOD = "juni 2031"
AREA = "Järva"
TITLE = f"Lägesbild {PERIOD} — {AREA}"
LOCAL_TOPICS = ["Nyrekrytering", "Kriminella konflikter", "Otillåten påverkan",
                "Otrygga brottsutsatta platser"]
RETURNED_TOPIC = "Otrygga brottsutsatta platser"
REMARK = "Beskriv vilka platser som avses och vad som har gjorts."
FIX = "- Trygghetsvandringar vid Rinkeby torg varje vecka."
COMMENT = "Bra att vandringarna är veckovisa."
APPROVER_REMARK = "Järvas rubrik 9 behöver en kortare formulering."


def email(key: str) -> str:
    return f"{key}@{DEMO_DOMAIN}"


@pytest.fixture(scope="module")
def flow_server(tmp_path_factory):
    """Demo data plus the fresh period, served over HTTP on a free port."""
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.serving import make_server

    from app import create_app
    from app.admin import operations as admin
    from app.contributions import operations as contributions
    from app.core.actors import SystemActor
    from app.core.unit_of_work import operation
    from app.demo.loader import load_demo
    from app.extensions import db
    from app.models import Contribution, User

    database = tmp_path_factory.mktemp("flow") / "flow.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "SECRET_KEY": "flow-test-secret",
                      # its own witness, not the development one in instance/
                      "AUDIT_WITNESS_PATH": str(database.with_suffix(".witness.jsonl"))})
    setup = SystemActor(name="full-flow set-up")

    def user(key: str) -> User:
        return db.session.scalar(select(User).where(User.email == email(key)))

    def as_user(key: str, change):
        actor = user(key)
        with operation(actor):
            return change(actor)

    with app.app_context():
        upgrade()
        load_demo()
        with operation(setup):
            period_id = admin.create_period(
                setup, PERIOD, drafting_deadline=date(2031, 6, 10),
                review_deadline=date(2031, 6, 17), consolidation_deadline=date(2031, 6, 22),
                approval_deadline=date(2031, 6, 24)).id
        for contribution_id in db.session.scalars(
                select(Contribution.id).where(Contribution.period_id == period_id)):
            contribution = db.session.get(Contribution, contribution_id)
            area = contribution.area.name
            slug = area.lower().replace("ä", "a").replace("ö", "o").replace("å", "a")
            drafter = "skribent.rinkeby-kista" if area == AREA else f"skribent.{slug}"
            for section in contribution.ordered_sections:
                if area == AREA and section.topic.scope != "city":
                    continue  # Järva's local topics are written in the browser
                section_id, version = section.id, section.version
                # as_user runs the change at once: the loop's values are the ones meant.
                text = f"- Arbetet i {area} fortsätter enligt plan."
                as_user(drafter, lambda actor, s=section_id, t=text, v=version:
                        contributions.edit_section(actor, s, t, v))
            if area != AREA:
                as_user(drafter, lambda actor, c=contribution_id: flow.submit(actor, c))
                as_user(f"polis.{slug}",
                        lambda actor, c=contribution_id: flow.approve(actor, c))
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flow-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


class Person:
    """One person at their own browser (own cookies), signed in."""

    def __init__(self, browser, url: str, key: str):
        self.context = browser.new_context(base_url=url, locale="sv-SE",
                                           viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.page.goto("/login")
        self.page.get_by_label("E-postadress").fill(email(key))
        self.page.get_by_label("Lösenord").fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="Logga in").click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Mina uppgifter")

    def task_row(self, group: str, title: str = TITLE):
        self.page.goto("/")
        return self.page.locator(f"section[data-group={group}] table.tasks tbody tr").filter(
            has=self.page.get_by_role("rowheader", name=title))

    def open_task(self, group: str, title: str = TITLE) -> None:
        row = self.task_row(group, title)
        expect(row).to_have_count(1)
        row.get_by_role("link", name=title).click()
        expect(self.page.get_by_role("heading", level=1)).to_have_text(title)

    def flash(self):
        return self.page.locator(".flash")

    def section(self, heading: str):
        return self.page.locator("section.contrib-section").filter(
            has=self.page.get_by_role("heading", level=3, name=heading, exact=True))

    def close(self) -> None:
        self.context.close()


def edit_section(person: Person, heading: str, text: str) -> None:
    person.section(heading).get_by_role("link", name=re.compile("^Redigera")).click()
    field = person.page.get_by_label(f"Text för ”{heading}”")
    field.fill(text)
    person.page.get_by_role("button", name="Spara").click()
    expect(person.flash()).to_contain_text(f"Texten för ”{heading}” sparades.")


def state(page):
    return page.locator(".contrib-state .state")


def test_five_people_take_a_contribution_from_draft_to_approval(browser, flow_server,
                                                                 screenshot, assert_accessible):
    drafter = Person(browser, flow_server, "skribent.rinkeby-kista")
    police = Person(browser, flow_server, "polis.jarva")
    coordinator = Person(browser, flow_server, "samordnare")
    approver = Person(browser, flow_server, "faststallare")
    auditor = Person(browser, flow_server, "revisor")
    try:
        # 1. The drafter writes Järva's local topics and submits.
        row = drafter.task_row("draft")
        expect(row.locator(".state")).to_have_text("Utkast")
        expect(row.locator("time")).to_have_attribute("datetime", "2031-06-10")
        # The police have nothing of Järva's yet.
        expect(police.task_row("review")).to_have_count(0)
        drafter.open_task("draft")
        contribution_url = drafter.page.url
        expect(drafter.page.locator("#empty-sections li")).to_have_text(LOCAL_TOPICS)
        for topic in LOCAL_TOPICS:
            text = f"- Första utkastet om {topic.lower()}."
            edit_section(drafter, topic, text)
        expect(drafter.page.locator("#empty-sections")).to_have_count(0)
        screenshot(drafter.page, "flow-1-drafter-filled")
        drafter.page.get_by_role("button", name="Skicka till polisen").click()
        expect(drafter.flash()).to_contain_text(f"Skickad till polisen: {TITLE}.")
        expect(state(drafter.page)).to_have_text("Polisgranskning")

        # 2. The police return it with a remark on one section.
        police.open_task("review")
        expect(police.section("Nyrekrytering")).to_contain_text(
            "Första utkastet om nyrekrytering.")
        police.page.get_by_label(f"Anmärkning om {RETURNED_TOPIC} (frivillig)").fill(REMARK)
        screenshot(police.page, "flow-2-police-review")
        police.page.get_by_role("button", name="Skicka tillbaka").click()
        expect(police.flash()).to_contain_text(f"Återsänd för ändringar: {TITLE}.")
        expect(state(police.page)).to_have_text("Återsänd")

        # 3. The drafter sees the remark beside its section, fixes it and resubmits.
        row = drafter.task_row("returned")
        expect(row.locator("li.action")).to_have_text(["Redigera texterna",
                                                       "Skicka till polisen igen"])
        drafter.open_task("returned")
        expect(drafter.section(RETURNED_TOPIC).locator(".contrib-remark-text")).to_have_text(
            REMARK)
        expect(drafter.section("Nyrekrytering").locator(".contrib-remark")).to_have_count(0)
        # She answers it in its thread (resubmitting with it unanswered would ask first).
        thread = drafter.section(RETURNED_TOPIC).locator("li.contrib-remark")
        thread.get_by_label("Ditt svar på anmärkningen").fill("Platserna är nu beskrivna.")
        thread.get_by_role("button", name="Skicka svaret").click()
        expect(drafter.flash()).to_contain_text("Ditt svar har lagts till under anmärkningen.")
        edit_section(drafter, RETURNED_TOPIC, f"- Första utkastet om otrygga platser.\n{FIX}")
        screenshot(drafter.page, "flow-3-drafter-fixed")
        drafter.page.get_by_role("button", name="Skicka till polisen igen").click()
        expect(drafter.flash()).to_contain_text(f"Skickad till polisen igen: {TITLE}.")

        # 4. The police see exactly what changed, and approve.
        police.open_task("review")
        changed = police.section(RETURNED_TOPIC).locator(".contrib-changes")
        expect(changed.locator("ins")).to_contain_text("Trygghetsvandringar vid Rinkeby torg")
        expect(police.section("Nyrekrytering").locator(".contrib-changes")).to_contain_text(
            "Inga ändringar.")
        expect(police.page.locator("#changes-summary")).to_contain_text(
            "1 avsnitt har ändrats sedan förra inskickningen")
        expect(police.page.locator("#changes-summary a")).to_have_text([RETURNED_TOPIC])
        screenshot(police.page, "flow-4-police-diff")
        # A comment typed before "Godkänn" is not dropped: the page asks, keeps it, and
        # "Godkänn med kommentar" saves it with the approval.
        comment_box = police.page.get_by_label(f"Anmärkning om {RETURNED_TOPIC} (frivillig)")
        comment_box.fill(COMMENT)
        police.page.get_by_role("button", name="Godkänn", exact=True).click()
        expect(police.page.locator("#review-error")).to_contain_text(
            "Välj ”Godkänn med kommentar”")
        expect(comment_box).to_have_value(COMMENT)
        expect(state(police.page)).to_have_text("Polisgranskning")
        assert_accessible(police.page)
        police.page.get_by_role("button", name="Godkänn med kommentar").click()
        expect(police.flash()).to_contain_text(f"Godkänd av polisen: {TITLE}.")
        expect(police.section(RETURNED_TOPIC).locator(".contrib-remark-text").first).to_have_text(
            COMMENT)
        expect(state(police.page)).to_have_text("Granskad")

        # 5. The coordinator edits wording in Järva and consolidates every area.
        coordinator.open_task("consolidate")
        coordinator.page.get_by_role("link", name="Perioder").click()
        coordinator.page.get_by_role("link", name=f"Lägesbild {PERIOD}").click()
        expect(coordinator.page.locator("table.periods-matrix tbody tr")).to_have_count(5)
        expect(coordinator.page.locator("[data-step=reviewed]")).to_contain_text(
            "5 av 5 granskade av polisen")
        coordinator.page.get_by_role("link", name="Öppna sammanställningen").click()
        consolidation_url = coordinator.page.url
        # The texts are shown one topic at a time: to the ninth topic's.
        coordinator.page.get_by_role("navigation", name="Texterna per tema").get_by_role(
            "link", name=re.compile("^9\\.")).click()
        ninth = coordinator.page.locator("section.periods-topic").filter(
            has=coordinator.page.get_by_role("heading", level=3, name=re.compile("^9\\.")))
        ninth.locator(f"article[data-area='{AREA}']").get_by_role(
            "link", name=re.compile("^Redigera formuleringen")).click()
        heading = coordinator.page.get_by_role("heading", level=1).inner_text()
        topic = heading.removeprefix("Redigera ”").removesuffix("”")
        coordinator.page.get_by_label(f"Text för ”{topic}”").fill(
            "- Arbetet hanteras inom de ordinarie linjeorganisationerna.")
        coordinator.page.get_by_role("button", name="Spara").click()
        expect(coordinator.flash()).to_contain_text("sparades.")
        # Saving leads back to the topic the coordinator was reading, not the first one.
        expect(coordinator.page).to_have_url(re.compile(r"/consolidation\?topic=\d+"))
        expect(ninth.locator(f"article[data-area='{AREA}']")).to_contain_text(
            "ordinarie linjeorganisationerna")
        expect(coordinator.page.locator(".periods-blocked")).to_contain_text(
            "Ännu inte sammanställda eller undantagna:")
        areas = coordinator.page.locator("table.periods-areas tbody tr")
        names = [name.strip() for name in areas.locator("th").all_inner_texts()]
        assert AREA in names and len(names) == 5
        first, last = names[0], names[-1]
        coordinator.page.get_by_role("button", name=f"Sammanställ: {first}").click()
        expect(coordinator.flash()).to_contain_text(f"Sammanställd: Lägesbild {PERIOD} — {first}.")
        # The other four at once, after a confirmation; one changes in another tab meanwhile
        # (excluded and included again) and is left for the coordinator to look at again.
        coordinator.page.get_by_role("link", name="Sammanställ alla 4 granskade bidrag…").click()
        expect(coordinator.page.locator(".periods-confirm-list li")).to_have_count(4)
        screenshot(coordinator.page, "flow-5-consolidate-all")
        assert_accessible(coordinator.page)
        other_tab = coordinator.context.new_page()
        other_tab.goto(consolidation_url)
        row = other_tab.locator(f"table.periods-areas tr[data-area='{last}']")
        row.locator("summary", has_text="Undanta").click()
        row.get_by_label("Varför lämnas området utanför? (obligatoriskt)").fill("Kontrolleras.")
        row.get_by_role("button", name=f"Undanta {last}").click()
        other_tab.locator(f"table.periods-areas tr[data-area='{last}']").get_by_role(
            "button", name=f"Ta med {last} igen").click()
        other_tab.close()
        coordinator.page.get_by_role("button", name="Sammanställ 4 bidrag").click()
        expect(coordinator.page.locator(".flash-success")).to_have_text(
            "Sammanställda: " + ", ".join(names[1:-1]) + ".")
        expect(coordinator.page.locator(".flash-warning")).to_contain_text(
            f"ändrats efter att du öppnade sidan: {last}.")
        coordinator.page.get_by_role("button", name=f"Sammanställ: {last}").click()
        expect(areas.locator(".state")).to_have_text(["Sammanställd"] * 5)
        screenshot(coordinator.page, "flow-5-consolidated")
        assert_accessible(coordinator.page)
        coordinator.page.get_by_role("button", name="Skicka för fastställelse").click()
        expect(coordinator.flash()).to_contain_text("Skickad för fastställelse")
        expect(coordinator.page.locator("[data-consolidation-state]")).to_have_text(
            "Väntar på fastställelse")

        # Nothing of this period waits for the drafter; they see the coordinator's wording.
        expect(drafter.task_row("draft")).to_have_count(0)
        expect(drafter.task_row("returned")).to_have_count(0)
        drafter.page.goto(contribution_url)
        expect(state(drafter.page)).to_have_text("Sammanställd")
        expect(drafter.page.locator("section.contrib-section").filter(
            has=drafter.page.get_by_role("heading", level=3, name=re.compile("^9\\.")))
        ).to_contain_text("ordinarie linjeorganisationerna")

        # 6. The approver returns it once, then approves.
        approver.open_task("approve", f"Sammanställningen för {PERIOD}")
        approver.page.get_by_label(
            "Anmärkningar till samordnaren (obligatoriskt för att skicka tillbaka)").fill(
            APPROVER_REMARK)
        screenshot(approver.page, "flow-6-approver")
        approver.page.get_by_role("button", name="Skicka tillbaka").click()
        expect(approver.flash()).to_contain_text("Återsänd till samordnaren")

        coordinator.open_task("consolidate", f"Sammanställningen för {PERIOD}")
        expect(coordinator.page.locator(".periods-remarks")).to_contain_text(APPROVER_REMARK)
        coordinator.page.get_by_role("button", name="Skicka för fastställelse").click()
        expect(coordinator.flash()).to_contain_text("Skickad för fastställelse")

        approver.open_task("approve", f"Sammanställningen för {PERIOD}")
        # What the coordinator changed after the police review, and what approving locks.
        changed = approver.page.locator(".periods-changed")
        expect(changed.locator(f"[data-area='{AREA}'] ins")).to_contain_text(
            "ordinarie linjeorganisationerna")
        expect(approver.page.locator("#lock-what")).to_contain_text("5 områden")
        approver.page.get_by_role("button", name="Fastställ", exact=True).click()
        expect(approver.page.locator("#confirm-lock-error")).to_contain_text("Kryssa i rutan")
        expect(approver.page.get_by_label(
            "Jag har läst sammanställningen och fastställer den")).to_have_attribute(
            "aria-invalid", "true")
        assert_accessible(approver.page)
        approver.page.get_by_label("Jag har läst sammanställningen och fastställer den").check()
        approver.page.get_by_role("button", name="Fastställ", exact=True).click()
        expect(approver.flash()).to_contain_text("Fastställd")
        expect(approver.page.locator("[data-consolidation-state]")).to_have_text("Fastställd")
        expect(approver.page.locator("table.periods-areas .state")).to_have_text(
            ["Fastställd"] * 5)

        # 7. The auditor sees the period approved and Järva's history.
        auditor.page.goto("/periods")
        auditor.page.get_by_role("link", name=f"Lägesbild {PERIOD}").click()
        expect(auditor.page.locator("[data-step=approved]")).to_contain_text("5 av 5 fastställda")
        screenshot(auditor.page, "flow-7-period-approved")
        auditor.page.locator("table.periods-matrix").get_by_role("link", name=AREA).click()
        expect(state(auditor.page)).to_have_text("Fastställd")
        auditor.page.get_by_role("link", name="Historik").click()
        history = auditor.page.locator("main")
        expect(history).to_contain_text(REMARK)
        expect(history).to_contain_text("Polisen – lokalpolisområde Järva")
        expect(history).to_contain_text("Rinkeby-Kista stadsdelsförvaltning")
        expect(history).to_contain_text("Stadsledningskontoret")
        screenshot(auditor.page, "flow-8-history")
    finally:
        for person in (drafter, police, coordinator, approver, auditor):
            person.close()
