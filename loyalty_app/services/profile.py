"""Member profile changes (name, birthday, time zone, language)."""

from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

from sqlalchemy.engine import Engine

from loyalty_app.db import write_session
from loyalty_app.domain.errors import LoyaltyError, N_, NotFound
from loyalty_app.models import Account
from loyalty_app.services.permissions import Actor
from loyalty_app.settings import SUPPORTED_LANGUAGES

_TIMEZONES = frozenset(available_timezones())


_TOO_LONG = {
    "first_name": N_("Your first name is too long (60 characters at most)."),
    "last_name": N_("Your last name is too long (60 characters at most)."),
}


def _clean_name(value: str, field: str) -> str:
    value = " ".join((value or "").split())
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
