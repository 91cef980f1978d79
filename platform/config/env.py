"""Every environment variable the platform reads is read here, and only here."""

from __future__ import annotations

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parents[2]

env = environ.Env()

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def secret(name: str, *, default: str | None = None, required: bool = False) -> str | None:
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets).

    With ``required=True`` a missing secret stops start-up with a message naming the
    variable, never with the value of anything.
    """
    value = os.environ.get(name)
    file_name = os.environ.get(f"{name}_FILE")
    if not value and file_name:
        try:
            value = Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points to an unreadable file: {exc.strerror}") from None
    if not value:
        if required:
            raise ImproperlyConfigured(f"The {name} environment variable (or {name}_FILE) must be set.")
        return default
    return value


def database_config(*, sqlite_path: Path) -> dict:
    """PostgreSQL (or whatever ``DATABASE_URL`` names) when set, else the embedded SQLite."""
    if os.environ.get("DATABASE_URL"):
        config = env.db_url("DATABASE_URL")
        config.setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
        config["CONN_HEALTH_CHECKS"] = True
        if config.get("ENGINE", "").endswith("postgresql") and env.bool("DB_PREPARED_STATEMENTS", default=True):
            # Parameters bound by the server and statements prepared once a connection has run
            # them a few times: PostgreSQL then skips parsing and planning the order pipeline's
            # statements (about half their server CPU). Behind a pooler in transaction mode that
            # cannot keep prepared statements, set DB_PREPARED_STATEMENTS=false.
            options = config.setdefault("OPTIONS", {})
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", env.int("DB_PREPARE_THRESHOLD", default=5))
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(sqlite_path),
        # web, worker and beat share one file: wait for locks instead of failing,
        # and take the write lock at BEGIN so two writers never deadlock.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def fernet_keys(*, required: bool, fallback: str) -> list[str]:
    """``FERNET_KEYS``: comma-separated; the first key encrypts, every key decrypts."""
    raw = secret("FERNET_KEYS", required=required)
    if not raw:
        return [fallback]
    return [key.strip() for key in raw.split(",") if key.strip()]
