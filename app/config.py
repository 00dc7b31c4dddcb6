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
LAGESBILD_WITNESS_PATH     the append-only file (JSON Lines) the signed checkpoints go to,
                           outside the database; required in production; elsewhere
                           instance/audit-witness.jsonl
LAGESBILD_WITNESS_KEY      the Ed25519 private key (PEM file) that signs them; required in
                           production; elsewhere generated once into instance/audit-witness-key.pem
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


def settings_from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    environment = _setting("ENV") or "development"
    if environment not in ("production", "development"):
        raise ConfigurationError(f"{PREFIX}ENV must be production or development, "
                                 f"not {environment!r}.")
    production = environment == "production"
    https = _flag("HTTPS", default=production)
    default_db = f"sqlite:///{instance / 'lagesbild.sqlite'}"
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
        **_witness(production),
    }
