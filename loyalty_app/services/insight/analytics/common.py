"""What every chart shares: periods and their buckets in the merchant's time zone, the SQL
dialect helpers, the chart context (authorization, window) and where the rollups end."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, DateTime, String, and_, case, cast, extract, func, literal
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import Account, AnalyticsRollupState, Merchant, Role
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor

T = TypeVar("T")

PERIODS = ("day", "week", "month")
BUCKET = "bucket_key"  # grouped by this output name: PostgreSQL would not match two bound copies
WINDOW_BUCKETS = {"day": 30, "week": 12, "month": 12}
MEMBER_KINDS = ("earn", "redeem", "donate")  # ledger entries a member causes
VISIT_ACTIONS = ("purchase", "check_in")


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Bucket:
    start: date  # first local day of the period
    value: int


# --------------------------------------------------------------------------- time helpers


def _utc(moment: datetime) -> datetime:
    """Aware UTC (the models' datetime type refuses naive values; naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight_utc(day: date, tz: str) -> datetime:
    """00:00 of ``day`` in ``tz``, in UTC."""
    return _utc(datetime.combine(day, time(0), tzinfo=_zone(tz)))


def bucket_starts(period: str, now: datetime, tz: str) -> list[date]:
    """The first local day of each period in the window, oldest first."""
    _check_period(period)
    today = _utc(now).astimezone(_zone(tz)).date()
    n = WINDOW_BUCKETS[period]
    if period == "day":
        return [today - timedelta(days=i) for i in range(n - 1, -1, -1)]
    if period == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=i) for i in range(n - 1, -1, -1)]
    first = today.replace(day=1)
    months = []
    y, m = first.year, first.month
    for _ in range(n):
        months.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise LoyaltyError(N_("Unknown period."), code="bad_period")


def utc_offset_segments(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """[(from, offset minutes)] of ``tz`` between two UTC instants: one segment per
    daylight-saving change (transitions found to the second)."""
    zone = _zone(tz)

    def offset(epoch: int) -> int:
        moment = datetime.fromtimestamp(epoch, UTC).astimezone(zone)
        return int(moment.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]

    lo_epoch = int(_utc(start).timestamp())
    hi_epoch = int(_utc(end).timestamp())
    segments = [(start, offset(lo_epoch))]
    t = lo_epoch
    while t < hi_epoch:
        nxt = min(t + 86_400, hi_epoch)
        if offset(nxt) != segments[-1][1]:
            lo, hi = t, nxt  # offset(lo) is the current one, offset(hi) the next
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == segments[-1][1]:
                    lo = mid
                else:
                    hi = mid
            segments.append((datetime.fromtimestamp(hi, UTC), offset(hi)))
        t = nxt
    return segments


def local_time_expr(column, dialect: str, tz: str, span: tuple[datetime, datetime]) -> ColumnElement:
    """``column`` (a stored UTC instant) as the merchant's local wall-clock time."""
    if dialect == "postgresql":  # timestamptz AT TIME ZONE tz
        return func.timezone(tz or "UTC", column)
    segments = utc_offset_segments(tz, span[0] - timedelta(days=1), span[1] + timedelta(days=1))
    if len(segments) == 1:
        minutes = segments[0][1]
        return column if minutes == 0 else func.datetime(column, f"{minutes:+d} minutes")
    whens = [(column < segments[i + 1][0], literal(f"{segments[i][1]:+d} minutes")) for i in range(len(segments) - 1)]
    return func.datetime(column, case(*whens, else_=literal(f"{segments[-1][1]:+d} minutes")))


def bucket_expr(column, period: str, dialect: str, tz: str, span: tuple[datetime, datetime]) -> ColumnElement:
    """The first local day of ``column``'s period as 'YYYY-MM-DD' text, on SQLite and PostgreSQL."""
    _check_period(period)
    local = local_time_expr(column, dialect, tz, span)
    if dialect == "postgresql":
        return func.to_char(func.date_trunc(period, local), "YYYY-MM-DD", type_=String)
    if period == "day":
        return func.date(local, type_=String)
    if period == "week":  # SQLite: to the next Sunday (or today), back 6 days = ISO Monday
        return func.date(local, "weekday 0", "-6 days", type_=String)
    return func.strftime("%Y-%m-01", local, type_=String)


def date_bucket_expr(column, period: str, dialect: str, *, as_date: bool = False) -> ColumnElement:
    """The first day of the period of ``column``, a local calendar day (a DATE column, as the
    rollups store it): 'YYYY-MM-DD' text like ``bucket_expr``, or a date with ``as_date``."""
    _check_period(period)
    if dialect == "postgresql":
        day = column if period == "day" else func.date_trunc(period, cast(column, DateTime))
        return cast(day, Date) if as_date else func.to_char(day, "YYYY-MM-DD", type_=String)
    if period == "day":
        return func.date(column, type_=String)
    if period == "week":
        return func.date(column, "weekday 0", "-6 days", type_=String)
    return func.strftime("%Y-%m-01", column, type_=String)


def next_period_start(start: date, period: str) -> date:
    """The first day of the period after the one starting on ``start``."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(weeks=1)
    return date(start.year + 1, 1, 1) if start.month == 12 else date(start.year, start.month + 1, 1)


def days_between(start, end, dialect: str) -> ColumnElement:
    """``end - start`` in days (fractional), for two timestamp expressions."""
    if dialect == "postgresql":
        return extract("epoch", end - start) / 86400.0
    return func.julianday(end) - func.julianday(start)


def plus_days(column, days: int, dialect: str) -> ColumnElement:
    """``column`` (a timestamp) plus whole days, comparable with stored timestamps."""
    if dialect == "postgresql":
        return column + timedelta(days=days)
    # The stored text format, so comparisons with other timestamps stay exact.
    return func.strftime("%Y-%m-%d %H:%M:%f000", column, f"+{int(days)} days")


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --------------------------------------------------------------------------- context


@dataclass(frozen=True)
class _Ctx:
    merchant_id: int
    tz: str
    currency: str
    dialect: str
    period: str
    now: datetime  # aware UTC
    starts: list[date]
    since: datetime  # aware UTC: the window's first local midnight

    @property
    def span(self) -> tuple[datetime, datetime]:
        return (self.since, self.now)

    def bucket(self, column) -> ColumnElement:
        return bucket_expr(column, self.period, self.dialect, self.tz, self.span)


def _context(engine: Engine, actor: Actor | None, period: str, now: datetime | None, merchant_id: int | None) -> _Ctx:
    mid = merchant_id if merchant_id is not None else (actor.merchant_id if actor else 0)
    permissions.authorize(engine, actor, Action.ADMIN_VIEW_ANALYTICS, merchant_id=mid)
    _check_period(period)
    moment = now or utcnow()
    with read_session(engine) as s:
        merchant = s.get(Merchant, mid)
        tz = (merchant.timezone if merchant else "UTC") or "UTC"
        currency = merchant.currency if merchant else "EUR"
    starts = bucket_starts(period, moment, tz)
    return _Ctx(mid, tz, currency, engine.dialect.name, period, _utc(moment), starts, local_midnight_utc(starts[0], tz))


def chart(default_period: str = "day") -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Give a chart the signature every chart shares (the package docstring):
    ``(engine, actor, *, period=default_period, now=None, merchant_id=None, **options)``. The
    decorated function is called as ``(engine, ctx, **options)``, ``ctx`` from ``_context`` (which
    authorizes the actor first)."""

    def decorate(compute: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(compute, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def run(
            engine: Engine,
            actor: Actor | None,
            *,
            period: str = default_period,
            now: datetime | None = None,
            merchant_id: int | None = None,
            **options: Any,
        ) -> T:
            return compute(engine, _context(engine, actor, period, now, merchant_id), **options)

        # What help() and inspect show: the shared parameters, then the chart's own options.
        shared = list(inspect.signature(run, follow_wrapped=False).parameters.values())[:-1]
        own = list(inspect.signature(compute).parameters.values())[2:]
        run.__signature__ = inspect.signature(compute).replace(parameters=shared + own)  # type: ignore[attr-defined]
        return run

    return decorate


# --------------------------------------------------------------------------- rollups

_LIVE_ONLY: ContextVar[bool] = ContextVar("analytics_live_only", default=False)


@contextlib.contextmanager
def live_only() -> Iterator[None]:
    """Within this block every chart ignores the rollups and reads the base tables only (the
    reference the rollup tests and the benchmark compare with)."""
    token = _LIVE_ONLY.set(True)
    try:
        yield
    finally:
        _LIVE_ONLY.reset(token)


def _rollup_cut(engine: Engine, ctx: _Ctx) -> date | None:
    """Local days before the returned one are read from the rollups (``services.insight.analytics_rollup``);
    the rest of a window, from that day's local midnight to ``now``, is computed live. None: no
    usable rollup (none yet, built in another time zone, or ``live_only``)."""
    if _LIVE_ONLY.get():
        return None
    with read_session(engine) as s:
        state = s.get(AnalyticsRollupState, ctx.merchant_id)
    if state is None or state.timezone != ctx.tz:
        return None
    today = ctx.now.astimezone(_zone(ctx.tz)).date()  # a rollup newer than ``now`` is cut at today
    return min(_day(state.rolled_until), today)


def _fill(starts: Sequence[date], rows) -> list[Bucket]:
    got = {_day(key): int(value or 0) for key, value in rows}
    return [Bucket(d, got.get(d, 0)) for d in starts]


def _member_filter(mid: int):
    return and_(Account.merchant_id == mid, Account.role == Role.MEMBER)
