"""A small, real OpenID Connect provider for `make demo` and the tests, and for nothing else:
it signs in whoever is chosen, without a password. It serves over HTTP on 127.0.0.1 only:
discovery, JWKS, authorize, token (checks the client's secret, the redirect URI, that the code
is used once, and the PKCE verifier against the S256 challenge) and an end-session endpoint.
ID tokens are RS256, signed with joserfc (Authlib's JOSE library).

Two ways to say who signs in:
- the demo (`python -m app.demo.oidc_provider`) gives it a directory of people (DEMO_PEOPLE):
  authorize shows a page to pick one of them;
- a test sets `person` (signed in without a page) and how the provider misbehaves (`tweaks`:
  claims to override in the ID token, or `sign_with_other_key`).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# The one client it knows: the demo's (and the tests') Lägesbild.
CLIENT_ID = "lagesbild-demo"
CLIENT_SECRET = "lagesbild-demo-secret"
KEY_ID = "demo-key-1"
HOST = "127.0.0.1"  # never another interface: anyone who reaches it can sign in as anyone
DEMO_PORT = 5001
DEMO_PROVIDER_NAME = "Stadens demoinloggning"

# The demo's directory. The reviewer group is mapped in the demo data (app/demo/loader.py) to
# reviewer × the Järva police × Järva; Kim Lund is the person the README's walk has the admin
# create first, so her first sign-in here takes over that account (linked by verified e-mail).
REVIEWER_GROUP = "lagesbild-granskare-jarva"
STAFF_GROUP = "alla-medarbetare"
DEMO_PEOPLE = {
    "kim": {"sub": "demo-kim-lund", "email": "kim.lund@demo.lagesbild.se",
            "email_verified": True, "name": "Kim Lund",
            "groups": [REVIEWER_GROUP, STAFF_GROUP]},
    "noor": {"sub": "demo-noor-haddad", "email": "noor.haddad@demo.lagesbild.se",
             "email_verified": True, "name": "Noor Haddad",
             "groups": [REVIEWER_GROUP, STAFF_GROUP]},
    "alex": {"sub": "demo-alex-strand", "email": "alex.strand@demo.lagesbild.se",
             "email_verified": True, "name": "Alex Strand", "groups": [STAFF_GROUP]},
}


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
    # With a directory, authorize asks which of these people signs in (the demo).
    people: dict = field(default_factory=dict)
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
        args = request.form if request.method == "POST" else request.args
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
        person = self.person
        if self.people:
            if request.method != "POST":
                return self.chooser(args)
            if args.get("person") not in self.people:
                return Response("choose one of the listed people", 400)
            person = self.people[args["person"]]
        code = secrets.token_urlsafe(24)
        self.codes[code] = {"redirect_uri": redirect_uri, "nonce": args.get("nonce"),
                            "challenge": args["code_challenge"], "person": dict(person)}
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

    def chooser(self, args) -> Response:
        """The demo's sign-in page: one button per person, the request's parameters kept."""
        kept = "".join(f'<input type="hidden" name="{html.escape(name)}" '
                       f'value="{html.escape(value)}">' for name, value in args.items(multi=True))
        buttons = "".join(
            f'<li><button type="submit" name="person" value="{html.escape(key)}">'
            f'{html.escape(person["name"])}</button> {html.escape(person["email"])}, '
            f'grupper: {html.escape(", ".join(person["groups"]))}</li>'
            for key, person in self.people.items())
        page = (f'<!doctype html><html lang="sv"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f'<title>{DEMO_PROVIDER_NAME}</title></head><body><main>'
                f'<h1>{DEMO_PROVIDER_NAME}</h1>'
                f'<p><strong>Endast för demo och test:</strong> här loggar vem som helst in '
                f'som vem som helst, utan lösenord.</p>'
                f'<form method="post" action="/authorize">{kept}'
                f'<fieldset><legend>Vem loggar in?</legend><ul>{buttons}</ul></fieldset>'
                f'</form></main></body></html>')
        return Response(page, 200, content_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})

    def logout(self, request: Request) -> Response:
        return Response("signed out at the provider", 200)


def _json(document: dict, status: int = 200) -> Response:
    return Response(json.dumps(document), status, content_type="application/json",
                    headers={"Cache-Control": "no-store"})


def _redirect(uri: str, params: dict) -> Response:
    separator = "&" if "?" in uri else "?"
    return Response("", 302, headers={"Location": uri + separator + urlencode(params)})


class RunningProvider:
    """The provider on 127.0.0.1 (a free port unless given), in a background thread."""

    def __init__(self, port: int = 0, people: dict | None = None) -> None:
        self.provider = LocalProvider()
        self.provider.reset()
        self.provider.people = dict(people or {})
        self.server = make_server(HOST, port, self.provider, threaded=True)
        self.provider.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       name="oidc-provider", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


def demo_environment(port: int = DEMO_PORT) -> dict[str, str]:
    """The app's settings (LAGESBILD_OIDC_*) for signing in through the demo provider."""
    return {"LAGESBILD_OIDC_ISSUER": f"http://{HOST}:{port}",
            "LAGESBILD_OIDC_CLIENT_ID": CLIENT_ID,
            "LAGESBILD_OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "LAGESBILD_OIDC_PROVIDER_NAME": DEMO_PROVIDER_NAME,
            "LAGESBILD_OIDC_LINK_BY_EMAIL": "1"}


WARNING = """
************************************************************************************
  DEMO IDENTITY PROVIDER - for `make demo` and the tests only, NEVER in production.
  Anyone who reaches it signs in as anyone, without a password. Bound to {host} only.
  Issuer: {issuer}
************************************************************************************
"""


def main(argv: list[str] | None = None) -> int:
    """`python -m app.demo.oidc_provider [--port N] [-- COMMAND ...]`: serve the demo's people
    until stopped; with a command (make demo's `flask run`), run it with the app's settings
    for this provider added to its environment, and stop when it stops."""
    parser = argparse.ArgumentParser(description="The demo's OpenID Connect provider "
                                                 "(demo and tests only).")
    parser.add_argument("--port", type=int, default=DEMO_PORT)
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="-- and a command to run with LAGESBILD_OIDC_* set for it")
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if os.environ.get("LAGESBILD_ENV") == "production":
        print("Refused: the demo identity provider never runs with LAGESBILD_ENV=production.",
              file=sys.stderr)
        return 2
    running = RunningProvider(options.port, DEMO_PEOPLE)
    print(WARNING.format(host=HOST, issuer=running.provider.issuer), file=sys.stderr,
          flush=True)
    try:
        if not command:
            running.thread.join()
            return 0
        # What the caller set wins: `LAGESBILD_OIDC_LINK_BY_EMAIL=0 make demo` still works.
        environment = {**demo_environment(running.server.server_port), **os.environ}
        child = subprocess.Popen(command, env=environment)
        # Stopped by a signal of its own (not the terminal's Ctrl-C): the app stops too.
        previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl-C reaches the child too: let it finish stopping
            return child.wait()
        finally:
            signal.signal(signal.SIGTERM, previous)
    except KeyboardInterrupt:
        return 0
    finally:
        running.stop()


if __name__ == "__main__":
    sys.exit(main())
