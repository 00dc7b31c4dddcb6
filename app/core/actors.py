"""Who acts. Services take the actor explicitly; there is no implicit "nobody" that passes checks.

An administrator at the server's command line acts as `SystemActor`, which only the
administrative operations accept, and which the audit trail records by name and OS account.
"""
from __future__ import annotations

import getpass
from dataclasses import dataclass

from app.models import User


@dataclass(frozen=True)
class SystemActor:
    name: str
    organisation_name: str = "system"


def command_line_actor() -> SystemActor:
    try:
        account = getpass.getuser()
    except Exception:  # no login name in some containers
        account = "unknown"
    return SystemActor(name=f"command line ({account})")


Actor = User | SystemActor
