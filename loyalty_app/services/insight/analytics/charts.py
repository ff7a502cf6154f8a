"""The whole page: ``dashboard`` (every chart for one period) and ``CHARTS`` (the chart
functions in page order)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.engine import Engine

from loyalty_app.domain.clock import utcnow
from loyalty_app.services.insight.analytics.common import Bucket, _context
from loyalty_app.services.insight.analytics.members import ActiveMembers, CohortRow, active_members, cohort_retention, enrolments
from loyalty_app.services.insight.analytics.points import (
    FlowBucket,
    Liability,
    RedemptionRate,
    liability,
    points_flow,
    redemption_rate,
)
from loyalty_app.services.insight.analytics.referrals import FunnelStep, referral_funnel
from loyalty_app.services.insight.analytics.rewards import (
    RewardCount,
    RewardRatingRow,
    rating_distribution,
    top_rewards_by_rating,
    top_rewards_by_redemptions,
)
from loyalty_app.services.insight.analytics.rfm import Rfm, rfm_segments
from loyalty_app.services.insight.analytics.uplift import ChallengeUplift, QuestUplift, challenge_uplift, quest_uplift
from loyalty_app.services.platform.permissions import Actor

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Dashboard:
    period: str
    buckets: list[date]
    enrolments: list[Bucket]
    active: ActiveMembers
    cohorts: list[CohortRow]
    flows: list[FlowBucket]
    redemption: RedemptionRate
    liability: Liability
    top_redeemed: list[RewardCount]
    top_rated: list[RewardRatingRow]
    ratings: dict[int, int]  # stars -> visible ratings
    quests: list[QuestUplift]
    challenges: list[ChallengeUplift]
    funnel: list[FunnelStep]
    rfm: Rfm


# --------------------------------------------------------------------------- the page


def dashboard(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> Dashboard:
    """Every chart of the analytics page, for one period (each function authorizes itself)."""
    kw = dict(period=period, now=now or utcnow(), merchant_id=merchant_id)
    ctx = _context(engine, actor, period, kw["now"], merchant_id)
    return Dashboard(
        period=period,
        buckets=ctx.starts,
        enrolments=enrolments(engine, actor, **kw),
        active=active_members(engine, actor, **kw),
        cohorts=cohort_retention(engine, actor, **kw),
        flows=points_flow(engine, actor, **kw),
        redemption=redemption_rate(engine, actor, **kw),
        liability=liability(engine, actor, **kw),
        top_redeemed=top_rewards_by_redemptions(engine, actor, **kw),
        top_rated=top_rewards_by_rating(engine, actor, **kw),
        ratings=rating_distribution(engine, actor, **kw),
        quests=quest_uplift(engine, actor, **kw),
        challenges=challenge_uplift(engine, actor, **kw),
        funnel=referral_funnel(engine, actor, **kw),
        rfm=rfm_segments(engine, actor, **kw),
    )


# The chart functions in page order (the benchmark times each of them).
CHARTS = (
    ("enrolments", enrolments),
    ("active_members", active_members),
    ("cohort_retention", cohort_retention),
    ("points_flow", points_flow),
    ("redemption_rate", redemption_rate),
    ("liability", liability),
    ("top_rewards_by_redemptions", top_rewards_by_redemptions),
    ("top_rewards_by_rating", top_rewards_by_rating),
    ("rating_distribution", rating_distribution),
    ("quest_uplift", quest_uplift),
    ("challenge_uplift", challenge_uplift),
    ("referral_funnel", referral_funnel),
    ("rfm_segments", rfm_segments),
)
