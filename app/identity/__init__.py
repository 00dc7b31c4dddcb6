"""Sign-in through the city's identity provider (OpenID Connect, provider.py), the group
mappings that give its users their roles (operations.py), their admin page (routes.py) and
command line (cli.py: flask groups map|unmap|list)."""
from __future__ import annotations

from flask import Flask, current_app

from app.core.messages import N_


def _is_admin(user) -> bool:
    from app.core.access import roles_for
    from app.models import Role

    return Role.ADMIN in roles_for(user, None)


def register(app: Flask) -> None:
    from app.identity import provider
    from app.identity.cli import groups_cli
    from app.identity.routes import identity
    from app.web.menu import register_menu_item

    provider.install(app)
    app.register_blueprint(identity)
    app.cli.add_command(groups_cli)
    register_menu_item("identity.group_mappings", N_("Group mappings"), 90, visible=_is_admin)

    @app.context_processor
    def _sign_in_options():
        config = current_app.config
        return {"oidc_provider_name": config.get("OIDC_PROVIDER_NAME")
                if provider.configured() else None,
                "local_passwords": config.get("LOCAL_PASSWORDS", True)}
