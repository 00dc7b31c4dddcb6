"""A small, real OpenID Connect provider for the tests, served over HTTP on 127.0.0.1 from a
thread: discovery, JWKS, authorize (signs in whoever the test says, without a page), token
(checks the client's secret, the redirect URI, that the code is used once, and the PKCE
verifier against the S256 challenge) and an end-session endpoint. ID tokens are RS256, signed
with joserfc (Authlib's JOSE library).

A test says who signs in next (`person`) and how the provider misbehaves (`tweaks`: claims to
override in the ID token, or `sign_with_other_key`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "lagesbild-test"
CLIENT_SECRET = "test-client-secret"
KEY_ID = "test-key-1"


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class LocalProvider:
    issuer: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}))
    # Same key id, another key: a token signed with it must not verify.
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(
        2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}))
    person: dict = field(default_factory=dict)
    tweaks: dict = field(default_factory=dict)
    sign_with_other_key: bool = False
    end_session: bool = True
    codes: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)

    def reset(self) -> None:
        self.person = {"sub": "person-1", "email": "anna.berg@example.se",
                       "email_verified": True, "name": "Anna Berg", "groups": []}
        self.tweaks = {}
        self.sign_with_other_key = False
        self.end_session = True
        self.codes.clear()
        self.token_requests.clear()

    # -- the endpoints ------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        routes = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                  "/authorize": self.authorize, "/token": self.token,
                  "/logout": self.logout}
        handler = routes.get(request.path)
        response = handler(request) if handler else Response("not found", 404)
        return response(environ, start_response)

    def discovery(self, request: Request) -> Response:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
        }
        if self.end_session:
            document["end_session_endpoint"] = f"{self.issuer}/logout"
        return _json(document)

    def jwks(self, request: Request) -> Response:
        return _json(KeySet([self.key]).as_dict(private=False))

    def authorize(self, request: Request) -> Response:
        args = request.args
        if args.get("client_id") != CLIENT_ID or not args.get("redirect_uri"):
            return Response("unknown client or no redirect_uri", 400)
        redirect_uri = args["redirect_uri"]
        problem = None
        if args.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif not args.get("code_challenge") or args.get("code_challenge_method") != "S256":
            problem = "invalid_request"  # PKCE is required here
        elif "openid" not in args.get("scope", "").split():
            problem = "invalid_scope"
        if problem:
            return _redirect(redirect_uri, {"error": problem, "state": args.get("state", "")})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect_uri, "nonce": args.get("nonce"),
                            "challenge": args["code_challenge"], "person": dict(self.person)}
        return _redirect(redirect_uri, {"code": code, "state": args.get("state", "")})

    def token(self, request: Request) -> Response:
        form = request.form
        self.token_requests.append(dict(form))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            secret = request.authorization.password
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return _json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
        if grant is None or grant["redirect_uri"] != form.get("redirect_uri"):
            return _json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier")
        if not verifier or s256(verifier) != grant["challenge"]:
            return _json({"error": "invalid_grant",
                          "error_description": "PKCE verification failed"}, 400)
        moment = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": moment, "exp": moment + 300,
                  "nonce": grant["nonce"], **grant["person"]}
        claims.update(self.tweaks)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.other_key if self.sign_with_other_key else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)
        return _json({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                      "expires_in": 300, "id_token": id_token})

    def logout(self, request: Request) -> Response:
        return Response("signed out at the provider", 200)


def _json(document: dict, status: int = 200) -> Response:
    return Response(json.dumps(document), status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _redirect(uri: str, params: dict) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response("", 302, headers={"Location": uri + separator + urlencode(params)})


class RunningProvider:
    """The provider on a free port, in a background thread."""

    def __init__(self) -> None:
        self.provider = LocalProvider()
        self.provider.reset()
        self.server = make_server("127.0.0.1", 0, self.provider, threaded=True)
        self.provider.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="oidc-provider", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
