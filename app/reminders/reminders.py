"""Who is reminded of what, on a given day. Each reminder is queued at most once (per task,
deadline, day before it and person), so running the command twice, or on two servers, sends
nothing twice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.notifications.handoffs import members
from app.notifications.outbox import enqueue
from app.web.tasks import GROUPS, grouped_tasks
from workflows.roles import Role

# Groups whose work is someone else's now (a drafter waiting on the police): not reminded.
NOT_YOURS = ("submitted",)


@dataclass
class Reminded:
    before: int = 0
    overdue: int = 0
    coordinators: int = 0


def remind(on: date) -> Reminded:
    """Queue the reminders due on `on` (a date in Stockholm)."""
    days_before = current_app.config["REMIND_DAYS_BEFORE"]
    reminded = Reminded()
    missed: dict[str, tuple] = {}
    users = db.session.scalars(select(User).where(User.active).order_by(User.id)).all()
    for user in users:
        for group in grouped_tasks(user, on):
            if group.key in NOT_YOURS:
                continue
            for task in group.tasks:
                days_left = (task.deadline - on).days
                once = f"remind:{task.kind}-{task.subject.id}:{group.key}:{task.deadline}"
                context = {"task": task, "what": GROUPS[group.key][0],
                           "deadline": task.deadline, "path": _path(task)}
                if days_left in days_before:
                    reminded.before += enqueue([user], "reminder.before", "reminder_before",
                                               once=f"{once}:{days_left}",
                                               days_left=days_left, **context)
                elif days_left == -1:
                    reminded.overdue += enqueue([user], "reminder.overdue",
                                                "reminder_overdue", once=f"{once}:missed",
                                                **context)
                    missed.setdefault(once, (task, group.key, []))[2].append(user)
    for once, (task, group_key, holders) in missed.items():
        coordinators = [c for c in members(Role.CONSOLIDATOR) if c not in holders]
        reminded.coordinators += enqueue(
            coordinators, "reminder.overdue_coordinator", "reminder_coordinator",
            once=f"{once}:coordinator", task=task, what=GROUPS[group_key][0],
            deadline=task.deadline, holders=holders, path=_path(task))
    return reminded


def _path(task) -> str:
    if task.kind == "consolidation":
        return f"/periods/{task.subject.period_id}/consolidation"
    return f"/contributions/{task.subject.id}"
