"""The rewards catalogue: who may redeem what, and which rewards to suggest.

Why pure: the same refusal reasons are shown before a member taps "redeem" (greyed out with a
reason) and enforced by the service under a row lock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from loyalty_app.domain.clock import within
from loyalty_app.domain.errors import N_, LoyaltyError


class RewardKind(str, enum.Enum):
    DISCOUNT = "discount"
    FREE_PRODUCT = "free_product"
    FREE_SHIPPING = "free_shipping"
    EVENT_TICKET = "event_ticket"
    EARLY_ACCESS = "early_access"
    PARTNER_COUPON = "partner_coupon"


@dataclass(frozen=True)
class RewardSpec:
    id: int
    key: str
    name: str
    kind: RewardKind
    cost_points: int
    stock: int | None = None  # None = unlimited
    per_member_limit: int | None = None
    min_tier_rank: int | None = None  # tier gate
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    is_active: bool = True


def is_in_window(reward: RewardSpec, now: datetime) -> bool:
    return within(now, reward.valid_from, reward.valid_until)


def tier_allows(reward: RewardSpec, tier_rank: int) -> bool:
    return reward.min_tier_rank is None or tier_rank >= reward.min_tier_rank


def check_redeemable(
    reward: RewardSpec,
    *,
    now: datetime,
    tier_rank: int,
    available_points: int,
    redeemed_by_member: int,
) -> None:
    """Raise the first reason the member cannot redeem ``reward`` now; return if they can."""
    if not reward.is_active or not is_in_window(reward, now):
        raise LoyaltyError(N_("This reward is not available right now."), code="reward_unavailable")
    if not tier_allows(reward, tier_rank):
        raise LoyaltyError(N_("This reward is for a higher tier."), code="tier_required")
    if reward.stock is not None and reward.stock <= 0:
        raise LoyaltyError(N_("This reward is out of stock."), code="out_of_stock")
    if reward.per_member_limit is not None and redeemed_by_member >= reward.per_member_limit:
        raise LoyaltyError(
            N_("You already redeemed this reward {limit} times (the limit)."),
            code="member_limit_reached",
            limit=reward.per_member_limit,
        )
    if available_points < reward.cost_points:
        raise LoyaltyError(N_("Not enough points: you have {available}."), code="insufficient_points", available=available_points)


@dataclass(frozen=True)
class Recommendation:
    reward: RewardSpec
    reason: str  # msgid
    reason_params: dict
    affordable: bool
    rating: float | None


def recommend(
    rewards: Sequence[RewardSpec],
    *,
    now: datetime,
    tier_rank: int,
    available_points: int,
    ratings: dict,  # reward id -> (average, count)
    limit: int = 4,
    own_ratings: dict | None = None,  # reward id -> this member's stars
    redeemed_kinds: frozenset | set = frozenset(),  # kinds of reward this member redeemed before
) -> list[Recommendation]:
    """Rewards to suggest: tier-allowed, in stock and in window; affordable first.

    Personal first: a reward the member rated 4+ leads, then kinds they redeemed before, and one
    they rated 2 or less goes last. Then others' ratings, then the dearest. Among rewards out of
    reach, the one closest to affordable leads, so the member sees their next goal.
    """
    own_ratings = own_ratings or {}
    eligible = [
        r
        for r in rewards
        if r.is_active and is_in_window(r, now) and tier_allows(r, tier_rank) and (r.stock is None or r.stock > 0)
    ]

    def personal(r: RewardSpec) -> int:
        mine = own_ratings.get(r.id)
        if mine is not None and mine <= 2:
            return -1
        if mine is not None and mine >= 4:
            return 2
        return 1 if r.kind in redeemed_kinds else 0

    def sort_key(r: RewardSpec):
        affordable = r.cost_points <= available_points
        average = ratings.get(r.id, (None, 0))[0] or 0.0
        if affordable:
            return (0, -personal(r), -average, -r.cost_points, r.id)
        return (1, -min(personal(r), 0), r.cost_points - available_points, -average, r.id)

    result = []
    for reward in sorted(eligible, key=sort_key)[:limit]:
        average, count = ratings.get(reward.id, (None, 0))
        affordable = reward.cost_points <= available_points
        params: dict[str, object]
        if affordable and personal(reward) == 2:
            reason, params = N_("One of your favourites, you can get it now"), {}
        elif affordable and average is not None and count > 0 and average >= 4:
            reason, params = N_("You can get this now, rated {rating} ★"), {"rating": f"{average:.1f}"}
        elif affordable:
            reason, params = N_("You can get this now"), {}
        else:
            reason, params = N_("{missing} more points"), {"missing": reward.cost_points - available_points}
        result.append(Recommendation(reward, reason, params, affordable, average))
    return result
