"""Member profile changes (name, birthday, time zone, language), marketing consent per
channel, and deleting one's own account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import available_timezones

from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.models import Account
from loyalty_app.services.platform import events
from loyalty_app.services.platform.permissions import Action, Actor, authorize
from loyalty_app.settings import SUPPORTED_LANGUAGES

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
