"""Challenges: reach a count of one action within a window ("visit 3 times this month").

Recurring challenges (weekly/monthly) keep one progress row per period, keyed by the period in
the merchant's timezone, so progress resets when a new week or month starts there. One-off
challenges have a single period. Hidden challenges are surprises: never listed until completed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from loyalty_app.domain.clock import within
from loyalty_app.domain.earning import VISIT_ACTIONS, local_date


class Recurrence(str, enum.Enum):
    ONE_OFF = "one_off"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


VISIT = "visit"  # pseudo-action: a purchase or a check-in


@dataclass(frozen=True)
class ChallengeSpec:
    key: str
    name: str
    action: str  # an Action value, or "visit"
    target: int
    recurrence: Recurrence = Recurrence.ONE_OFF
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    reward_points: int = 0
    reward_badge_key: str | None = None
    hidden: bool = False
    id: int | None = None


def period_key(recurrence: Recurrence, at: datetime, tz: str) -> str:
    """``"once"``, ``"2026-W47"`` (ISO week) or ``"2026-11"``, in the merchant's timezone."""
    if recurrence is Recurrence.ONE_OFF:
        return "once"
    day = local_date(at, tz)
    if recurrence is Recurrence.WEEKLY:
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return f"{day.year}-{day.month:02d}"


def is_open(spec: ChallengeSpec, at: datetime) -> bool:
    return within(at, spec.starts_at, spec.ends_at)


def counts_action(spec: ChallengeSpec, action: str) -> bool:
    if spec.action == VISIT:
        return action in {a.value for a in VISIT_ACTIONS}
    return spec.action == action


def advance(spec: ChallengeSpec, count: int, completed: bool) -> tuple[int, bool]:
    """New (count, just_completed) after one more matching action. Counting stops at the goal."""
    if completed:
        return count, False
    count = min(count + 1, spec.target)
    return count, count >= spec.target


def is_listed(spec: ChallengeSpec, completed: bool) -> bool:
    """Hidden challenges appear only once completed."""
    return completed or not spec.hidden


def progress_pct(count: int, target: int) -> int:
    return min(100, count * 100 // max(target, 1))
