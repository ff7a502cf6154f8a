"""Server-side sign-in sessions (OWASP ASVS: new session at login, idle and absolute timeouts,
sign-out really ends the session).

Flow: ``accounts.sign_in`` creates a NEW AuthSession holding only the SHA-256 of a one-time
activation ticket (valid 60 s). The browser exchanges the ticket once at
``/api/session/activate`` (``activate``), which generates the session secret, stores only its
SHA-256 and sets it as the HttpOnly cookie ``ls_<slug>``. Every event then calls ``resolve``
with the Cookie header. Secrets come from ``secrets.token_urlsafe``; Reflex's client token is
made with Math.random and is never used as a credential.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, AuthSession, Merchant, Role, StaffStore, Store
from loyalty_app.services.platform.permissions import Actor, record_security_event
from loyalty_app.settings import Settings, get_settings

ACTIVATION_TICKET_TTL = timedelta(seconds=60)
# last_seen_at is written at most this often, so busy members do not write on every event.
TOUCH_INTERVAL = timedelta(seconds=60)
_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def hash_token(token: str) -> str:
    """SHA-256 hex of a ticket or session secret: a database leak does not leak live sessions."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def cookie_name(slug: str) -> str:
    """One cookie per merchant app, so signing in to one program never signs in to another."""
    return f"ls_{slug}"


def timeouts_for(role: Role | str, settings: Settings) -> tuple[timedelta, timedelta]:
    """(idle, absolute) lifetimes: long for members (home-screen app), short for staff/admin."""
    if Role(role) is Role.MEMBER:
        return timedelta(seconds=settings.member_idle_timeout), timedelta(seconds=settings.member_absolute_timeout)
    return timedelta(seconds=settings.staff_idle_timeout), timedelta(seconds=settings.staff_absolute_timeout)


def create_session(
    session: Session, *, account: Account, ip: str, user_agent: str, now: datetime, settings: Settings | None = None
) -> tuple[AuthSession, str]:
    """Add a new, not yet activated session inside the caller's transaction.

    Returns the row and the one-time activation ticket (only its hash is stored).
    """
    settings = settings or get_settings()
    idle, absolute = timeouts_for(account.role, settings)
    ticket = secrets.token_urlsafe(32)
    row = AuthSession(
        account_id=account.id,
        merchant_id=account.merchant_id,
        activation_hash=hash_token(ticket),
        activation_expires_at=now + ACTIVATION_TICKET_TTL,
        created_at=now,
        last_seen_at=now,
        idle_timeout_s=int(idle.total_seconds()),
        expires_at=now + absolute,
        ip=(ip or "")[:64],
        user_agent=(user_agent or "")[:255],
    )
    session.add(row)
    session.flush()
    return row, ticket


@dataclass(frozen=True)
class ActivatedSession:
    """What the activation endpoint needs to set the cookie."""

    session_id: int
    account_id: int
    merchant_slug: str
    secret: str
    max_age: int  # seconds until the absolute timeout


def activate(engine: Engine, *, ticket: str, now: datetime | None = None) -> ActivatedSession | None:
    """Consume a one-time ticket and return the new session secret, or None.

    The ticket is cleared in the same transaction whatever the outcome, so it can never be
    used twice (an expired ticket also revokes its never-activated session).
    """
    now = now or utcnow()
    if not ticket or not _TOKEN_PATTERN.match(ticket):
        return None
    with write_session(engine) as s:
        row = s.exec(select(AuthSession).where(AuthSession.activation_hash == hash_token(ticket)).with_for_update()).first()
        if row is None:
            return None
        row.activation_hash = None
        s.add(row)
        account = s.get(Account, row.account_id)
        merchant = s.get(Merchant, row.merchant_id)
        usable = (
            row.revoked_at is None
            and row.secret_hash is None
            and row.activation_expires_at is not None
            and now <= row.activation_expires_at
            and now < row.expires_at
            and _account_usable(account, row.merchant_id)
            and merchant is not None
        )
        if not usable:
            row.revoked_at = row.revoked_at or now
            return None
        secret = secrets.token_urlsafe(32)
        row.secret_hash = hash_token(secret)
        row.activation_expires_at = None
        row.last_seen_at = now
        return ActivatedSession(
            session_id=row.id,
            account_id=row.account_id,
            merchant_slug=merchant.slug,
            secret=secret,
            max_age=max(1, int((row.expires_at - now).total_seconds())),
        )


def parse_cookie(cookie_header: str, name: str) -> str | None:
    """The first value of cookie ``name`` in a Cookie header, or None.

    A small parser instead of http.cookies.SimpleCookie, which drops every cookie after one it
    cannot parse (another site's odd cookie must not sign the member out).
    """
    for part in (cookie_header or "").split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip().strip('"')
            return value if _TOKEN_PATTERN.match(value) else None
    return None


def resolve(
    engine: Engine,
    *,
    merchant_id: int,
    cookie_header: str,
    slug: str,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Actor | None:
    """The Actor of a valid session cookie for this merchant, or None.

    Checks the merchant, revocation, the account (active, not deleted), the idle timeout and
    the absolute timeout; the tighter of the stored values and the current role's settings
    applies (a member promoted to staff gets staff timeouts at once). Expired sessions are
    marked revoked. ``last_seen_at`` is written at most once per ``TOUCH_INTERVAL``.
    """
    now = now or utcnow()
    settings = settings or get_settings()
    secret = parse_cookie(cookie_header, cookie_name(slug))
    if secret is None:
        return None
    secret_hash = hash_token(secret)
    with read_session(engine) as s:
        row = s.exec(select(AuthSession).where(AuthSession.secret_hash == secret_hash)).first()
        if row is None or row.revoked_at is not None:
            return None
        session_id, session_account_id, session_merchant_id = row.id, row.account_id, row.merchant_id
        created_at, last_seen_at, expires_at = row.created_at, row.last_seen_at, row.expires_at
        stored_idle = timedelta(seconds=row.idle_timeout_s)
        account = s.get(Account, row.account_id)
        usable = session_merchant_id == merchant_id and _account_usable(account, merchant_id)
        if usable:
            role = Role(account.role)
            store_ids = _store_ids(s, account)
    if session_merchant_id != merchant_id:
        # A session of another merchant under this merchant's cookie name: not a browser bug.
        record_security_event(
            engine,
            merchant_id=merchant_id,
            account_id=session_account_id,
            action="resolve_session",
            reason="session_of_other_merchant",
            detail={"session_id": session_id, "session_merchant_id": session_merchant_id},
        )
        return None
    if not usable:
        _revoke_ids(engine, [session_id], now)
        return None
    idle_setting, absolute_setting = timeouts_for(role, settings)
    idle = min(stored_idle, idle_setting)
    expires_at = min(expires_at, created_at + absolute_setting)
    if now >= expires_at or now - last_seen_at > idle:
        _revoke_ids(engine, [session_id], now)
        return None
    if now - last_seen_at >= TOUCH_INTERVAL:
        with write_session(engine) as s:
            s.exec(
                update(AuthSession)
                .where(AuthSession.id == session_id, AuthSession.last_seen_at <= now - TOUCH_INTERVAL)
                .values(last_seen_at=now)
            )
    return Actor(
        account_id=session_account_id,
        merchant_id=merchant_id,
        role=role,
        store_ids=store_ids,
        session_id=session_id,
    )


@dataclass(frozen=True)
class SignedInAccount:
    """What the app frame shows of the signed-in person (never secrets)."""

    first_name: str
    language: str


def signed_in_account(engine: Engine | None, account_id: int) -> SignedInAccount | None:
    """The name and saved language of the account behind a session ``resolve`` accepted (the
    caller passes that actor's id), or None when the account is gone."""
    with read_session(engine) as s:
        account = s.get(Account, account_id)
    return SignedInAccount(first_name=account.first_name, language=account.language) if account else None


def revoke(engine: Engine, *, merchant_id: int, cookie_header: str, slug: str, now: datetime | None = None) -> bool:
    """Revoke the session named by this merchant's cookie; True when one was revoked."""
    secret = parse_cookie(cookie_header, cookie_name(slug))
    if secret is None:
        return False
    now = now or utcnow()
    with write_session(engine) as s:
        result = s.exec(
            update(AuthSession)
            .where(
                AuthSession.secret_hash == hash_token(secret),
                AuthSession.merchant_id == merchant_id,
                AuthSession.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return result.rowcount > 0


def revoke_all(engine: Engine, account_id: int, *, now: datetime | None = None) -> int:
    """Revoke every open session of an account (password change, account deletion, lock)."""
    with write_session(engine) as s:
        return revoke_all_in(s, account_id, now=now or utcnow())


def revoke_all_in(session: Session, account_id: int, *, now: datetime) -> int:
    """``revoke_all`` inside the caller's transaction (e.g. together with the password change)."""
    result = session.exec(
        update(AuthSession)
        .where(AuthSession.account_id == account_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, activation_hash=None)
    )
    return result.rowcount


def _revoke_ids(engine: Engine, session_ids: list[int], now: datetime) -> None:
    with write_session(engine) as s:
        s.exec(
            update(AuthSession).where(AuthSession.id.in_(session_ids), AuthSession.revoked_at.is_(None)).values(revoked_at=now)
        )


def _account_usable(account: Account | None, merchant_id: int) -> bool:
    return account is not None and account.merchant_id == merchant_id and account.is_active and account.deleted_at is None


def _store_ids(session: Session, account: Account) -> frozenset[int]:
    """Stores the account may act for: assigned ones (staff), all active ones (admin)."""
    role = Role(account.role)
    if role is Role.STAFF:
        rows = session.exec(
            select(StaffStore.store_id)
            .join(Store, Store.id == StaffStore.store_id)
            .where(
                StaffStore.account_id == account.id,
                Store.merchant_id == account.merchant_id,
                Store.is_active == True,  # noqa: E712
            )
        ).all()
        return frozenset(rows)
    if role is Role.ADMIN:
        rows = session.exec(
            select(Store.id).where(Store.merchant_id == account.merchant_id, Store.is_active == True)  # noqa: E712
        ).all()
        return frozenset(rows)
    return frozenset()
