"""Analytics rollups: closed local days of each merchant pre-aggregated, so the dashboard reads a
few hundred thousand small rows instead of every ledger entry and activity of the window.

What is rolled up (``models.analytics``), per merchant and local day in ``Merchant.timezone``:
- ``AnalyticsDailyPoints``: the sums of the ledger's earned/spent/expired/donated deltas (every
  entry kind) and the entry count: points flow and redemption rate;
- ``AnalyticsMemberPeriod``: one row per member active that day ("day"), and per member active
  on a closed day of each week ("week") and month ("month"): active members.
``AnalyticsRollupState.rolled_until`` (exclusive) says which days are in; ``services.insight.analytics``
reads the rollups for those days only and computes every later day (today, and any day not yet
rolled up) live from the base tables, so its answers are exact whatever the rollup's progress.

Assumption: a closed day never changes. The ledger is append-only (``models.append_only``) and
``services.ledger`` stamps ``created_at`` with the ``now`` of the write (``MemberActivity.at``
likewise in ``services.earning.actions``); in the app that is the time of the request, so no row lands
in a local day that is over. Two margins keep that true at the edges: a day is rolled up only
once it has been over for ``GRACE`` (a transaction that took its ``now`` just before midnight and
commits a little after is still seen), and a caller that writes with a past ``now`` (demo data,
tests, imports) must run the rollup after it or rebuild (``rebuild``). A bulk import of old rows
is exactly such a case: ``python -m loyalty_app.cli analytics-rollup --rebuild``.

Time zones and daylight saving: a local day is [local midnight, next local midnight) in UTC,
23 or 25 hours long on a daylight-saving change; the day of a row is computed by the same
expressions as the charts' buckets (``analytics.local_time_expr``). The state records the zone
the rollups were built in; after the merchant changes its zone the charts ignore the rollups
(all live, still exact) and the next round deletes them and rolls up again in the new zone.

Idempotence and concurrency: each chunk of days is one write transaction that first locks the
merchant's state row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite write transactions are
``BEGIN IMMEDIATE``), re-reads ``rolled_until``, aggregates the days after it and advances it.
A second worker (or a second run) waits for the lock and then finds those days done; every
insert is also ``ON CONFLICT DO NOTHING`` on the primary keys. So nothing is ever counted twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import Date, cast, delete, func, literal, literal_column, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import (
    AnalyticsDailyPoints,
    AnalyticsMemberPeriod,
    AnalyticsRollupState,
    LedgerEntry,
    MemberActivity,
    Merchant,
)
from loyalty_app.services.insight.analytics import (
    MEMBER_KINDS,
    _utc,
    _zone,
    date_bucket_expr,
    local_midnight_utc,
    local_time_expr,
)

log = logging.getLogger("loyalty_app.analytics_rollup")
GRACE = timedelta(hours=1)  # a local day is rolled up once it has been over this long
CHUNK_DAYS = 7  # days per write transaction (keeps SQLite's write lock short)


def closed_until(now: datetime, tz: str) -> date:
    """The first local day that is not closed yet at ``now`` (exclusive end of what may be rolled up)."""
    return (_utc(now) - GRACE).astimezone(_zone(tz)).date()


def _insert(dialect: str, table):
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _local_date(column, dialect: str, tz: str, span: tuple[datetime, datetime]):
    local = local_time_expr(column, dialect, tz, span)
    if dialect == "postgresql":
        return cast(local, Date)
    return func.date(local)


def _first_day(s, merchant_id: int, tz: str) -> date | None:
    """The local day of the merchant's oldest ledger entry or activity (None without any)."""
    oldest = [
        s.execute(select(func.min(LedgerEntry.created_at)).where(LedgerEntry.merchant_id == merchant_id)).scalar_one(),
        s.execute(select(func.min(MemberActivity.at)).where(MemberActivity.merchant_id == merchant_id)).scalar_one(),
    ]
    moments = [_utc(m) if isinstance(m, datetime) else _utc(datetime.fromisoformat(str(m))) for m in oldest if m is not None]
    if not moments:
        return None
    return min(moments).astimezone(_zone(tz)).date()


def _roll_days(s, dialect: str, merchant_id: int, tz: str, lo: date, hi: date) -> None:
    """Aggregate the local days [lo, hi) into the rollup tables (inserts that skip existing keys)."""
    since, until = local_midnight_utc(lo, tz), local_midnight_utc(hi, tz)
    span = (since, until)
    day = _local_date(LedgerEntry.created_at, dialect, tz, span)
    points = (
        select(
            literal(merchant_id),
            day.label("d"),
            func.sum(LedgerEntry.earned_delta),
            func.sum(LedgerEntry.spent_delta),
            func.sum(LedgerEntry.expired_delta),
            func.sum(LedgerEntry.donated_delta),
            func.count(),
        )
        .where(LedgerEntry.merchant_id == merchant_id, LedgerEntry.created_at >= since, LedgerEntry.created_at < until)
        .group_by(literal_column("d"))  # PostgreSQL would not match two bound copies of the zone
    )
    s.execute(
        _insert(dialect, AnalyticsDailyPoints)
        .from_select(["merchant_id", "local_day", "earned", "spent", "expired", "donated", "entries"], points)
        .on_conflict_do_nothing()
    )

    acts = union(  # distinct (account, local day) of every member activity (the charts' definition)
        select(
            LedgerEntry.account_id.label("account_id"), _local_date(LedgerEntry.created_at, dialect, tz, span).label("d")
        ).where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.created_at >= since,
            LedgerEntry.created_at < until,
            LedgerEntry.kind.in_(MEMBER_KINDS),
        ),
        select(MemberActivity.account_id.label("account_id"), _local_date(MemberActivity.at, dialect, tz, span).label("d")).where(
            MemberActivity.merchant_id == merchant_id,
            MemberActivity.at >= since,
            MemberActivity.at < until,
        ),
    ).subquery("acts")
    s.execute(
        _insert(dialect, AnalyticsMemberPeriod)
        .from_select(
            ["merchant_id", "period", "start", "account_id"],
            select(literal(merchant_id), literal("day"), acts.c.d, acts.c.account_id).where(acts.c.d.is_not(None)),
        )
        .on_conflict_do_nothing()
    )
    days = AnalyticsMemberPeriod
    for period in ("week", "month"):
        start = date_bucket_expr(days.start, period, dialect, as_date=True)
        s.execute(
            _insert(dialect, AnalyticsMemberPeriod)
            .from_select(
                ["merchant_id", "period", "start", "account_id"],
                select(literal(merchant_id), literal(period), start, days.account_id)
                .where(days.merchant_id == merchant_id, days.period == "day", days.start >= lo, days.start < hi)
                .distinct(),
            )
            .on_conflict_do_nothing()
        )


def _reset(s, merchant_id: int) -> None:
    for table in (AnalyticsDailyPoints, AnalyticsMemberPeriod):
        s.execute(delete(table).where(table.merchant_id == merchant_id))


def _chunk(engine: Engine, merchant_id: int, now: datetime, chunk_days: int, rebuild: bool) -> int:
    """One write transaction: roll up at most ``chunk_days`` more closed days; returns how many."""
    dialect = engine.dialect.name
    with write_session(engine) as s:
        merchant = s.get(Merchant, merchant_id)
        if merchant is None:
            return 0
        tz = merchant.timezone or "UTC"
        state = s.get(AnalyticsRollupState, merchant_id, with_for_update=True)
        end = closed_until(now, tz)
        if state is None or state.timezone != tz or rebuild:
            # First run, or the merchant changed time zone: the old local days are wrong now.
            _reset(s, merchant_id)
            first = _first_day(s, merchant_id, tz) or end
            first = min(first, end)
            if state is None:
                state = AnalyticsRollupState(merchant_id=merchant_id, timezone=tz, first_day=first, rolled_until=first)
            else:
                state.timezone, state.first_day, state.rolled_until = tz, first, first
        lo = state.rolled_until
        hi = min(lo + timedelta(days=chunk_days), end)
        if hi > lo:
            _roll_days(s, dialect, merchant_id, tz, lo, hi)
            state.rolled_until = hi
        state.updated_at = utcnow()
        s.add(state)
    return max((hi - lo).days, 0)


def rollup_merchant(
    engine: Engine,
    merchant_id: int,
    *,
    now: datetime | None = None,
    rebuild: bool = False,
    chunk_days: int = CHUNK_DAYS,
    max_days: int | None = None,
) -> int:
    """Roll up every closed local day of one merchant not rolled up yet (all of them again with
    ``rebuild``), ``chunk_days`` per transaction; returns the number of days added."""
    now = now or utcnow()
    total = races = 0
    while max_days is None or total < max_days:
        step = chunk_days if max_days is None else min(chunk_days, max_days - total)
        try:
            done = _chunk(engine, merchant_id, now, step, rebuild)
        except IntegrityError:
            # Two first runs raced to create the state row; the loser retries and finds it.
            races += 1
            if races > 3:
                raise
            continue
        except OperationalError as exc:  # SQLite busy beyond its timeout, a lost connection: next round
            log.warning("analytics rollup of merchant %s deferred: %s", merchant_id, exc)
            break
        rebuild = False
        if done == 0:
            break
        total += done
    return total


def run_rollups(
    engine: Engine, *, now: datetime | None = None, rebuild: bool = False, merchant_ids: list[int] | None = None
) -> int:
    """Every merchant's rollups brought up to date (the periodic jobs' step); days added."""
    now = now or utcnow()
    if merchant_ids is None:
        with read_session(engine) as s:
            merchant_ids = list(s.execute(select(Merchant.id)).scalars().all())
    return sum(rollup_merchant(engine, mid, now=now, rebuild=rebuild) for mid in merchant_ids)
