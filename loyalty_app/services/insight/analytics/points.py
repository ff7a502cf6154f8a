"""Points: issued, redeemed, expired and donated per period, the redemption rate (closed days
from the daily rollup) and the outstanding liability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, literal_column, select, union_all
from sqlalchemy.engine import Engine

from loyalty_app.db import read_session
from loyalty_app.models import AnalyticsDailyPoints, LedgerEntry, MemberBalance, ProgramSettings
from loyalty_app.services.insight.analytics.common import (
    BUCKET,
    _Ctx,
    _day,
    _rollup_cut,
    bucket_expr,
    chart,
    date_bucket_expr,
    local_midnight_utc,
)

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class FlowBucket:
    start: date
    issued: int
    redeemed: int
    expired: int
    donated: int


@dataclass(frozen=True)
class RedemptionRate:
    issued: int
    redeemed: int
    rate: float | None  # redeemed / issued


@dataclass(frozen=True)
class Liability:
    available: int
    pending: int
    value_cents: int | None  # None when the program has no point value
    currency: str

    @property
    def points(self) -> int:
        return self.available + self.pending


# --------------------------------------------------------------------------- charts


def _ledger_sums(engine: Engine, ctx: _Ctx, *, by_bucket: bool):
    """(bucket?, earned, spent, expired, donated) sums over the window: the rollup's closed days
    and the live ledger after them (all live without a usable rollup)."""
    cut = _rollup_cut(engine, ctx)
    le, dp = LedgerEntry, AnalyticsDailyPoints
    if cut is None or cut <= ctx.starts[0]:
        live_from, rolled = ctx.since, None
    else:
        live_from = local_midnight_utc(cut, ctx.tz)
        rolled = select(
            *([date_bucket_expr(dp.local_day, ctx.period, ctx.dialect).label(BUCKET)] if by_bucket else []),
            dp.earned.label("earned"),
            dp.spent.label("spent"),
            dp.expired.label("expired"),
            dp.donated.label("donated"),
        ).where(dp.merchant_id == ctx.merchant_id, dp.local_day >= ctx.starts[0], dp.local_day < cut)
    live = select(
        *([bucket_expr(le.created_at, ctx.period, ctx.dialect, ctx.tz, (live_from, ctx.now)).label(BUCKET)] if by_bucket else []),
        le.earned_delta.label("earned"),
        le.spent_delta.label("spent"),
        le.expired_delta.label("expired"),
        le.donated_delta.label("donated"),
    ).where(le.merchant_id == ctx.merchant_id, le.created_at >= live_from, le.created_at < ctx.now)
    src = (live if rolled is None else union_all(rolled, live)).subquery("flows")
    keys = [src.c[BUCKET].label(BUCKET)] if by_bucket else []
    stmt = select(*keys, func.sum(src.c.earned), func.sum(src.c.spent), func.sum(src.c.expired), func.sum(src.c.donated))
    if by_bucket:
        stmt = stmt.group_by(literal_column(BUCKET))
    with read_session(engine) as s:
        return s.execute(stmt).all()


@chart()
def points_flow(engine: Engine, ctx: _Ctx) -> list[FlowBucket]:
    """Points issued, redeemed, expired and donated per period (sums of the ledger's deltas;
    closed days from the daily rollup when there is one)."""
    got = {_day(row[0]): [int(v or 0) for v in row[1:]] for row in _ledger_sums(engine, ctx, by_bucket=True)}
    return [FlowBucket(d, *got.get(d, [0, 0, 0, 0])) for d in ctx.starts]


@chart()
def redemption_rate(engine: Engine, ctx: _Ctx) -> RedemptionRate:
    """Points redeemed / points issued over the whole window (None when nothing was issued)."""
    row = _ledger_sums(engine, ctx, by_bucket=False)[0]
    issued, redeemed = int(row[0] or 0), int(row[1] or 0)
    return RedemptionRate(issued, redeemed, round(redeemed / issued, 4) if issued > 0 else None)


@chart()
def liability(engine: Engine, ctx: _Ctx) -> Liability:
    """Outstanding points now (available + pending, from the balance rows) and their value when
    the program sets a point value. ``period`` does not apply: the liability is a stock."""
    with read_session(engine) as s:
        available, pending = s.execute(
            select(func.coalesce(func.sum(MemberBalance.available), 0), func.coalesce(func.sum(MemberBalance.pending), 0)).where(
                MemberBalance.merchant_id == ctx.merchant_id
            )
        ).one()
        settings = s.get(ProgramSettings, ctx.merchant_id)
    # The value of one point in minor units, once the program model has it (see the package docstring).
    point_value = getattr(settings, "point_value_cents", None) if settings is not None else None
    total = int(available or 0) + int(pending or 0)
    value = round(total * point_value) if isinstance(point_value, (int, float)) and point_value > 0 else None
    return Liability(int(available or 0), int(pending or 0), value, ctx.currency)
