"""Settings from the environment.

DATABASE_URL  SQLAlchemy URL; default: an SQLite file under instance/.
SECRET_KEY    session signing key; default: generated once into instance/secret_key.
"""
import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        # Created with owner-only permissions: the key signs every session.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def settings_from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    default_db = f"sqlite:///{instance / 'lagesbild.sqlite'}"
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("DATABASE_URL", default_db),
        "SECRET_KEY": _secret_key(instance),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
    }
