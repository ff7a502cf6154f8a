"""Analytics rollups (``services.insight.analytics_rollup``): every chart answers the same with rollups as
computed live from the base tables, on SQLite and PostgreSQL (``db_engine``).

Generated data: a merchant in Europe/Bucharest (UTC+3 in summer, UTC+2 from 2026-10-25 01:00 UTC)
with 24 members and about 1,200 ledger entries and activities of every kind from 2026-08-20 to
2026-12-05, many of them within an hour of local midnight, so the daylight-saving change and
day boundaries are crossed; a second merchant's rows must never leak in.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from loyalty_app.db import read_session, write_session
from loyalty_app.models import (
    Account,
    AnalyticsDailyPoints,
    AnalyticsMemberPeriod,
    AnalyticsRollupState,
    LedgerEntry,
    MemberActivity,
    MemberBalance,
    Merchant,
    Role,
)
from loyalty_app.services.insight import analytics, analytics_rollup
from loyalty_app.services.operations.jobs import run_periodic_jobs
from loyalty_app.services.platform.permissions import Actor

TZ = "Europe/Bucharest"
START = datetime(2026, 8, 20, tzinfo=UTC)
END = datetime(2026, 12, 5, tzinfo=UTC)
ROLL_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # local 14:00, Monday
# Chart moments: before/at/after the rollup's end, on the DST day, just after local midnight.
NOWS = (
    datetime(2026, 10, 25, 9, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 22, 30, tzinfo=UTC),  # local 2026-11-02 00:30, a Monday
    ROLL_NOW,
    datetime(2026, 11, 25, 18, 45, tzinfo=UTC),  # two days the rollup has not seen
    datetime(2026, 12, 1, 3, 0, tzinfo=UTC),  # a new month
)
KINDS = (  # kind, points sign, delta column
    ("earn", 1, "earned_delta"),
    ("earn", 1, "earned_delta"),
    ("earn", 1, "earned_delta"),
    ("redeem", -1, "spent_delta"),
    ("donate", -1, "donated_delta"),
    ("expire", -1, "expired_delta"),
    ("reversal", -1, "earned_delta"),
    ("adjustment", 1, None),
    ("release", 1, None),
)


def _moment(rng: random.Random) -> datetime:
    day = START + timedelta(days=rng.randrange((END - START).days))
    if rng.random() < 0.4:  # near local midnight (21:00-23:00 UTC covers it in both offsets)
        return day.replace(hour=rng.choice((20, 21, 22, 23)), minute=rng.randrange(60), second=rng.randrange(60))
    return day + timedelta(seconds=rng.randrange(86_400))


@pytest.fixture
def program(db_engine):
    rng = random.Random(20261025)
    with write_session(db_engine) as s:
        cafe = Merchant(slug="cafe", name="Cafe", short_name="Cafe", timezone=TZ)
        other = Merchant(slug="other", name="Other", short_name="Other", timezone="UTC")
        s.add(cafe)
        s.add(other)
        s.flush()
        admin = Account(
            merchant_id=cafe.id,
            role=Role.ADMIN,
            email="boss@x.test",
            password_hash="x",
            first_name="Boss",
            member_number="A1",
            created_at=START - timedelta(days=400),
        )
        s.add(admin)
        members = []
        for i in range(26):
            merchant = cafe.id if i < 24 else other.id
            a = Account(
                merchant_id=merchant,
                role=Role.MEMBER,
                email=f"m{i}@x.test",
                password_hash="x",
                first_name=f"M{i}",
                member_number=f"M{i:03d}",
                created_at=START - timedelta(days=rng.randrange(0, 300)),
            )
            s.add(a)
            s.flush()
            members.append((a.id, merchant))
            s.add(
                MemberBalance(
                    account_id=a.id, merchant_id=merchant, available=rng.randrange(500), lifetime_earned=rng.randrange(2000)
                )
            )
        n = 0
        for _ in range(900):
            account_id, merchant = rng.choice(members)
            kind, sign, column = rng.choice(KINDS)
            points = rng.randrange(1, 200)
            when = _moment(rng)
            n += 1
            deltas = {column: points * (1 if kind != "reversal" else -1)} if column else {}
            s.add(
                LedgerEntry(
                    merchant_id=merchant,
                    account_id=account_id,
                    kind=kind,
                    points=sign * points,
                    available_delta=sign * points,
                    reason="test",
                    idempotency_key=f"e{n}",
                    request_hash="h",
                    created_at=when,
                    **deltas,
                )
            )
        for _ in range(300):
            account_id, merchant = rng.choice(members)
            when = _moment(rng)
            n += 1
            s.add(
                MemberActivity(
                    merchant_id=merchant,
                    account_id=account_id,
                    action=rng.choice(("purchase", "check_in", "write_review")),
                    at=when,
                    local_day=when.date(),
                    idempotency_key=f"a{n}",
                )
            )
        ids = {"cafe": cafe.id, "other": other.id, "admin": admin.id}
    return {"engine": db_engine, "ids": ids, "admin": Actor(ids["admin"], ids["cafe"], Role.ADMIN)}


def _boards(program, now, period):
    engine, actor = program["engine"], program["admin"]
    with_rollups = analytics.dashboard(engine, actor, period=period, now=now)
    with analytics.live_only():
        live = analytics.dashboard(engine, actor, period=period, now=now)
    return with_rollups, live


def _assert_same_as_live(program, nows=NOWS):
    for now in nows:
        for period in analytics.PERIODS:
            with_rollups, live = _boards(program, now, period)
            assert with_rollups == live, (now, period)


def _state(program) -> AnalyticsRollupState | None:
    with read_session(program["engine"]) as s:
        return s.get(AnalyticsRollupState, program["ids"]["cafe"])


def _snapshot(engine) -> tuple[list, list]:
    with read_session(engine) as s:
        points = [
            tuple(r)
            for r in s.execute(
                select(
                    AnalyticsDailyPoints.merchant_id,
                    AnalyticsDailyPoints.local_day,
                    AnalyticsDailyPoints.earned,
                    AnalyticsDailyPoints.spent,
                    AnalyticsDailyPoints.expired,
                    AnalyticsDailyPoints.donated,
                    AnalyticsDailyPoints.entries,
                ).order_by(AnalyticsDailyPoints.merchant_id, AnalyticsDailyPoints.local_day)
            ).all()
        ]
        people = [
            tuple(r)
            for r in s.execute(
                select(
                    AnalyticsMemberPeriod.merchant_id,
                    AnalyticsMemberPeriod.period,
                    AnalyticsMemberPeriod.start,
                    AnalyticsMemberPeriod.account_id,
                ).order_by(
                    AnalyticsMemberPeriod.merchant_id,
                    AnalyticsMemberPeriod.period,
                    AnalyticsMemberPeriod.start,
                    AnalyticsMemberPeriod.account_id,
                )
            ).all()
        ]
    return points, people


def _ledger_total(engine, merchant_id: int, until: datetime) -> tuple[int, int]:
    with read_session(engine) as s:
        earned, count = s.execute(
            select(func.coalesce(func.sum(LedgerEntry.earned_delta), 0), func.count()).where(
                LedgerEntry.merchant_id == merchant_id, LedgerEntry.created_at < until
            )
        ).one()
    return int(earned), int(count)


def _rolled_total(engine, merchant_id: int) -> tuple[int, int]:
    with read_session(engine) as s:
        earned, count = s.execute(
            select(
                func.coalesce(func.sum(AnalyticsDailyPoints.earned), 0), func.coalesce(func.sum(AnalyticsDailyPoints.entries), 0)
            ).where(AnalyticsDailyPoints.merchant_id == merchant_id)
        ).one()
    return int(earned), int(count)


# ------------------------------------------------------------------ same answers


def test_every_chart_with_rollups_equals_live(program):
    engine, mid = program["engine"], program["ids"]["cafe"]
    days = analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    state = _state(program)
    assert state is not None and state.timezone == TZ
    assert state.rolled_until == date(2026, 11, 23)  # today (local) is still open
    assert days >= (date(2026, 11, 23) - state.first_day).days
    # Every entry before local 2026-11-23 00:00 (22:00 UTC on the 22nd) is in the rollup, none after.
    assert _rolled_total(engine, mid) == _ledger_total(engine, mid, datetime(2026, 11, 22, 22, 0, tzinfo=UTC))
    _assert_same_as_live(program)


def test_the_charts_really_read_the_rollups(program):
    """A tampered rollup changes the answer: the equality above is not live == live."""
    engine, mid = program["engine"], program["ids"]["cafe"]
    analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    day = date(2026, 11, 10)
    with write_session(engine) as s:
        row = s.get(AnalyticsDailyPoints, (mid, day))
        if row is None:
            row = AnalyticsDailyPoints(merchant_id=mid, local_day=day)
        row.earned += 1000
        s.add(row)
        s.add(AnalyticsMemberPeriod(merchant_id=mid, period="week", start=date(2026, 11, 9), account_id=999_999))
    with_rollups, live = _boards(program, ROLL_NOW, "week")
    assert sum(b.issued for b in with_rollups.flows) == sum(b.issued for b in live.flows) + 1000
    assert with_rollups.redemption.issued == live.redemption.issued + 1000
    week = {b.start: b.value for b in with_rollups.active.series}
    assert week[date(2026, 11, 9)] == {b.start: b.value for b in live.active.series}[date(2026, 11, 9)] + 1


# ------------------------------------------------------------------ idempotent, concurrent, incremental


def test_running_twice_changes_nothing(program):
    engine = program["engine"]
    analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    first = _snapshot(engine)
    assert first[0] and first[1]
    assert analytics_rollup.run_rollups(engine, now=ROLL_NOW) == 0
    assert _snapshot(engine) == first
    analytics_rollup.run_rollups(engine, now=ROLL_NOW, rebuild=True)  # from scratch: the same rows
    assert _snapshot(engine) == first


def test_two_workers_at_once_count_every_day_once(program):
    engine, mid = program["engine"], program["ids"]["cafe"]
    barrier = threading.Barrier(2)

    def work(_):
        barrier.wait()
        return analytics_rollup.rollup_merchant(engine, mid, now=ROLL_NOW, chunk_days=3)

    with ThreadPoolExecutor(2) as pool:
        done = list(pool.map(work, range(2)))  # re-raises a worker's exception
    state = _state(program)
    assert sum(done) == (state.rolled_until - state.first_day).days  # each day rolled by exactly one of them
    together = _snapshot(engine)
    assert _rolled_total(engine, mid) == _ledger_total(engine, mid, datetime(2026, 11, 22, 22, 0, tzinfo=UTC))
    analytics_rollup.rollup_merchant(engine, mid, now=ROLL_NOW, rebuild=True)
    assert _snapshot(engine) == together
    _assert_same_as_live(program, (ROLL_NOW,))


def test_a_day_that_closes_is_picked_up_by_the_next_round(program):
    engine, mid = program["engine"], program["ids"]["cafe"]
    analytics_rollup.run_rollups(engine, now=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    assert _state(program).rolled_until == date(2026, 11, 20)
    # Local 2026-11-22 00:30: the 21st is over, but for less than the grace hour.
    run_periodic_jobs(engine, now=datetime(2026, 11, 21, 22, 30, tzinfo=UTC))
    assert _state(program).rolled_until == date(2026, 11, 21)
    later = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # local 01:30: the 21st is closed
    run_periodic_jobs(engine, now=later)
    assert _state(program).rolled_until == date(2026, 11, 22)
    with read_session(engine) as s:
        row = s.get(AnalyticsDailyPoints, (mid, date(2026, 11, 21)))
    # Local 2026-11-21 = [2026-11-20 22:00, 2026-11-21 22:00) UTC (winter time, UTC+2).
    lo, hi = datetime(2026, 11, 20, 22, 0, tzinfo=UTC), datetime(2026, 11, 21, 22, 0, tzinfo=UTC)
    earned_hi, n_hi = _ledger_total(engine, mid, hi)
    earned_lo, n_lo = _ledger_total(engine, mid, lo)
    assert n_hi > n_lo, "the generated data has entries on that day"
    assert (row.earned, row.entries) == (earned_hi - earned_lo, n_hi - n_lo)
    _assert_same_as_live(program, (later, ROLL_NOW))


def test_the_daylight_saving_day_has_25_hours(program):
    """Local 2026-10-25 runs from 2026-10-24 21:00 UTC (UTC+3) to 2026-10-25 22:00 UTC (UTC+2)."""
    engine, mid = program["engine"], program["ids"]["cafe"]
    analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    with read_session(engine) as s:
        row = s.get(AnalyticsDailyPoints, (mid, date(2026, 10, 25)))
        n = s.execute(
            select(func.count()).where(
                LedgerEntry.merchant_id == mid,
                LedgerEntry.created_at >= datetime(2026, 10, 24, 21, 0, tzinfo=UTC),
                LedgerEntry.created_at < datetime(2026, 10, 25, 22, 0, tzinfo=UTC),
            )
        ).scalar_one()
    assert n > 0 and row is not None and row.entries == n


# ------------------------------------------------------------------ time-zone change


def test_a_time_zone_change_rebuilds_the_rollups(program):
    engine, mid = program["engine"], program["ids"]["cafe"]
    analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    before = _snapshot(engine)
    with write_session(engine) as s:
        s.get(Merchant, mid).timezone = "America/New_York"  # DST ends there on 2026-11-01
    # Stale rollups (Bucharest days) are ignored until rebuilt: still the live answer.
    _assert_same_as_live(program, (ROLL_NOW, NOWS[1]))
    analytics_rollup.run_rollups(engine, now=ROLL_NOW)
    state = _state(program)
    assert state.timezone == "America/New_York"
    assert state.rolled_until == date(2026, 11, 23)  # 12:00 UTC is 07:00 in New York
    assert _snapshot(engine) != before
    # Local 2026-11-23 00:00 in New York is 05:00 UTC.
    assert _rolled_total(engine, mid) == _ledger_total(engine, mid, datetime(2026, 11, 23, 5, 0, tzinfo=UTC))
    _assert_same_as_live(program)
