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
    charts = {name: compute(engine, actor, **kw) for name, compute in _PAGE}
    return Dashboard(period=period, buckets=ctx.starts, **charts)


# The chart functions in page order, by the Dashboard field each fills.
_PAGE = (
    ("enrolments", enrolments),
    ("active", active_members),
    ("cohorts", cohort_retention),
    ("flows", points_flow),
    ("redemption", redemption_rate),
    ("liability", liability),
    ("top_redeemed", top_rewards_by_redemptions),
    ("top_rated", top_rewards_by_rating),
    ("ratings", rating_distribution),
    ("quests", quest_uplift),
    ("challenges", challenge_uplift),
    ("funnel", referral_funnel),
    ("rfm", rfm_segments),
)
# The same by function name (the benchmark times each of them).
CHARTS = tuple((compute.__name__, compute) for _field, compute in _PAGE)
