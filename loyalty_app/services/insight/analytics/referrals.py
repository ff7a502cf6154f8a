"""Referrals: the funnel from codes shared to referrers rewarded."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, func, select
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.models import MemberActivity, Referral, ReferralCode
from loyalty_app.services.insight.analytics.common import _Ctx, chart

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FunnelStep:
    key: str  # codes | joined | purchased | rewarded
    count: int


# --------------------------------------------------------------------------- charts


@chart()
def referral_funnel(engine: Engine, ctx: _Ctx) -> list[FunnelStep]:
    """Codes shared -> friends joined -> friends who bought after joining -> referrers rewarded
    (all time, up to ``now``)."""
    mid = ctx.merchant_id
    purchased = exists().where(
        MemberActivity.merchant_id == mid,
        MemberActivity.account_id == Referral.referee_id,
        MemberActivity.action == "purchase",
        MemberActivity.at >= Referral.registered_at,
        MemberActivity.at < ctx.now,
    )
    joined = and_(Referral.merchant_id == mid, Referral.registered_at < ctx.now)
    stmt = select(
        select(func.count()).select_from(ReferralCode).where(ReferralCode.merchant_id == mid).scalar_subquery(),
        select(func.count()).select_from(Referral).where(joined).scalar_subquery(),
        select(func.count()).select_from(Referral).where(joined, purchased).scalar_subquery(),
        select(func.count())
        .select_from(Referral)
        .where(joined, Referral.referrer_rewarded_at.is_not(None), Referral.referrer_rewarded_at < ctx.now)
        .scalar_subquery(),
    )
    with read_session(engine) as s:
        counts = [int(v or 0) for v in s.execute(stmt).one()]
    return [FunnelStep(key, n) for key, n in zip(("codes", "joined", "purchased", "rewarded"), counts, strict=True)]
