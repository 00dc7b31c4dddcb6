"""Settings from the environment, one prefix (LAGESBILD_), documented in the README's table.

LAGESBILD_ENV              "production" makes a secret key required and cookies Secure
LAGESBILD_DATABASE_URL     SQLAlchemy URL (DATABASE_URL is read too); default: an SQLite file
                           under instance/
LAGESBILD_SECRET_KEY       session signing key, the same on every app server (SECRET_KEY is read
                           too); outside production, generated once into instance/secret_key
LAGESBILD_HTTPS            1: cookies only over HTTPS (the default in production), 0: not
LAGESBILD_TRUSTED_PROXIES  how many reverse proxies stand in front (their X-Forwarded-For/-Proto/
                           -Host are believed, so the audit trail records the client's address)
LAGESBILD_SESSION_IDLE_MINUTES  a session ends after this long without a request (30)
LAGESBILD_SESSION_MAX_HOURS     and this long after sign-in, whatever happens (10)
LAGESBILD_LOGIN_LIMIT_PER_ACCOUNT  failed sign-ins allowed per account ("10 per 15 minutes")
LAGESBILD_LOGIN_LIMIT_PER_ADDRESS  and per client address ("50 per 15 minutes")
LAGESBILD_INSTANCE_PATH    the folder the app writes to (default: instance/ beside the code in a
                           checkout, <venv>/var/app-instance when installed from the wheel)
LAGESBILD_LOG_FORMAT       json (the default in production: one JSON object per line) or text
LAGESBILD_EXTERNAL_URL     the address people reach the app at, for links in messages
LAGESBILD_SMTP_HOST / _PORT / _USERNAME / _PASSWORD / _STARTTLS   the mail relay (no host: the
                           outbox fills and nothing is sent); LAGESBILD_MAIL_FROM the sender
LAGESBILD_REMIND_DAYS_BEFORE  reminders this many days before a deadline ("3,1")
LAGESBILD_RATELIMIT_STORAGE_URL    where those are counted: memory:// (each process alone, the
                                   default) or redis://host:port/db (every app server together)
LAGESBILD_MAX_UPLOAD_MB    the largest file a form takes (10, the document import's limit); a
                           request body over it (plus 1 MB for the form around the file) is
                           refused with 413 before it is read
LAGESBILD_WITNESS_PATH     the append-only file (JSON Lines) the signed checkpoints go to,
                           outside the database; required in production; elsewhere
                           instance/audit-witness.jsonl
LAGESBILD_WITNESS_KEY      the Ed25519 private key (PEM file) that signs them; required in
                           production; elsewhere generated once into instance/audit-witness-key.pem
LAGESBILD_OIDC_ISSUER      the city's OpenID Connect provider (its issuer URL: discovery is read
                           from <issuer>/.well-known/openid-configuration); unset: no sign-in
                           through it. With it, _CLIENT_ID and _CLIENT_SECRET are required
LAGESBILD_OIDC_SCOPES      the scopes asked for ("openid email profile")
LAGESBILD_OIDC_GROUPS_CLAIM  the ID token's claim that lists the user's groups ("groups")
LAGESBILD_OIDC_PROVIDER_NAME  the name on the sign-in button ("Logga in med <name>")
LAGESBILD_OIDC_LINK_BY_EMAIL  1: a first sign-in whose ID token carries a verified e-mail
                           (email_verified true) of an existing local account takes that
                           account over; 0 (default): it is refused, an admin links it
LAGESBILD_LOCAL_PASSWORDS  0: no sign-in with a local password (only through the provider)
LAGESBILD_ADMIN_CONTACT    whom to ask for access, shown to a person the provider knows and
                           no group mapping gives a role
LAGESBILD_DOCX_TEMPLATE    the city's Word template (a .docx file: its fonts, header with the logo,
                           page set-up and styles) the exported documents are written into;
                           unset: the neutral one in the package (app/documents/template.py)
LAGESBILD_WITNESS_GRACE_SECONDS  how long a committed event may wait for its witness line before
                           `audit verify` reports it (60)
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PREFIX = "LAGESBILD_"


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed: the app refuses to start, naming it."""


def _setting(name: str, *legacy: str) -> str | None:
    for key in (PREFIX + name, *legacy):
        value = os.environ.get(key)
        if value:
            return value
    return None


def _flag(name: str, default: bool) -> bool:
    value = _setting(name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(f"{PREFIX}{name} must be 1 or 0, not {value!r}.")


def _count(name: str, default: int = 0, low: int = 0, high: int = 10) -> int:
    value = _setting(name) or str(default)
    # isascii: "²".isdigit() is True too.
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise ConfigurationError(f"{PREFIX}{name} must be a whole number from {low} to "
                                 f"{high}, not {value!r}.")
    return int(value)


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = _setting(name) or default
    if value not in allowed:
        raise ConfigurationError(f"{PREFIX}{name} must be {' or '.join(allowed)}, "
                                 f"not {value!r}.")
    return value


def _days(name: str, default: str) -> tuple[int, ...]:
    value = _setting(name) or default
    parts = [part.strip() for part in value.split(",")]
    if not all(p.isascii() and p.isdigit() and 0 < int(p) <= 60 for p in parts):
        raise ConfigurationError(f"{PREFIX}{name} must list days from 1 to 60, such as "
                                 f"'3,1', not {value!r}.")
    return tuple(sorted({int(p) for p in parts}, reverse=True))


def _external_url() -> str:
    value = _setting("EXTERNAL_URL") or "http://127.0.0.1:5000"
    if not value.startswith(("https://", "http://")) or any(ch.isspace() for ch in value):
        raise ConfigurationError(f"{PREFIX}EXTERNAL_URL must be the app's address, such as "
                                 f"https://lagesbild.stad.se, not {value!r}.")
    return value


def _rate(name: str, default: str) -> str:
    from limits import parse

    value = _setting(name) or default
    try:
        parse(value)
    except ValueError:
        raise ConfigurationError(f"{PREFIX}{name} must read like '10 per 15 minutes', "
                                 f"not {value!r}.") from None
    return value


RATE_LIMIT_STORES = ("memory", "redis", "rediss", "redis+unix", "valkey", "valkeys")


def _rate_limit_store() -> str:
    value = _setting("RATELIMIT_STORAGE_URL") or "memory://"
    if value.split("://")[0] not in RATE_LIMIT_STORES or "://" not in value:
        raise ConfigurationError(f"{PREFIX}RATELIMIT_STORAGE_URL must be memory:// or "
                                 f"redis://host:port/db, not {value!r}.")
    return value


def instance_path() -> str | None:
    """LAGESBILD_INSTANCE_PATH made absolute, or None for Flask's default."""
    value = _setting("INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None


def _secret_key(instance_path: Path, production: bool) -> str:
    from_env = _setting("SECRET_KEY", "SECRET_KEY")
    if from_env:
        return from_env
    if production:
        raise ConfigurationError(
            f"{PREFIX}SECRET_KEY must be set in production: the same long random value on "
            "every app server (e.g. python3 -c 'import secrets; print(secrets.token_hex(32))').")
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # Created with owner-only permissions: the key signs every session.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def _witness(production: bool) -> dict:
    """Where the signed checkpoints go and the key that signs them (app/audit/witness.py fills
    in the development defaults; a test app without a witness path has none)."""
    path, key = _setting("WITNESS_PATH"), _setting("WITNESS_KEY")
    if production and not (path and key):
        raise ConfigurationError(
            f"{PREFIX}WITNESS_PATH and {PREFIX}WITNESS_KEY must be set in production: an "
            "append-only file outside the database (ideally on another host) for the audit "
            "trail's signed checkpoints, and the Ed25519 private key (PEM) that signs them "
            "(e.g. openssl genpkey -algorithm ed25519 -out witness-key.pem).")
    return {"AUDIT_WITNESS_PATH": path, "AUDIT_WITNESS_KEY": key,
            "AUDIT_WITNESS_GRACE_SECONDS": _count("WITNESS_GRACE_SECONDS", 60, 1, 24 * 3600)}


def _identity_provider() -> dict:
    """The city's OpenID Connect provider (app/identity), if any, and whether local
    passwords still sign in."""
    issuer = _setting("OIDC_ISSUER")
    local_passwords = _flag("LOCAL_PASSWORDS", default=True)
    settings = {"OIDC_ISSUER": None, "LOCAL_PASSWORDS": local_passwords,
                "ADMIN_CONTACT": _setting("ADMIN_CONTACT")}
    if issuer is None:
        if not local_passwords:
            raise ConfigurationError(f"{PREFIX}LOCAL_PASSWORDS=0 needs {PREFIX}OIDC_ISSUER: "
                                     "else nobody can sign in.")
        return settings
    if not issuer.startswith(("https://", "http://")) or any(ch.isspace() for ch in issuer):
        raise ConfigurationError(f"{PREFIX}OIDC_ISSUER must be the provider's issuer URL, "
                                 f"such as https://login.microsoftonline.com/<tenant>/v2.0, "
                                 f"not {issuer!r}.")
    client_id, secret = _setting("OIDC_CLIENT_ID"), _setting("OIDC_CLIENT_SECRET")
    if not (client_id and secret):
        raise ConfigurationError(f"{PREFIX}OIDC_CLIENT_ID and {PREFIX}OIDC_CLIENT_SECRET must "
                                 f"be set with {PREFIX}OIDC_ISSUER (the app's registration at "
                                 "the provider).")
    scopes = " ".join((_setting("OIDC_SCOPES") or "openid email profile").replace(",", " ")
                      .split())
    if "openid" not in scopes.split():
        raise ConfigurationError(f"{PREFIX}OIDC_SCOPES must include openid, not {scopes!r}.")
    settings.update({
        "OIDC_ISSUER": issuer,
        "OIDC_CLIENT_ID": client_id,
        "OIDC_CLIENT_SECRET": secret,
        "OIDC_SCOPES": scopes,
        "OIDC_GROUPS_CLAIM": _setting("OIDC_GROUPS_CLAIM") or "groups",
        "OIDC_PROVIDER_NAME": _setting("OIDC_PROVIDER_NAME") or issuer.split("://")[1]
        .split("/")[0],
        "OIDC_LINK_BY_EMAIL": _flag("OIDC_LINK_BY_EMAIL", default=False),
    })
    return settings


def settings_from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    environment = _setting("ENV") or "development"
    if environment not in ("production", "development"):
        raise ConfigurationError(f"{PREFIX}ENV must be production or development, "
                                 f"not {environment!r}.")
    production = environment == "production"
    https = _flag("HTTPS", default=production)
    default_db = f"sqlite:///{instance / 'lagesbild.sqlite'}"
    upload_bytes = 2**20 * _count("MAX_UPLOAD_MB", 10, 1, 1024)
    return {
        "LAGESBILD_ENV": environment,
        "SQLALCHEMY_DATABASE_URI": _setting("DATABASE_URL", "DATABASE_URL") or default_db,
        "SECRET_KEY": _secret_key(instance, production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "TRUSTED_PROXIES": _count("TRUSTED_PROXIES"),
        "SESSION_IDLE_SECONDS": 60 * _count("SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
        "SESSION_MAX_SECONDS": 3600 * _count("SESSION_MAX_HOURS", 10, 1, 7 * 24),
        "WTF_CSRF_TIME_LIMIT": None,
        "LOGIN_LIMIT_PER_ACCOUNT": _rate("LOGIN_LIMIT_PER_ACCOUNT", "10 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": _rate("LOGIN_LIMIT_PER_ADDRESS", "50 per 15 minutes"),
        "RATELIMIT_STORAGE_URI": _rate_limit_store(),
        "EXTERNAL_URL": _external_url(),
        "SMTP_HOST": _setting("SMTP_HOST"),
        "SMTP_PORT": _count("SMTP_PORT", 25, 1, 65535),
        "SMTP_USERNAME": _setting("SMTP_USERNAME"),
        "SMTP_PASSWORD": _setting("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _flag("SMTP_STARTTLS", default=production),
        "MAIL_FROM": _setting("MAIL_FROM") or "Lägesbild <lagesbild@localhost>",
        "REMIND_DAYS_BEFORE": _days("REMIND_DAYS_BEFORE", "3,1"),
        "LOG_FORMAT": _choice("LOG_FORMAT", ("json", "text"),
                              default="json" if production else "text"),
        # Werkzeug refuses a larger body (413) as it reads it, a chunked one included, instead
        # of reading it whole; 1 MB on top for the form's other fields around the file.
        "MAX_UPLOAD_BYTES": upload_bytes,
        "MAX_CONTENT_LENGTH": upload_bytes + 2**20,
        "DOCX_TEMPLATE": _setting("DOCX_TEMPLATE"),
        **_witness(production),
        **_identity_provider(),
    }
