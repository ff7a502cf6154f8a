"""Member profile changes (name, birthday, time zone, language), marketing consent per
channel, and deleting one's own account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import available_timezones

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.models import Account, LiveClient, LoginAttempt, ReferralCode, RewardRating, Voucher
from loyalty_app.services import events
from loyalty_app.services.permissions import Action, Actor, authorize, record_security_event
from loyalty_app.settings import SUPPORTED_LANGUAGES, Settings, get_settings

_TIMEZONES = frozenset(available_timezones())


_TOO_LONG = {
    "first_name": N_("Your first name is too long (60 characters at most)."),
    "last_name": N_("Your last name is too long (60 characters at most)."),
}


def _clean_name(value: str, field: str) -> str:
    value = one_line(value)
    if len(value) > 60:
        raise LoyaltyError(_TOO_LONG[field], code=f"{field}_too_long")
    return value


def update_profile(
    engine: Engine,
    actor: Actor,
    *,
    first_name: str,
    last_name: str,
    birthday: str,
    timezone: str,
    today: date | None = None,
) -> Account:
    """Validate everything first; write all fields in one transaction or none."""
    first = _clean_name(first_name, "first_name")
    if not first:
        raise LoyaltyError(N_("Please enter your first name."), code="first_name_required")
    last = _clean_name(last_name, "last_name")
    birth: date | None = None
    if birthday:
        try:
            birth = date.fromisoformat(birthday)
        except ValueError:
            raise LoyaltyError(N_("Enter your birthday as a date."), code="bad_birthday") from None
        today = today or date.today()
        if birth > today or birth.year < today.year - 120:
            raise LoyaltyError(N_("Enter your birthday as a date."), code="bad_birthday")
    if timezone not in _TIMEZONES:
        raise LoyaltyError(N_("Choose a time zone from the list."), code="bad_timezone")
    with write_session(engine) as s:
        account = s.get(Account, actor.account_id)
        if account is None or account.merchant_id != actor.merchant_id:
            raise NotFound(N_("Account not found."), code="account_not_found")
        account.first_name, account.last_name = first, last
        account.birthday, account.timezone = birth, timezone
        s.add(account)
        return account


def set_language(engine: Engine, actor: Actor, language: str) -> None:
    if language not in SUPPORTED_LANGUAGES:
        raise LoyaltyError(N_("This language is not available."), code="bad_language")
    with write_session(engine) as s:
        account = s.get(Account, actor.account_id)
        if account is None or account.merchant_id != actor.merchant_id:
            raise NotFound(N_("Account not found."), code="account_not_found")
        account.language = language
        s.add(account)


COMMON_TIMEZONES = (
    "Europe/Bucharest",
    "Europe/Madrid",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/Mexico_City",
    "America/New_York",
    "America/Los_Angeles",
    "America/Bogota",
    "America/Buenos_Aires",
    "Asia/Tokyo",
    "UTC",
)


# --------------------------------------------------------------------------- marketing consent

CONSENT_CHANNELS = ("email", "sms", "push")


@dataclass(frozen=True)
class ConsentStatus:
    """One channel's consent: given or not, and when it was last given or withdrawn."""

    channel: str
    granted: bool
    at: datetime | None


def consent_statuses(consents: dict | None) -> dict[str, ConsentStatus]:
    """Every channel's status from ``Account.consents``.

    Stored as ``{"email": {"granted": true, "at": "<ISO 8601 UTC>"}, ...}``; an absent channel
    means never asked (no consent). The older form ``{"email": "<ISO>"}`` reads as given then.
    """
    out: dict[str, ConsentStatus] = {}
    for channel in CONSENT_CHANNELS:
        raw = (consents or {}).get(channel)
        granted, at = False, None
        if isinstance(raw, dict):
            granted = bool(raw.get("granted"))
            at = _parse_time(raw.get("at"))
        elif isinstance(raw, str):
            granted, at = True, _parse_time(raw)
        out[channel] = ConsentStatus(channel, granted, at)
    return out


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def set_consent(
    engine: Engine, actor: Actor, channel: str, granted: bool, now: datetime | None = None
) -> dict[str, ConsentStatus]:
    """Give or withdraw marketing consent for one channel, stamped with the time.

    Setting the state it already has changes nothing (the original time stays). Returns every
    channel's status after the change.
    """
    authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0)
    if channel not in CONSENT_CHANNELS:
        raise LoyaltyError(N_("This contact channel is not available."), code="bad_channel")
    now = now or utcnow()
    with write_session(engine) as s:
        account = _own_account(s, actor)
        current = consent_statuses(account.consents)
        if current[channel].granted == bool(granted) and channel in (account.consents or {}):
            return current
        # A new dict: the JSON column is not mutation-tracked.
        account.consents = {**(account.consents or {}), channel: {"granted": bool(granted), "at": now.isoformat()}}
        s.add(account)
        s.flush()
        events.publish(s, events.ConsentChanged(account, channel, bool(granted), now))  # CRM outbox, same transaction
        return consent_statuses(account.consents)


def own_profile(engine: Engine, actor: Actor | None) -> Account | None:
    """The signed-in member's own account as the profile page shows it, or None when it is gone."""
    member = authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        return s.get(Account, member.account_id)


def _own_account(session: Session, actor: Actor) -> Account:
    account = session.get(Account, actor.account_id)
    if account is None or account.merchant_id != actor.merchant_id or account.deleted_at is not None:
        raise NotFound(N_("Account not found."), code="account_not_found")
    return account


# --------------------------------------------------------------------------- deleting an account

WRONG_PASSWORD = N_("This password is not right. Try again.")
TOO_MANY_PASSWORD_TRIES = N_("Too many wrong passwords. Try again in {minutes} minutes.")
UNUSABLE_PASSWORD_HASH = "!deleted"  # never a valid argon2 hash: no password matches it


class _VouchersStillOpen(Exception):
    """A voucher was issued while the open ones were being cancelled: cancel again."""


@dataclass(frozen=True)
class DeletionOutcome:
    account_id: int
    vouchers_cancelled: int
    points_returned: int  # given back by the cancelled vouchers (they stay on the closed account)
    sessions_revoked: int


def delete_account(
    engine: Engine,
    actor: Actor,
    *,
    password: str,
    ip: str = "",
    now: datetime | None = None,
    settings: Settings | None = None,
) -> DeletionOutcome:
    """Delete the member's own account after re-checking the password.

    What happens (documented choices):
    - the password check counts like a sign-in attempt (same throttle per account and IP), so a
      stolen session cannot be used to guess the password;
    - open vouchers are cancelled through ``rewards.cancel_voucher``: the stock goes back on the
      shelf and the redeemed points are returned by a reversal entry. The points then stay on
      the closed account, which nobody can sign in to: they are forfeited in effect, and the
      ledger stays complete and auditable (no entry is ever edited or removed);
    - the account row is anonymised, not removed (ledger entries keep pointing at it): email
      ``deleted-<id>@invalid``, names, birthday, consents, pictures and the referral code are
      cleared, review texts are emptied (star ratings stay in the averages), the password hash
      becomes unusable, ``is_active`` False and ``deleted_at`` set;
    - every session of the account is revoked in the same transaction;
    - a ``member.deleted`` CRM event (member id and number, time; no personal data) is queued
      in the same transaction.
    The email address is free again: the person can join again as a new member.
    """
    from loyalty_app.services import passwords, sessions, throttle
    from loyalty_app.services import rewards as rewards_service
    from loyalty_app.services.member_media import drop_blob_if_unused

    authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0, ip=ip)
    if not isinstance(password, str) or not password:
        raise LoyaltyError(N_("Enter your password to confirm."), code="password_required")
    now = now or utcnow()
    settings = settings or get_settings()
    ip = (ip or "")[:64]
    with write_session(engine) as s:
        account = _own_account(s, actor)
        email, password_hash = account.email, account.password_hash
        lockout = throttle.check_lockout(s, merchant_id=actor.merchant_id, email=email, ip=ip, now=now, settings=settings)
        attempt_id = throttle.record_attempt(
            s, merchant_id=actor.merchant_id, email=email, ip=ip, success=False, throttled=lockout is not None, now=now
        ).id
    if lockout is not None:
        record_security_event(
            engine,
            merchant_id=actor.merchant_id,
            account_id=actor.account_id,
            action="delete_account",
            reason=f"throttled_{lockout.scope}",
            ip=ip,
            now=now,
        )
        raise LoyaltyError(TOO_MANY_PASSWORD_TRIES, code="throttled", minutes=lockout.minutes)
    if not passwords.verify_password(password, password_hash):
        record_security_event(
            engine,
            merchant_id=actor.merchant_id,
            account_id=actor.account_id,
            action="delete_account",
            reason="wrong_password",
            ip=ip,
            now=now,
        )
        raise LoyaltyError(WRONG_PASSWORD, code="wrong_password")
    with write_session(engine) as s:
        s.exec(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=True))

    cancelled = returned = 0
    for _ in range(3):
        for voucher_id in _open_voucher_ids(engine, actor, now):
            try:
                outcome = rewards_service.cancel_voucher(
                    engine, merchant_id=actor.merchant_id, account_id=actor.account_id, voucher_id=voucher_id, now=now
                )
            except LoyaltyError:
                continue  # used or expired in the meantime
            cancelled += 1
            returned += outcome.points_returned

        def anonymise(s: Session) -> int:
            account = s.exec(select(Account).where(Account.id == actor.account_id).with_for_update()).first()
            if account is None or account.merchant_id != actor.merchant_id or account.deleted_at is not None:
                raise NotFound(N_("Account not found."), code="account_not_found")
            if _open_vouchers_query(s, actor, now).first() is not None:
                raise _VouchersStillOpen()
            pictures = (account.avatar_id, account.background_id)
            account.email = f"deleted-{account.id}@invalid"
            account.first_name = account.last_name = ""
            account.birthday = None
            account.consents = {}
            account.avatar_id = account.background_id = None
            account.personal_account_id = None
            account.password_hash = UNUSABLE_PASSWORD_HASH
            account.is_active = False
            account.deleted_at = now
            s.add(account)
            s.flush()
            for blob_id in pictures:
                drop_blob_if_unused(s, blob_id)
            s.exec(delete(ReferralCode).where(ReferralCode.account_id == account.id))
            s.exec(delete(LiveClient).where(LiveClient.account_id == account.id))
            s.exec(update(RewardRating).where(RewardRating.account_id == account.id).values(review_text=""))
            events.publish(s, events.MemberDeleted(account, now))  # CRM outbox, same transaction: ids and time only
            return sessions.revoke_all_in(s, account.id, now=now)

        from loyalty_app.services.tx import run_in_transaction

        try:
            revoked = run_in_transaction(engine, anonymise)
        except _VouchersStillOpen:
            continue
        record_security_event(
            engine,
            merchant_id=actor.merchant_id,
            account_id=actor.account_id,
            action="delete_account",
            reason="deleted_by_member",
            detail={"vouchers_cancelled": cancelled, "sessions_revoked": revoked},
            ip=ip,
            now=now,
        )
        return DeletionOutcome(actor.account_id, cancelled, returned, revoked)
    raise Conflict(N_("Something went wrong. Please try again."), code="vouchers_still_open")


def _open_vouchers_query(session: Session, actor: Actor, now: datetime):
    return session.exec(
        select(Voucher.id).where(
            Voucher.merchant_id == actor.merchant_id,
            Voucher.account_id == actor.account_id,
            Voucher.status == "issued",
            Voucher.expires_at > now,
        )
    )


def _open_voucher_ids(engine: Engine, actor: Actor, now: datetime) -> list[int]:
    with read_session(engine) as s:
        return list(_open_vouchers_query(s, actor, now).all())
