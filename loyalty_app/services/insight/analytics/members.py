"""Members: enrolments, active members (the 30-day KPI and per period, from the rollups where
closed) and monthly cohort retention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, literal_column, select, union_all
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.models import Account, AnalyticsMemberPeriod, LedgerEntry, MemberActivity
from loyalty_app.services.insight.analytics.common import (
    BUCKET,
    MEMBER_KINDS,
    Bucket,
    _Ctx,
    _day,
    _fill,
    _member_filter,
    _rollup_cut,
    _zone,
    bucket_expr,
    bucket_starts,
    chart,
    date_bucket_expr,
    local_midnight_utc,
    next_period_start,
    plus_days,
)

ACTIVE_DAYS = 30
RETENTION_DAYS = (30, 60, 90)
RETENTION_SPAN = 30  # each retention window is 30 days long


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ActiveMembers:
    active_30d: int  # the KPI: members with activity in the last 30 days
    members: int  # members (not deleted) now
    series: list[Bucket]  # distinct active members per period


@dataclass(frozen=True)
class CohortRow:
    cohort: date  # first day of the enrolment month
    members: int
    retention: dict[int, float | None]  # 30/60/90 -> share 0..1, None when nobody is eligible yet
    eligible: dict[int, int]


# --------------------------------------------------------------------------- charts


def _activity_union(ctx: _Ctx, since: datetime, until: datetime):
    """(account_id, at) of every member activity in [since, until): the definition of "active"."""
    return union_all(
        select(LedgerEntry.account_id.label("account_id"), LedgerEntry.created_at.label("at")).where(
            LedgerEntry.merchant_id == ctx.merchant_id,
            LedgerEntry.created_at >= since,
            LedgerEntry.created_at < until,
            LedgerEntry.kind.in_(MEMBER_KINDS),
        ),
        select(MemberActivity.account_id.label("account_id"), MemberActivity.at.label("at")).where(
            MemberActivity.merchant_id == ctx.merchant_id,
            MemberActivity.at >= since,
            MemberActivity.at < until,
        ),
    ).subquery("acts")


@chart()
def enrolments(engine: Engine, ctx: _Ctx) -> list[Bucket]:
    """New members per period (accounts with role member created then, deleted ones included)."""
    b = ctx.bucket(Account.created_at)
    stmt = (
        select(b.label(BUCKET), func.count())
        .where(_member_filter(ctx.merchant_id), Account.created_at >= ctx.since, Account.created_at < ctx.now)
        .group_by(literal_column(BUCKET))
    )
    with read_session(engine) as s:
        return _fill(ctx.starts, s.execute(stmt).all())


@chart()
def active_members(engine: Engine, ctx: _Ctx) -> ActiveMembers:
    """Distinct members with any activity per period, the 30-day active count (the KPI) and
    the member count. Activity = ledger earn/redeem/donate entries or rewarded actions.

    With rollups: closed periods count their member rows; the open period unites its closed
    days' member rows with the live activity since the rollup's end; the 30-day count unites
    the member rows of the whole days inside the 30 days with the live activity at both ends."""
    cut = _rollup_cut(engine, ctx)
    mid, mp = ctx.merchant_id, AnalyticsMemberPeriod
    with read_session(engine) as s:
        if cut is None or cut <= ctx.starts[0]:
            acts = _activity_union(ctx, ctx.since, ctx.now)
            b = ctx.bucket(acts.c.at)
            rows = s.execute(
                select(b.label(BUCKET), func.count(distinct(acts.c.account_id))).group_by(literal_column(BUCKET))
            ).all()
        else:
            # The period holding ``cut`` (and any later) is open: closed ones have complete rows.
            tail = next(p for p in ctx.starts if next_period_start(p, ctx.period) > cut)
            rows = s.execute(
                select(mp.start, func.count())
                .where(mp.merchant_id == mid, mp.period == ctx.period, mp.start >= ctx.starts[0], mp.start < tail)
                .group_by(mp.start)
            ).all()
            live_from = local_midnight_utc(cut, ctx.tz)
            acts = _activity_union(ctx, live_from, ctx.now)
            open_rows = union_all(
                select(
                    date_bucket_expr(mp.start, ctx.period, ctx.dialect).label(BUCKET), mp.account_id.label("account_id")
                ).where(mp.merchant_id == mid, mp.period == "day", mp.start >= tail, mp.start < cut),
                select(
                    bucket_expr(acts.c.at, ctx.period, ctx.dialect, ctx.tz, (live_from, ctx.now)).label(BUCKET),
                    acts.c.account_id.label("account_id"),
                ),
            ).subquery("open_rows")
            rows = list(rows) + list(
                s.execute(
                    select(open_rows.c[BUCKET], func.count(distinct(open_rows.c.account_id))).group_by(open_rows.c[BUCKET])
                ).all()
            )
        window_start = ctx.now - timedelta(days=ACTIVE_DAYS)
        if cut is None:
            recent = _activity_union(ctx, window_start, ctx.now)
            active = s.execute(select(func.count(distinct(recent.c.account_id)))).scalar_one()
        else:
            first = window_start.astimezone(_zone(ctx.tz)).date() + timedelta(days=1)  # first whole local day
            last = max(first, cut)
            head = _activity_union(ctx, window_start, local_midnight_utc(first, ctx.tz))
            live = _activity_union(ctx, local_midnight_utc(last, ctx.tz), ctx.now)
            who = union_all(
                select(mp.account_id.label("account_id")).where(
                    mp.merchant_id == mid, mp.period == "day", mp.start >= first, mp.start < last
                ),
                select(head.c.account_id),
                select(live.c.account_id),
            ).subquery("who")
            active = s.execute(select(func.count(distinct(who.c.account_id)))).scalar_one()
        members = s.execute(
            select(func.count()).select_from(Account).where(_member_filter(ctx.merchant_id), Account.deleted_at.is_(None))
        ).scalar_one()
    return ActiveMembers(int(active or 0), int(members or 0), _fill(ctx.starts, rows))


@chart("month")
def cohort_retention(engine: Engine, ctx: _Ctx, *, months: int = 12) -> list[CohortRow]:
    """Monthly enrolment cohorts of the last ``months`` months (whatever ``period`` is) and the
    share of each cohort active again in days 30-59, 60-89 and 90-119 after enrolment; only
    members enrolled at least 60/90/120 days before ``now`` are counted for each share."""
    starts = bucket_starts("month", ctx.now, ctx.tz)[-months:]
    since = local_midnight_utc(starts[0], ctx.tz)
    span = (since, ctx.now)
    cohort = (
        select(
            Account.id.label("account_id"),
            Account.created_at.label("joined"),
            bucket_expr(Account.created_at, "month", ctx.dialect, ctx.tz, span).label("cohort"),
        )
        .where(_member_filter(ctx.merchant_id), Account.created_at >= since, Account.created_at < ctx.now)
        .cte("cohort")
    )

    # Per member and window: does any activity exist? Index seeks on each source's per-member
    # index that stop at the first row (a join to a UNION of both sources has no index).
    def active_between(lo: int, hi: int):
        start, end = plus_days(cohort.c.joined, lo, ctx.dialect), plus_days(cohort.c.joined, hi, ctx.dialect)
        ledger_hit = exists().where(
            LedgerEntry.account_id == cohort.c.account_id,
            LedgerEntry.kind.in_(MEMBER_KINDS),
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
            LedgerEntry.created_at < ctx.now,
        )
        activity_hit = exists().where(  # the account is the merchant's: no merchant_id term, so
            MemberActivity.account_id == cohort.c.account_id,  # the planner seeks (account_id, at)
            MemberActivity.at >= start,
            MemberActivity.at < end,
            MemberActivity.at < ctx.now,
        )
        return ledger_hit | activity_hit

    cols = []
    for d in RETENTION_DAYS:
        eligible = cohort.c.joined <= ctx.now - timedelta(days=d + RETENTION_SPAN)
        cols.append(func.sum(case((eligible, 1), else_=0)).label(f"e{d}"))
        cols.append(func.sum(case((and_(eligible, active_between(d, d + RETENTION_SPAN)), 1), else_=0)).label(f"k{d}"))
    stmt = select(cohort.c.cohort, func.count(), *cols).group_by(cohort.c.cohort)
    with read_session(engine) as s:
        got = {_day(row[0]): row for row in s.execute(stmt).all()}
    out = []
    for start in starts:
        row = got.get(start)
        if row is None:
            out.append(CohortRow(start, 0, {d: None for d in RETENTION_DAYS}, {d: 0 for d in RETENTION_DAYS}))
            continue
        members = int(row[1])
        eligible = {d: int(row[2 + 2 * i] or 0) for i, d in enumerate(RETENTION_DAYS)}
        kept = {d: int(row[3 + 2 * i] or 0) for i, d in enumerate(RETENTION_DAYS)}
        out.append(
            CohortRow(
                start, members, {d: (round(kept[d] / eligible[d], 4) if eligible[d] else None) for d in RETENTION_DAYS}, eligible
            )
        )
    return out
