"""Earning rules as pure data: when a rule applies, how many points (which actions exist: the
registry of ways to earn, ``domain.ways_to_earn``).

Why pure: the arithmetic members complain about ("why did I get these points?") must be
testable without a database, and the same functions build the explanation stored with each
ledger entry. Local calendar periods (day/week/month) are computed in the merchant's timezone
because "once per day" means the shop's day, not UTC's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from loyalty_app.domain.clock import within
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN
from loyalty_app.domain.ways_to_earn import Action as Action  # re-exported: services import it from here

# Which actions exist and their facts (reasons, who may record them, visits) live in the registry
# of ways to earn (``domain.ways_to_earn``); the tables below are derived from it.


def earn_reasons(action: str) -> tuple[str, str]:
    """(reason, reason with multipliers): the msgids of ``action``'s ledger entries, from the registry."""
    return WAYS_TO_EARN[action].reasons


# Actions that only their own service may record: purchases need a receipt and a staff member,
# ratings need a redeemed reward, referral bonuses need a referee's first purchase.
SERVICE_ONLY_ACTIONS = frozenset(a for a in Action if WAYS_TO_EARN[a].service_only)

# Actions that count as a visit (for streaks and distinct stores).
VISIT_ACTIONS = frozenset(a for a in Action if WAYS_TO_EARN[a].visit)

# (reason without multipliers, reason with multipliers) per action; English gettext msgids.
ACTION_REASONS: dict[Action, tuple[str, str]] = {a: earn_reasons(a) for a in Action}
PURCHASE_REASON, PURCHASE_REASON_MULTIPLIED = ACTION_REASONS[Action.PURCHASE]


class LimitPeriod(str, enum.Enum):
    NONE = "none"  # unlimited
    EVER = "ever"
    DAY = "day"
    WEEK = "week"  # ISO week, Monday to Sunday, merchant's timezone
    MONTH = "month"
    YEAR = "year"


class Rounding(str, enum.Enum):
    FLOOR = "floor"
    ROUND = "round"  # half up
    CEIL = "ceil"


_ROUNDING = {Rounding.FLOOR: ROUND_FLOOR, Rounding.ROUND: ROUND_HALF_UP, Rounding.CEIL: ROUND_CEILING}


def parse_action(value: str | Action) -> Action:
    try:
        return Action(value)
    except ValueError:
        raise LoyaltyError(N_("Unknown action: {action}."), code="unknown_action", action=str(value)) from None


def local_date(at: datetime, tz: str) -> date:
    """The calendar day of ``at`` (aware) in timezone ``tz``."""
    return at.astimezone(ZoneInfo(tz)).date()


def local_midnight_utc(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` starts in ``tz`` (the merchant's midnight)."""
    from loyalty_app.domain.quests import local_to_utc

    return local_to_utc(datetime(day.year, day.month, day.day), tz)


def period_start(period: LimitPeriod, day: date) -> date | None:
    """First local day of the limit period containing ``day``; None for unlimited."""
    if period is LimitPeriod.NONE:
        return None
    if period is LimitPeriod.EVER:
        return date.min
    if period is LimitPeriod.DAY:
        return day
    if period is LimitPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is LimitPeriod.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def purchase_base_points(amount_cents: int, points_per_unit: Decimal | int | float | str, rounding: str) -> int:
    """Points for a purchase: amount in currency units × rate, rounded as the program states.

    The amount arrives in cents so no float ever touches money; the rate may be fractional
    (0.5 pt per EUR) and is converted through ``str`` to keep its decimal meaning.
    """
    if amount_cents <= 0:
        raise LoyaltyError(N_("The purchase amount must be positive."), code="invalid_amount")
    rate = Decimal(str(points_per_unit))
    exact = Decimal(amount_cents) * rate / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=_ROUNDING[Rounding(rounding)]))


def format_amount(amount_cents: int) -> str:
    """``2400`` -> ``"24.00"``: the amount as shown in the earn reason."""
    return f"{amount_cents // 100}.{amount_cents % 100:02d}"


def format_rate(rate: Decimal | int | float | str) -> str:
    value = Decimal(str(rate)).normalize()
    return format(value, "f")


@dataclass(frozen=True)
class MemberFacts:
    """What segment filters look at; built by the service from the account and its activity."""

    joined_at: datetime
    birthday: date | None = None
    last_visit_at: datetime | None = None
    visits: int = 0


def _in_birthday_month(facts: MemberFacts, now: datetime, tz: str) -> bool:
    return facts.birthday is not None and facts.birthday.month == local_date(now, tz).month


# A segment is a simple named filter; rules and quests store only its key.
SEGMENTS: dict[str, tuple[str, object]] = {
    "new_members": (N_("Joined in the last 30 days"), lambda f, now, tz: now - f.joined_at <= timedelta(days=30)),
    "birthday_month": (N_("Birthday this month"), _in_birthday_month),
    "lapsed": (
        N_("No visit in 60 days"),
        lambda f, now, tz: f.last_visit_at is None or now - f.last_visit_at > timedelta(days=60),
    ),
    "regulars": (N_("At least 10 visits"), lambda f, now, tz: f.visits >= 10),
}


def member_segments(facts: MemberFacts, now: datetime, tz: str) -> frozenset[str]:
    return frozenset(key for key, (_label, test) in SEGMENTS.items() if test(facts, now, tz))  # type: ignore[operator]


@dataclass(frozen=True)
class RuleSpec:
    """An earning rule. For ``purchase`` rules ``points`` is points per currency unit."""

    key: str
    action: Action
    points: Decimal
    limit_count: int | None = None
    limit_period: LimitPeriod = LimitPeriod.NONE
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    tier_keys: tuple[str, ...] = ()
    segment_key: str | None = None
    store_id: int | None = None
    params: dict = field(default_factory=dict)
    id: int | None = None


def rule_applies(
    rule: RuleSpec,
    *,
    at: datetime,
    tier_key: str | None,
    segments: Iterable[str],
    store_id: int | None,
) -> bool:
    """Validity window [from, until), tier and segment targeting, store restriction."""
    return within(at, rule.valid_from, rule.valid_until) and offered_to(
        rule, tier_key=tier_key, segments=segments, store_id=store_id
    )


class Targeted(Protocol):
    """An offer that may be kept for some tiers, one segment or one store (rules and quests)."""

    @property
    def tier_keys(self) -> tuple[str, ...]: ...

    @property
    def segment_key(self) -> str | None: ...

    @property
    def store_id(self) -> int | None: ...


def offered_to(offer: Targeted, *, tier_key: str | None, segments: Iterable[str], store_id: int | None) -> bool:
    """Whether the offer's targeting lets this member in: their tier, their segments, this store
    (an empty target lets everybody in)."""
    if offer.tier_keys and tier_key not in offer.tier_keys:
        return False
    if offer.segment_key and offer.segment_key not in set(segments):
        return False
    if offer.store_id is not None and offer.store_id != store_id:
        return False
    return True


def best_rule(rules: Iterable[RuleSpec]) -> RuleSpec | None:
    """When several rules match one event, the most generous one applies (never two)."""
    candidates = sorted(rules, key=lambda r: (r.points, r.key), reverse=True)
    return candidates[0] if candidates else None


def check_limit(rule: RuleSpec, used_in_period: int) -> None:
    """Refuse an action whose rule limit is reached; ``used_in_period`` counts earlier uses."""
    if rule.limit_period is LimitPeriod.NONE or rule.limit_count is None:
        return
    if used_in_period >= rule.limit_count:
        messages = {
            LimitPeriod.EVER: N_("You already earned points for this (limit: {limit} in total)."),
            LimitPeriod.DAY: N_("Daily limit reached for this action ({limit} per day)."),
            LimitPeriod.WEEK: N_("Weekly limit reached for this action ({limit} per week)."),
            LimitPeriod.MONTH: N_("Monthly limit reached for this action ({limit} per month)."),
            LimitPeriod.YEAR: N_("Yearly limit reached for this action ({limit} per year)."),
        }
        raise LoyaltyError(messages[rule.limit_period], code="limit_reached", limit=rule.limit_count)


@dataclass(frozen=True)
class AppliedMultiplier:
    label: str  # tier or quest name (merchant content, shown as is)
    pct: int  # 200 = ×2
    source: str  # "tier" or "quest"
    key: str


@dataclass(frozen=True)
class EarnBreakdown:
    """How the points of one earn were computed; stored with the entry and shown to members."""

    base_points: int
    tier_pct: int
    quest_pct: int
    total_pct: int
    capped: bool
    points: int
    multipliers: tuple[AppliedMultiplier, ...] = ()

    def as_dict(self) -> dict:
        return {
            "base": self.base_points,
            "tier_pct": self.tier_pct,
            "quest_pct": self.quest_pct,
            "total_pct": self.total_pct,
            "capped": self.capped,
            "points": self.points,
            "multipliers": [{"label": m.label, "pct": m.pct, "source": m.source, "key": m.key} for m in self.multipliers],
        }


def format_pct(pct: int) -> str:
    """``200`` -> ``"×2"``, ``150`` -> ``"×1.5"``."""
    return "×" + format(Decimal(pct) / Decimal(100), "f").rstrip("0").rstrip(".")


def multipliers_text(breakdown: EarnBreakdown) -> str:
    """``"×2 Gold, ×2 Double points weekend"`` (plus the cap when it bit)."""
    parts = [f"{format_pct(m.pct)} {m.label}" for m in breakdown.multipliers]
    if breakdown.capped:
        parts.append(f"max {format_pct(breakdown.total_pct)}")
    return ", ".join(parts)


def compute_earn(
    base_points: int,
    *,
    tier_multiplier: AppliedMultiplier | None,
    quest_multipliers: Iterable[AppliedMultiplier],
    stacking: str,
    cap_pct: int,
) -> EarnBreakdown:
    """Apply the tier and quest multipliers to ``base_points``.

    Rule (see ``loyalty_app.domain.quests.combine_quests``): quest multipliers combine by the
    program's stacking mode, the tier multiplier multiplies the result, the total is capped at
    the program's maximum, and the final points are rounded down (no fractional points).
    """
    from loyalty_app.domain.quests import combine_quests

    quest_list = [q for q in quest_multipliers if q.pct != 100]
    quest_pct, used_quests = combine_quests(quest_list, stacking)
    tier_pct = tier_multiplier.pct if tier_multiplier else 100
    raw_total = tier_pct * quest_pct // 100
    total_pct = min(raw_total, max(cap_pct, 100))
    points = base_points * total_pct // 100
    applied: list[AppliedMultiplier] = []
    if tier_multiplier is not None and tier_multiplier.pct != 100:
        applied.append(tier_multiplier)
    applied.extend(used_quests)
    return EarnBreakdown(
        base_points=base_points,
        tier_pct=tier_pct,
        quest_pct=quest_pct,
        total_pct=total_pct,
        capped=raw_total > total_pct,
        points=points,
        multipliers=tuple(applied),
    )
