"""Sign-in throttling: failures per account (email) and per IP address inside a sliding window.

Why both: per-account limits stop guessing one member's password from many addresses;
per-IP limits stop credential stuffing (one address trying many leaked email/password pairs).
Throttled attempts are recorded but do not count as failures, so a member who retries during
a lockout is told the truth about when it ends instead of extending it forever.

The per-IP count spans the whole deployment (every merchant): a stuffing list is usually tried
against every program, and an attacker must not get a fresh allowance per merchant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from loyalty_app.models import LoginAttempt
from loyalty_app.settings import Settings


@dataclass(frozen=True)
class Lockout:
    """Why and for how long sign-in is refused."""

    scope: str  # "account" or "ip"
    retry_after: timedelta

    @property
    def minutes(self) -> int:
        return minutes_to_wait(self.retry_after)


def lockout_remaining(
    recent_failures: list[datetime], *, max_failures: int, window: timedelta, now: datetime
) -> timedelta | None:
    """Remaining lockout, or None when another attempt is allowed.

    ``recent_failures`` are failure times, most recent first, already limited to the ones that
    count. Sign-in is locked while ``max_failures`` of them lie inside the window; it opens
    again when the ``max_failures``-th most recent one leaves the window.
    """
    if max_failures <= 0 or len(recent_failures) < max_failures:
        return None
    oldest_counted = recent_failures[max_failures - 1]
    remaining = oldest_counted + window - now
    return remaining if remaining > timedelta(0) else None


def minutes_to_wait(remaining: timedelta) -> int:
    """Whole minutes shown to the person, rounded up and never zero."""
    return max(1, math.ceil(remaining.total_seconds() / 60))


def account_failures(session: Session, *, merchant_id: int, email: str, since: datetime, limit: int) -> list[datetime]:
    """Failures for this email since its last successful sign-in (most recent first).

    A success resets the account count: only the real owner can produce one.
    """
    rows = session.exec(
        select(LoginAttempt.at, LoginAttempt.success)
        .where(
            LoginAttempt.merchant_id == merchant_id,
            LoginAttempt.email == email,
            LoginAttempt.throttled == False,  # noqa: E712 - SQL expression
            LoginAttempt.at > since,
        )
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .limit(limit)
    ).all()
    failures: list[datetime] = []
    for at, success in rows:
        if success:
            break
        failures.append(at)
    return failures


def ip_failures(session: Session, *, ip: str, since: datetime, limit: int) -> list[datetime]:
    """Failures from this address in the window, most recent first (successes do not reset)."""
    return list(
        session.exec(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.ip == ip,
                LoginAttempt.success == False,  # noqa: E712
                LoginAttempt.throttled == False,  # noqa: E712
                LoginAttempt.at > since,
            )
            .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
            .limit(limit)
        ).all()
    )


def check_lockout(
    session: Session, *, merchant_id: int, email: str, ip: str, now: datetime, settings: Settings
) -> Lockout | None:
    """The longer of the account and IP lockouts, or None when the attempt may proceed.

    An empty ``ip`` (unknown address) is not throttled per IP: it would lump every such
    client together. The address comes from the server, so an attacker cannot choose it.
    """
    window = timedelta(seconds=settings.login_failure_window)
    since = now - window
    lockouts: list[Lockout] = []
    per_account = account_failures(
        session, merchant_id=merchant_id, email=email, since=since, limit=settings.login_max_failures_per_account
    )
    remaining = lockout_remaining(per_account, max_failures=settings.login_max_failures_per_account, window=window, now=now)
    if remaining is not None:
        lockouts.append(Lockout("account", remaining))
    if ip:
        per_ip = ip_failures(session, ip=ip, since=since, limit=settings.login_max_failures_per_ip)
        remaining = lockout_remaining(per_ip, max_failures=settings.login_max_failures_per_ip, window=window, now=now)
        if remaining is not None:
            lockouts.append(Lockout("ip", remaining))
    return max(lockouts, key=lambda lock: lock.retry_after, default=None)


def record_attempt(
    session: Session, *, merchant_id: int, email: str, ip: str, success: bool, throttled: bool, now: datetime
) -> LoginAttempt:
    """Add one attempt row (the caller's transaction commits it)."""
    attempt = LoginAttempt(
        merchant_id=merchant_id,
        email=email[:254],
        ip=ip[:64],
        success=success,
        throttled=throttled,
        at=now,
    )
    session.add(attempt)
    session.flush()
    return attempt
