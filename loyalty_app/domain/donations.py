"""Donations of points to a charity, capped per day.

Why a daily cap: a stolen account's value is moved out fast (credential stuffing, then
transfers); a cap per merchant-local day limits the damage. The day starts at the merchant's
midnight, not UTC's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from loyalty_app.domain.earning import local_date, local_midnight_utc
from loyalty_app.domain.errors import N_, LoyaltyError


def day_bounds(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of the merchant-local day containing ``now``."""
    day = local_date(now, tz)
    return local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)


def check_donation(points: int, *, donated_today: int, daily_limit: int | None) -> None:
    if points <= 0:
        raise LoyaltyError(N_("Donate at least one point."), code="invalid_points")
    if daily_limit is not None and donated_today + points > daily_limit:
        raise LoyaltyError(
            N_("Daily donation limit reached: you can donate {remaining} more points today."),
            code="donation_limit",
            remaining=max(daily_limit - donated_today, 0),
        )
