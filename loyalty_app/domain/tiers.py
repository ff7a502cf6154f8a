"""Tiers: qualification on points EARNED in a window, never on the balance.

Why earned points: a tier computed on the balance punishes members for redeeming and can
become unreachable; points collected in a period do not. Windows, per program:

* ``rolling_12m``: points earned in the last 365 days;
* ``calendar_year``: the better of last calendar year and this year so far (merchant's
  timezone), so a status earned last year holds through this year.

Retired tiers (the merchant's console) are out of the ladder: nobody reaches them, and their
members move to ``fallback_tier`` when the tier is retired.

Upgrades happen at once (on each earn). Downgrades happen only at an evaluation: the first
evaluation that finds the member under the threshold starts a grace period; an evaluation
after the grace period ends (and still under) moves the member down to the tier they qualify
for. Qualifying again during the grace clears it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from loyalty_app.domain.earning import local_date, local_midnight_utc


class TierWindow(str, enum.Enum):
    ROLLING_12M = "rolling_12m"
    CALENDAR_YEAR = "calendar_year"


@dataclass(frozen=True)
class TierSpec:
    key: str
    name: str
    colour: str
    rank: int  # 0 = entry tier
    threshold: int  # points earned in the window needed to hold the tier
    multipliers: dict = field(default_factory=dict)  # action -> pct; "purchase" = purchase multiplier
    id: int | None = None

    def multiplier_for(self, action: str) -> int:
        return int(self.multipliers.get(action, 100))


def qualification_windows(window: str, now: datetime, tz: str) -> list[tuple[datetime, datetime]]:
    """The [start, end) windows whose earned points qualify; the best window counts."""
    if TierWindow(window) is TierWindow.ROLLING_12M:
        return [(now - timedelta(days=365), now)]
    today = local_date(now, tz)
    this_year = local_midnight_utc(date(today.year, 1, 1), tz)
    last_year = local_midnight_utc(date(today.year - 1, 1, 1), tz)
    return [(last_year, this_year), (this_year, now)]


def keep_window(window: str, now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The window whose points decide whether the member keeps the tier going forward."""
    return qualification_windows(window, now, tz)[-1]


def sorted_tiers(tiers: Sequence[TierSpec]) -> list[TierSpec]:
    return sorted(tiers, key=lambda t: t.rank)


def qualifying_tier(tiers: Sequence[TierSpec], points: int) -> TierSpec | None:
    """The highest tier whose threshold ``points`` reach (None if even the first is out of reach)."""
    best = None
    for tier in sorted_tiers(tiers):
        if points >= tier.threshold:
            best = tier
    return best


def fallback_tier(active: Sequence[TierSpec], retired_rank: int) -> TierSpec | None:
    """Where a member of a retired tier goes: the highest active tier ranked below it (None when
    there is none). From there the usual rules apply: the next earn or evaluation upgrades a
    member who qualifies for more, and a downgrade still waits for the grace period."""
    below = [t for t in sorted_tiers(active) if t.rank < retired_rank]
    return below[-1] if below else None


def rank_of(tier: TierSpec | None) -> int:
    return -1 if tier is None else tier.rank


def upgrade_on_earn(current: TierSpec | None, qualified: TierSpec | None) -> TierSpec | None:
    """The new tier after an earn, or None when nothing changes (earning never downgrades)."""
    if qualified is not None and rank_of(qualified) > rank_of(current):
        return qualified
    return None


class EvaluationOutcome(str, enum.Enum):
    KEEP = "keep"
    UPGRADE = "upgrade"
    GRACE_STARTED = "grace_started"
    GRACE_CLEARED = "grace_cleared"
    IN_GRACE = "in_grace"
    DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class Evaluation:
    outcome: EvaluationOutcome
    tier: TierSpec | None  # the tier after the evaluation
    grace_until: datetime | None


def evaluate(
    current: TierSpec | None,
    qualified: TierSpec | None,
    *,
    grace_until: datetime | None,
    now: datetime,
    grace_days: int,
) -> Evaluation:
    """Decide a periodic tier evaluation (see module docstring)."""
    if rank_of(qualified) > rank_of(current):
        return Evaluation(EvaluationOutcome.UPGRADE, qualified, None)
    if rank_of(qualified) == rank_of(current):
        if grace_until is not None:
            return Evaluation(EvaluationOutcome.GRACE_CLEARED, current, None)
        return Evaluation(EvaluationOutcome.KEEP, current, None)
    if grace_until is None:
        if grace_days <= 0:
            return Evaluation(EvaluationOutcome.DOWNGRADE, qualified, None)
        return Evaluation(EvaluationOutcome.GRACE_STARTED, current, now + timedelta(days=grace_days))
    if now >= grace_until:
        return Evaluation(EvaluationOutcome.DOWNGRADE, qualified, None)
    return Evaluation(EvaluationOutcome.IN_GRACE, current, grace_until)


@dataclass(frozen=True)
class TierProgress:
    current: TierSpec | None
    next: TierSpec | None
    qualifying_points: int
    points_to_next: int  # 0 at the top tier
    pct_to_next: int  # 0..100 (100 at the top tier)
    points_to_keep: int  # earn this many more in the keep window to hold the current tier


def progress(tiers: Sequence[TierSpec], current: TierSpec | None, qualifying_points: int, keep_points: int) -> TierProgress:
    """Progress toward the next tier above ``current`` and what it takes to keep ``current``.

    The percentage runs from the current tier's threshold to the next one's, so a fresh Silver
    member starts their Gold bar at 0 %.
    """
    ordered = sorted_tiers(tiers)
    above = [t for t in ordered if t.rank > rank_of(current)]
    nxt = above[0] if above else None
    if nxt is None:
        to_next, pct = 0, 100
    else:
        floor = current.threshold if current else 0
        span = max(nxt.threshold - floor, 1)
        to_next = max(nxt.threshold - qualifying_points, 0)
        pct = max(0, min(100, (qualifying_points - floor) * 100 // span))
    to_keep = max((current.threshold if current else 0) - keep_points, 0)
    return TierProgress(current, nxt, qualifying_points, to_next, pct, to_keep)
