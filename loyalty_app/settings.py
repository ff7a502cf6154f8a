"""Application settings: one module, read from the environment once.

Why one place: the database URL, Redis URL, secret key and demo switch are needed by the
Reflex app, the Alembic migrations, the CLI and the tests alike; each reads them from here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SUPPORTED_LANGUAGES = ("en", "es", "ro", "ru")


def _instance_dir() -> Path:
    """The git-ignored folder for machine-local state (database file, generated secret)."""
    path = Path(os.environ.get("LOYALTY_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _load_or_create_secret(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else a key generated once into instance/.

    The key signs QR tokens and derives other secrets, so it must survive restarts and must
    never be committed: it lives in the git-ignored instance folder with 0600 permissions.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; see README "Configuration" for every variable."""

    instance_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    default_language: str
    demo_mode: bool
    app_origin: str
    # Server-side session lifetimes (seconds). Members keep the app on their home screen,
    # so their sessions live long; staff and admins hold more power, so theirs are short.
    member_idle_timeout: int = 30 * 24 * 3600
    member_absolute_timeout: int = 90 * 24 * 3600
    staff_idle_timeout: int = 30 * 60
    staff_absolute_timeout: int = 12 * 3600
    # Login throttling: failures allowed per window, per account and per IP.
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window: int = 15 * 60
    db_pool_size: int = 5
    db_max_overflow: int = 10
    # Keys for member QR codes, newest first: {"kid": key}. The first signs; all verify.
    member_code_keys: tuple[tuple[str, str], ...] = ()
    # CRM webhooks may target http://localhost / 127.0.0.1 (tests, a CRM on the dev machine).
    # Off in production: endpoints must be https and public (no private networks, SSRF).
    webhook_allow_http_localhost: bool = False

    def code_keys(self) -> dict[str, bytes]:
        """Signing keys for member codes; without QR_SIGNING_KEYS one is derived from SECRET_KEY."""
        if self.member_code_keys:
            return {kid: key.encode() for kid, key in self.member_code_keys}
        derived = hashlib.sha256(f"member-code:{self.secret_key}".encode()).digest()
        return {"k0": derived}

    def current_code_kid(self) -> str:
        return self.member_code_keys[0][0] if self.member_code_keys else "k0"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per process."""
    instance_dir = _instance_dir()
    default_db = f"sqlite:///{instance_dir / 'loyalty.db'}"
    language = os.environ.get("DEFAULT_LANGUAGE", "en")
    if language not in SUPPORTED_LANGUAGES:
        language = "en"
    return Settings(
        instance_dir=instance_dir,
        database_url=os.environ.get("DATABASE_URL") or default_db,
        redis_url=os.environ.get("REFLEX_REDIS_URL") or None,
        secret_key=_load_or_create_secret(instance_dir),
        default_language=language,
        demo_mode=_bool("DEMO_MODE", True),
        app_origin=os.environ.get("APP_ORIGIN", "http://localhost:3000").rstrip("/"),
        db_pool_size=int(os.environ.get("DB_POOL_SIZE", "5")),
        db_max_overflow=int(os.environ.get("DB_MAX_OVERFLOW", "10")),
        member_code_keys=_parse_keys(os.environ.get("QR_SIGNING_KEYS", "")),
        webhook_allow_http_localhost=_bool("WEBHOOK_ALLOW_HTTP_LOCALHOST", False),
    )


def _parse_keys(raw: str) -> tuple[tuple[str, str], ...]:
    """``"k2:secret2,k1:secret1"`` -> (("k2", "secret2"), ("k1", "secret1")); first one signs."""
    pairs = []
    for item in raw.split(","):
        kid, sep, key = item.strip().partition(":")
        if sep and kid and key:
            pairs.append((kid, key))
    return tuple(pairs)
