"""RFM: recency, frequency and monetary quintiles of every member, the named segments (shared
with ``services.earning.segments``) and the at-risk list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.domain.segments import RFM_CLASSES, RFM_LABELS
from loyalty_app.models import Account, MemberActivity, MemberBalance
from loyalty_app.services.insight.analytics.common import VISIT_ACTIONS, _Ctx, _day, _member_filter, _utc, _zone, chart

RFM_YEAR_DAYS = 365
RFM_NEW_DAYS = 30
RFM_MIN_MEMBERS = 5
SEGMENTS = RFM_CLASSES
SEGMENT_LABELS = RFM_LABELS


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class AtRiskMember:
    account_id: int
    name: str
    member_number: str
    last_visit: date | None
    lifetime_points: int


@dataclass(frozen=True)
class Rfm:
    scored: int  # members scored (0 when fewer than RFM_MIN_MEMBERS)
    segments: dict[str, int]  # every key of SEGMENTS
    at_risk: list[AtRiskMember] = field(default_factory=list)


# --------------------------------------------------------------------------- charts


def rfm_scored(mid: int, now: datetime, tz: str):
    """The RFM CTEs of one program at ``now``: ``base`` (one row per member, not deleted) and
    ``segmented`` (its quintile scores r, f, m and the class name in ``segment``). The class rules
    are ``domain.segments.classify_rfm``'s; member segments (``services.earning.segments``) read the
    same CTE, so a segment "at risk" is exactly the chart's "at risk"."""
    local_now = _utc(now).astimezone(_zone(tz))
    year_ago = local_now.date() - timedelta(days=RFM_YEAR_DAYS)
    visits = (
        select(
            MemberActivity.account_id.label("account_id"),
            func.max(MemberActivity.local_day).label("last_day"),
            func.sum(case((MemberActivity.local_day > year_ago, 1), else_=0)).label("freq"),
        )
        # local_day, not at: the member/action/day index then covers the whole query.
        .where(
            MemberActivity.merchant_id == mid,
            MemberActivity.action.in_(VISIT_ACTIONS),
            MemberActivity.local_day <= local_now.date(),
        )
        .group_by(MemberActivity.account_id)
        .subquery("visits")
    )
    freq = func.coalesce(visits.c.freq, 0)
    money = func.coalesce(MemberBalance.lifetime_earned, 0)
    base = (
        select(
            Account.id.label("id"),
            Account.first_name.label("first_name"),
            Account.last_name.label("last_name"),
            Account.member_number.label("member_number"),
            Account.created_at.label("joined"),
            visits.c.last_day.label("last_day"),
            freq.label("freq"),
            money.label("money"),
        )
        .select_from(Account)
        .outerjoin(visits, visits.c.account_id == Account.id)
        .outerjoin(MemberBalance, MemberBalance.account_id == Account.id)
        .where(_member_filter(mid), Account.deleted_at.is_(None), Account.created_at < _utc(now))
        .cte("base")
    )
    scored = select(
        base,
        func.ntile(5).over(order_by=(base.c.last_day.asc().nulls_first(), base.c.id)).label("r"),
        func.ntile(5).over(order_by=(base.c.freq, base.c.id)).label("f"),
        func.ntile(5).over(order_by=(base.c.money, base.c.id)).label("m"),
    ).cte("scored")
    segment = case(
        (scored.c.joined >= _utc(now) - timedelta(days=RFM_NEW_DAYS), "new"),
        (and_(scored.c.r >= 4, scored.c.f >= 4), "champions"),
        (and_(scored.c.r >= 3, scored.c.f >= 3), "loyal"),
        (and_(scored.c.r <= 2, (scored.c.f >= 3) | (scored.c.m >= 4)), "at_risk"),
        (scored.c.r <= 2, "hibernating"),
        else_="others",
    )
    segmented = select(scored, segment.label("segment")).cte("segmented")
    return base, segmented


@chart()
def rfm_segments(engine: Engine, ctx: _Ctx, *, at_risk_limit: int = 20) -> Rfm:
    """RFM quintiles (NTILE(5) in SQL), members per named segment and the at-risk list (see the
    package docstring). ``period`` does not apply: recency and frequency have their own horizons."""
    base, segmented = rfm_scored(ctx.merchant_id, ctx.now, ctx.tz)
    with read_session(engine) as s:
        total = int(s.execute(select(func.count()).select_from(base)).scalar_one() or 0)
        if total < RFM_MIN_MEMBERS:
            return Rfm(0, {key: 0 for key in SEGMENTS}, [])
        counts = dict(s.execute(select(segmented.c.segment, func.count()).group_by(segmented.c.segment)).all())
        rows = s.execute(
            select(
                segmented.c.id,
                segmented.c.first_name,
                segmented.c.last_name,
                segmented.c.member_number,
                segmented.c.last_day,
                segmented.c.money,
            )
            .where(segmented.c.segment == "at_risk")
            .order_by(segmented.c.money.desc(), segmented.c.last_day.asc().nulls_first(), segmented.c.id)
            .limit(at_risk_limit)
        ).all()
    at_risk = [
        AtRiskMember(
            int(i),
            " ".join(p for p in (first, last) if p).strip(),
            number or "",
            _day(last_day) if last_day is not None else None,
            int(money or 0),
        )
        for i, first, last, number, last_day, money in rows
    ]
    return Rfm(total, {key: int(counts.get(key, 0)) for key in SEGMENTS}, at_risk)
