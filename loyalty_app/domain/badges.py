"""Badge criteria and progress, computed from facts about a member's activity.

Why facts and not events: a badge is awarded once (the database enforces uniqueness), and the
progress toward unearned badges must be shown too; both come from the same counters.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date


class BadgeKind(str, enum.Enum):
    FIRST_PURCHASE = "first_purchase"
    CHECK_INS = "check_ins"  # N check-ins
    DISTINCT_STORES = "distinct_stores"  # visited N different stores
    WEEKLY_STREAK = "weekly_streak"  # N consecutive weeks with a visit
    FIRST_REDEMPTION = "first_redemption"
    FIRST_REVIEW = "first_review"  # a written review or a reward rating
    TIER_REACHED = "tier_reached"  # param = tier key
    ACTION_COUNT = "action_count"  # N times param action
    POINTS_EARNED = "points_earned"  # N points earned in total
    CHALLENGE = "challenge"  # awarded by completing a challenge (param = challenge key)


@dataclass(frozen=True)
class BadgeSpec:
    key: str
    name: str
    kind: BadgeKind
    target: int = 1
    param: str | None = None
    description: str = ""
    icon: str = "star"
    id: int | None = None


@dataclass(frozen=True)
class ActivityFacts:
    """Counters a badge criterion reads; the service builds them with a few grouped queries."""

    action_counts: dict = field(default_factory=dict)  # action -> count
    distinct_stores: int = 0
    visit_days: tuple[date, ...] = ()  # local days with a purchase or check-in
    redemptions: int = 0
    tier_rank: int = -1
    tier_ranks: dict = field(default_factory=dict)  # tier key -> rank
    lifetime_earned: int = 0
    completed_challenges: frozenset = frozenset()


def week_index(day: date) -> int:
    """A running number for the ISO week (Monday-based) containing ``day``."""
    monday = day.toordinal() - day.weekday()
    return monday // 7


def longest_weekly_streak(days: Iterable[date]) -> int:
    """Longest run of consecutive weeks (Monday to Sunday) that each hold at least one visit."""
    weeks = sorted({week_index(d) for d in days})
    best = run = 0
    previous = None
    for week in weeks:
        run = run + 1 if previous is not None and week == previous + 1 else 1
        best = max(best, run)
        previous = week
    return best


def badge_progress(spec: BadgeSpec, facts: ActivityFacts) -> tuple[int, int]:
    """(current, target) for ``spec``; the badge is earned when current >= target."""
    kind = spec.kind
    if kind is BadgeKind.FIRST_PURCHASE:
        return min(facts.action_counts.get("purchase", 0), 1), 1
    if kind is BadgeKind.CHECK_INS:
        current = facts.action_counts.get("check_in", 0)
    elif kind is BadgeKind.DISTINCT_STORES:
        current = facts.distinct_stores
    elif kind is BadgeKind.WEEKLY_STREAK:
        current = longest_weekly_streak(facts.visit_days)
    elif kind is BadgeKind.FIRST_REDEMPTION:
        return min(facts.redemptions, 1), 1
    elif kind is BadgeKind.FIRST_REVIEW:
        reviews = facts.action_counts.get("write_review", 0) + facts.action_counts.get("rate_reward", 0)
        return min(reviews, 1), 1
    elif kind is BadgeKind.TIER_REACHED:
        needed = facts.tier_ranks.get(spec.param)
        if needed is None:
            return 0, 1
        return (1 if facts.tier_rank >= needed else 0), 1
    elif kind is BadgeKind.ACTION_COUNT:
        current = facts.action_counts.get(spec.param or "", 0)
    elif kind is BadgeKind.POINTS_EARNED:
        current = facts.lifetime_earned
    elif kind is BadgeKind.CHALLENGE:
        return (1 if spec.param in facts.completed_challenges else 0), 1
    else:  # pragma: no cover - exhaustive
        return 0, spec.target
    return min(current, spec.target), spec.target


def is_earned(spec: BadgeSpec, facts: ActivityFacts) -> bool:
    current, target = badge_progress(spec, facts)
    return current >= target


def newly_earned(specs: Iterable[BadgeSpec], facts: ActivityFacts, already: Iterable[str]) -> list[BadgeSpec]:
    owned = set(already)
    return [s for s in specs if s.key not in owned and is_earned(s, facts)]
