"""The OpenID Connect client (Authlib): the authorisation code flow with PKCE (S256), state and
nonce kept in the signed session and used once, the ID token's signature checked against the
provider's JWKS (from discovery) and its issuer, audience, expiry and nonce validated.

Every fault is turned into a SignInFault whose reason goes to the trail; the person sees one
generic message (a detail would help an attacker more than her).
"""
from __future__ import annotations

import logging

from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
)
from requests import RequestException

from app.identity.operations import Identity

log = logging.getLogger(__name__)
CLIENT_NAME = "city"
EXTENSION = "lagesbild_identity"
# Authlib allows 120 s of clock skew on exp/iat by default; a minute is plenty between servers
# that keep time.
LEEWAY_SECONDS = 60


class SignInFault(Exception):
    """A token or state fault: refused, with this reason in the trail."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def install(app: Flask) -> None:
    """Register the provider's client when one is configured."""
    if not app.config.get("OIDC_ISSUER"):
        return
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    client = oauth.register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256",
                       "default_timeout": 10},
    )
    app.extensions[EXTENSION] = client


def configured() -> bool:
    return EXTENSION in current_app.extensions


def _client():
    return current_app.extensions[EXTENSION]


def _metadata() -> dict:
    """Discovery, read once per process; its issuer must be the one configured."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (RequestException, ValueError) as error:
        client.server_metadata = {}
        raise SignInFault(f"discovery failed: {type(error).__name__}") from error
    if metadata.get("issuer") != current_app.config["OIDC_ISSUER"]:
        client.server_metadata = {}
        raise SignInFault("discovery names another issuer")
    return metadata


def authorize_redirect(redirect_uri: str):
    """The redirect to the provider's authorisation endpoint (state, nonce and the PKCE
    verifier are kept in the session until the callback)."""
    _metadata()
    try:
        return _client().authorize_redirect(redirect_uri)
    except (RequestException, OAuthError) as error:
        raise SignInFault(f"authorisation request failed: {type(error).__name__}") from error


def finish() -> tuple[Identity, str]:
    """Validate the callback: the state, the token response and the ID token. Returns who the
    provider says signed in, and the raw ID token (for the provider's logout)."""
    config = current_app.config
    metadata = _metadata()
    try:
        # Authlib checks the audience only through azp unless told: both must be ours.
        token = _client().authorize_access_token(
            leeway=LEEWAY_SECONDS,
            claims_options={"iss": {"essential": True, "value": metadata["issuer"]},
                            "aud": {"essential": True, "value": config["OIDC_CLIENT_ID"]}})
    except MismatchingStateError as error:
        raise SignInFault("state missing, unknown or already used") from error
    except OAuthError as error:
        # The provider's error, as the callback or the token endpoint gave it.
        raise SignInFault(f"provider refused: {error.error}"[:200]) from error
    except BadSignatureError as error:
        raise SignInFault("ID token signature does not verify") from error
    except ExpiredTokenError as error:
        raise SignInFault("ID token expired") from error
    except ClaimError as error:
        raise SignInFault(f"ID token claim '{error.claim}' invalid or missing"[:200]) from error
    except InvalidKeyIdError as error:
        raise SignInFault("ID token signed with a key not in the JWKS") from error
    except JoseError as error:
        raise SignInFault(f"ID token unreadable: {error.error}"[:200]) from error
    except RequestException as error:
        raise SignInFault(f"token request failed: {type(error).__name__}") from error
    except ValueError as error:  # a body that is not JSON, an ID token that is not a JWT
        raise SignInFault(f"token response unreadable: {type(error).__name__}") from error
    claims = token.get("userinfo")
    if not claims or "id_token" not in token:
        raise SignInFault("no ID token in the token response")
    if claims.get("iss") != metadata["issuer"]:
        raise SignInFault("ID token claim 'iss' invalid or missing")
    audience = claims.get("aud")
    if config["OIDC_CLIENT_ID"] not in (audience if isinstance(audience, list) else [audience]):
        raise SignInFault("ID token claim 'aud' invalid or missing")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise SignInFault("ID token claim 'sub' invalid or missing")
    groups = claims.get(config["OIDC_GROUPS_CLAIM"]) or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list):
        raise SignInFault("groups claim is not a list")
    email = claims.get("email")
    identity = Identity(
        issuer=metadata["issuer"], subject=subject,
        email=email if isinstance(email, str) else None,
        email_verified=claims.get("email_verified") is True,
        name=claims.get("name") if isinstance(claims.get("name"), str) else None,
        groups=tuple(sorted({g for g in groups if isinstance(g, str) and g})))
    return identity, token["id_token"]


def logout_url(id_token: str | None, after_logout: str) -> str | None:
    """The provider's end_session_endpoint for this user, if discovery names one."""
    try:
        metadata = _metadata()
    except SignInFault as fault:
        log.warning("no provider logout: %s", fault.reason)
        return None
    endpoint = metadata.get("end_session_endpoint")
    if not endpoint:
        return None
    params = {"client_id": current_app.config["OIDC_CLIENT_ID"],
              "post_logout_redirect_uri": after_logout}
    if id_token:
        params["id_token_hint"] = id_token
    return add_params_to_uri(endpoint, params)
