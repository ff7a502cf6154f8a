"""Rewards: the most redeemed and the best rated, and how the visible ratings spread over the
stars."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Numeric, cast, func, select
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.models import Reward, RewardRating, Voucher
from loyalty_app.services.insight.analytics.common import _Ctx, chart

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RewardCount:
    reward_id: int
    name: str
    redemptions: int


@dataclass(frozen=True)
class RewardRatingRow:
    reward_id: int
    name: str
    average: float
    ratings: int


# --------------------------------------------------------------------------- charts


@chart()
def top_rewards_by_redemptions(engine: Engine, ctx: _Ctx, *, limit: int = 5) -> list[RewardCount]:
    """Rewards with the most vouchers issued in the window (cancelled vouchers left out)."""
    n = func.count(Voucher.id)
    stmt = (
        select(Reward.id, Reward.name, n)
        .join(Voucher, Voucher.reward_id == Reward.id)
        .where(
            Voucher.merchant_id == ctx.merchant_id,
            Reward.merchant_id == ctx.merchant_id,
            Voucher.status != "cancelled",
            Voucher.issued_at >= ctx.since,
            Voucher.issued_at < ctx.now,
        )
        .group_by(Reward.id, Reward.name)
        .order_by(n.desc(), Reward.name, Reward.id)
        .limit(limit)
    )
    with read_session(engine) as s:
        return [RewardCount(int(i), name, int(c)) for i, name, c in s.execute(stmt).all()]


@chart()
def top_rewards_by_rating(engine: Engine, ctx: _Ctx, *, limit: int = 5, min_ratings: int = 1) -> list[RewardRatingRow]:
    """Best-rated rewards (visible ratings, all time): average stars, then number of ratings."""
    avg = func.round(func.avg(cast(RewardRating.stars, Numeric(10, 4))), 2)
    n = func.count(RewardRating.id)
    stmt = (
        select(Reward.id, Reward.name, avg, n)
        .join(RewardRating, RewardRating.reward_id == Reward.id)
        .where(
            RewardRating.merchant_id == ctx.merchant_id, Reward.merchant_id == ctx.merchant_id, RewardRating.hidden_at.is_(None)
        )
        .group_by(Reward.id, Reward.name)
        .having(n >= min_ratings)
        .order_by(avg.desc(), n.desc(), Reward.name, Reward.id)
        .limit(limit)
    )
    with read_session(engine) as s:
        return [RewardRatingRow(int(i), name, float(a), int(c)) for i, name, a, c in s.execute(stmt).all()]


@chart()
def rating_distribution(engine: Engine, ctx: _Ctx) -> dict[int, int]:
    """How many visible ratings gave 1, 2, 3, 4 and 5 stars (all time)."""
    stmt = (
        select(RewardRating.stars, func.count())
        .where(RewardRating.merchant_id == ctx.merchant_id, RewardRating.hidden_at.is_(None))
        .group_by(RewardRating.stars)
    )
    with read_session(engine) as s:
        got = {int(stars): int(c) for stars, c in s.execute(stmt).all()}
    return {stars: got.get(stars, 0) for stars in range(1, 6)}
