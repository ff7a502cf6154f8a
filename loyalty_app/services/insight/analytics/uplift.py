"""Uplift: what quests and challenges change in their participants' visits and points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.models import Challenge, ChallengeProgress, LedgerEntry, MemberActivity, Quest
from loyalty_app.services.insight.analytics.common import VISIT_ACTIONS, _Ctx, _utc, chart

UPLIFT_BASELINE_DAYS = 28


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class QuestUplift:
    quest_id: int
    name: str
    starts_at: datetime
    ends_at: datetime
    participants: int
    visits_before: float  # per participant per week, 4 weeks before
    visits_during: float  # per participant per week, during the quest
    points_before: float
    points_during: float

    @property
    def visits_uplift(self) -> float | None:
        return _uplift(self.visits_before, self.visits_during)

    @property
    def points_uplift(self) -> float | None:
        return _uplift(self.points_before, self.points_during)


@dataclass(frozen=True)
class ChallengeUplift:
    challenge_id: int
    name: str
    completers: int
    non_completers: int
    visits_completers: float  # average visits per member in the window
    visits_non_completers: float


def _uplift(before: float, during: float) -> float | None:
    """Relative change (0.25 = +25 %); None without a baseline."""
    if before <= 0:
        return None
    return round(during / before - 1, 4)


# --------------------------------------------------------------------------- charts


@chart()
def quest_uplift(engine: Engine, ctx: _Ctx, *, limit: int = 6) -> list[QuestUplift]:
    """For the latest quests overlapping the window: visits and points per participant per week
    during the quest vs the same members' 4 weeks before (see the package docstring)."""
    with read_session(engine) as s:
        quests = s.execute(
            select(Quest.id, Quest.name, Quest.starts_at, Quest.ends_at)
            .where(Quest.merchant_id == ctx.merchant_id, Quest.starts_at < ctx.now, Quest.ends_at > ctx.since)
            .order_by(Quest.starts_at.desc(), Quest.id.desc())
            .limit(limit)
        ).all()
        out = []
        for quest_id, name, starts_at, ends_at in quests:
            qs, qe = _utc(starts_at), min(_utc(ends_at), ctx.now)
            before = qs - timedelta(days=UPLIFT_BASELINE_DAYS)
            part = (
                select(MemberActivity.account_id)
                .where(MemberActivity.merchant_id == ctx.merchant_id, MemberActivity.at >= qs, MemberActivity.at < qe)
                .distinct()
                .cte("participants")
            )
            visits = select(
                func.coalesce(func.sum(case((MemberActivity.at >= qs, 1), else_=0)), 0),
                func.coalesce(func.sum(case((MemberActivity.at < qs, 1), else_=0)), 0),
            ).where(
                MemberActivity.merchant_id == ctx.merchant_id,
                MemberActivity.account_id.in_(select(part.c.account_id)),
                MemberActivity.action.in_(VISIT_ACTIONS),
                MemberActivity.at >= before,
                MemberActivity.at < qe,
            )
            points = select(
                func.coalesce(func.sum(case((LedgerEntry.created_at >= qs, LedgerEntry.earned_delta), else_=0)), 0),
                func.coalesce(func.sum(case((LedgerEntry.created_at < qs, LedgerEntry.earned_delta), else_=0)), 0),
            ).where(
                LedgerEntry.merchant_id == ctx.merchant_id,
                LedgerEntry.account_id.in_(select(part.c.account_id)),
                LedgerEntry.created_at >= before,
                LedgerEntry.created_at < qe,
            )
            participants = int(s.execute(select(func.count()).select_from(part)).scalar_one() or 0)
            v_during, v_before = (int(v or 0) for v in s.execute(visits).one())
            p_during, p_before = (int(v or 0) for v in s.execute(points).one())
            days_during = max((qe - qs).total_seconds() / 86400, 1 / 24)

            def per_week(total: int, days: float, participants: int = participants) -> float:
                return round(total / participants / days * 7, 4) if participants else 0.0

            out.append(
                QuestUplift(
                    int(quest_id),
                    name,
                    starts_at,
                    ends_at,
                    participants,
                    per_week(v_before, UPLIFT_BASELINE_DAYS),
                    per_week(v_during, days_during),
                    per_week(p_before, UPLIFT_BASELINE_DAYS),
                    per_week(p_during, days_during),
                )
            )
    return out


@chart()
def challenge_uplift(engine: Engine, ctx: _Ctx, *, limit: int = 6) -> list[ChallengeUplift]:
    """Per challenge (most participants first): completers vs members who took part and never
    completed, and their average visits in the window."""
    progress = (
        select(
            ChallengeProgress.challenge_id.label("challenge_id"),
            ChallengeProgress.account_id.label("account_id"),
            func.max(case((ChallengeProgress.completed_at.is_not(None), 1), else_=0)).label("done"),
        )
        .where(ChallengeProgress.merchant_id == ctx.merchant_id)
        .group_by(ChallengeProgress.challenge_id, ChallengeProgress.account_id)
        .subquery("progress")
    )
    visits = (
        select(MemberActivity.account_id.label("account_id"), func.count().label("n"))
        .where(
            MemberActivity.merchant_id == ctx.merchant_id,
            MemberActivity.action.in_(VISIT_ACTIONS),
            MemberActivity.at >= ctx.since,
            MemberActivity.at < ctx.now,
        )
        .group_by(MemberActivity.account_id)
        .subquery("visits")
    )
    stmt = (
        select(progress.c.challenge_id, progress.c.done, func.count(), func.coalesce(func.sum(func.coalesce(visits.c.n, 0)), 0))
        .select_from(progress.outerjoin(visits, visits.c.account_id == progress.c.account_id))
        .group_by(progress.c.challenge_id, progress.c.done)
    )
    with read_session(engine) as s:
        names = dict(s.execute(select(Challenge.id, Challenge.name).where(Challenge.merchant_id == ctx.merchant_id)).all())
        groups: dict[int, dict[int, tuple[int, int]]] = {}
        for challenge_id, done, members, total in s.execute(stmt).all():
            groups.setdefault(int(challenge_id), {})[int(done)] = (int(members), int(total or 0))
    out = []
    for challenge_id, g in groups.items():
        if challenge_id not in names:
            continue
        (c_n, c_v), (o_n, o_v) = g.get(1, (0, 0)), g.get(0, (0, 0))
        out.append(
            ChallengeUplift(
                challenge_id,
                names[challenge_id],
                c_n,
                o_n,
                round(c_v / c_n, 2) if c_n else 0.0,
                round(o_v / o_n, 2) if o_n else 0.0,
            )
        )
    out.sort(key=lambda c: (-(c.completers + c.non_completers), c.name, c.challenge_id))
    return out[:limit]
