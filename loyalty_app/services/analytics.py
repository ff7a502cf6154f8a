"""The merchant console's analytics: one function per chart, every aggregation in SQL.

Each chart function has the signature ``(engine, actor, *, period="day"|"week"|"month", now=None,
merchant_id=None, ...)``: it authorizes ``Action.ADMIN_VIEW_ANALYTICS`` for the actor's merchant
(or for ``merchant_id`` when given, which must be the actor's), runs a few grouped queries and
returns small dataclasses ready for a chart. Python only fills empty periods with zeros and
divides two sums; counting, summing, date truncation, ranking (NTILE) happen in the database.

Periods and time zone. ``period`` picks the buckets and the window a chart covers:
``day`` = the last 30 days, ``week`` = the last 12 weeks (Monday to Sunday), ``month`` = the last
12 calendar months, each ending at ``now`` and counted in the merchant's time zone
(``Merchant.timezone``). Date truncation is a small dialect helper (``bucket_expr``):
``date_trunc`` on PostgreSQL after ``AT TIME ZONE`` (the columns are timestamptz); ``date``/``strftime`` on SQLite after
shifting the stored UTC time by the zone's offset. SQLite has no time-zone database, so the
offset is a ``CASE`` over the zone's UTC-offset changes (daylight saving) inside the queried span,
computed here from ``zoneinfo``: both back ends put every row in the same local day.
SQLite needs 3.30+ (window functions came in 3.25, ``NULLS FIRST`` in 3.30); this machine has
3.40. Python's own ``sqlite3`` module uses the system library.

Rollups. Points flow, redemption rate and active members read closed local days from the
per-merchant rollup tables (``services.analytics_rollup``, filled by the periodic jobs) and
compute only the days after the rollup's end (today, and any day not rolled up yet) from the
base tables, so their answers are the same as a fully live computation (``live_only()``).

Definitions (what the console shows):
- enrolment: a member account created (``Account.created_at``, role member; deleted accounts
  still count, they did enrol).
- activity: a ledger entry the member caused (kinds earn, redeem, donate) or a rewarded action
  (``MemberActivity``: purchases, check-ins, reviews...). Expiry, release, reversal and manual
  adjustment entries are the program's doing, not the member's.
- active member: a member with any activity in the last 30 days (before ``now``).
- cohort retention: members are grouped by the calendar month they enrolled in (last 12
  months); retention at 30 / 60 / 90 days is the share of a cohort's members with any activity
  in days 30-59 / 60-89 / 90-119 after their own enrolment. Only members enrolled long enough
  ago to have lived the whole window (60 / 90 / 120 days) count, in numerator and denominator;
  a share with nobody eligible yet is None.
- points issued / redeemed / expired / donated: the sums of the ledger's ``earned_delta`` /
  ``spent_delta`` / ``expired_delta`` / ``donated_delta`` in each period (net of reversals,
  counted when the reversal happened; manual adjustments are not issuing).
- redemption rate: points redeemed / points issued in the window; None when nothing was issued.
- liability: outstanding available + pending points (``MemberBalance``) now, and their value
  when the program sets a point value (``ProgramSettings.point_value_cents``; the model has no
  such column yet, so the value is None and the console shows points only).
- top rewards by redemptions: vouchers issued in the window and not cancelled, per reward.
- top rewards by rating / rating distribution: visible ratings (not hidden by moderation), all
  time: a reward's rating is its standing average, not the window's.
- quest uplift: for each quest overlapping the window, participants are the members with any
  activity during the quest (``starts_at`` to ``ends_at`` or ``now``); their visits (purchases
  and check-ins) and points issued per participant per week during the quest are compared with
  the same members' 4 weeks before it. The points uplift includes the quest's own multiplier;
  the visits uplift is the change in behaviour.
- challenge uplift: per challenge, members with a progress row are completers (any completed
  period) or non-completers; the chart compares their average visits in the window.
- referral funnel (all time: codes have no date): codes shared (``ReferralCode`` rows) -> friends
  joined (``Referral`` rows) -> friends with a purchase after joining -> referrers rewarded.
- RFM: for every member (not deleted): recency = the last visit's local day, frequency = visits
  in the last 365 days, monetary = lifetime points earned (``MemberBalance``). Each is scored
  1-5 with ``NTILE(5)`` (ties broken by account id, members without a visit lowest). Segments,
  first match wins: new (enrolled in the last 30 days), champions (R>=4 and F>=4), loyal (R>=3
  and F>=3), at risk (R<=2 and (F>=3 or M>=4): they used to come and spend, and stopped),
  hibernating (R<=2), others. Needs at least 5 scored members (quintiles of fewer are noise).
  The at-risk list is ordered by lifetime points (most valuable first), then the oldest visit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import (
    Date,
    DateTime,
    Numeric,
    String,
    and_,
    case,
    cast,
    distinct,
    exists,
    extract,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import (
    Account,
    AnalyticsDailyPoints,
    AnalyticsMemberPeriod,
    AnalyticsRollupState,
    Challenge,
    ChallengeProgress,
    LedgerEntry,
    MemberActivity,
    MemberBalance,
    Merchant,
    ProgramSettings,
    Quest,
    Referral,
    ReferralCode,
    Reward,
    RewardRating,
    Role,
    Voucher,
)
from loyalty_app.services import permissions
from loyalty_app.services.permissions import Action, Actor

PERIODS = ("day", "week", "month")
BUCKET = "bucket_key"  # grouped by this output name: PostgreSQL would not match two bound copies
WINDOW_BUCKETS = {"day": 30, "week": 12, "month": 12}
ACTIVE_DAYS = 30
MEMBER_KINDS = ("earn", "redeem", "donate")  # ledger entries a member causes
VISIT_ACTIONS = ("purchase", "check_in")
RETENTION_DAYS = (30, 60, 90)
RETENTION_SPAN = 30  # each retention window is 30 days long
UPLIFT_BASELINE_DAYS = 28
RFM_YEAR_DAYS = 365
RFM_NEW_DAYS = 30
RFM_MIN_MEMBERS = 5
SEGMENTS = ("champions", "loyal", "new", "at_risk", "hibernating", "others")
SEGMENT_LABELS = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "new": N_("New"),
    "at_risk": N_("At risk"),
    "hibernating": N_("Hibernating"),
    "others": N_("Others"),
}


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Bucket:
    start: date  # first local day of the period
    value: int


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


@dataclass(frozen=True)
class RewardCount:
    reward_id: int
    name: str
    redemptions: int


@dataclass(frozen=True)
class RewardRatingRow:
    reward_id: int
    name: str
    average: float
    ratings: int


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


@dataclass(frozen=True)
class FunnelStep:
    key: str  # codes | joined | purchased | rewarded
    count: int


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


def _uplift(before: float, during: float) -> float | None:
    """Relative change (0.25 = +25 %); None without a baseline."""
    if before <= 0:
        return None
    return round(during / before - 1, 4)


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
    """Local days before the returned one are read from the rollups (``services.analytics_rollup``);
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


def _member_filter(mid: int):
    return and_(Account.merchant_id == mid, Account.role == Role.MEMBER)


# --------------------------------------------------------------------------- charts


def enrolments(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> list[Bucket]:
    """New members per period (accounts with role member created then, deleted ones included)."""
    ctx = _context(engine, actor, period, now, merchant_id)
    b = ctx.bucket(Account.created_at)
    stmt = (
        select(b.label(BUCKET), func.count())
        .where(_member_filter(ctx.merchant_id), Account.created_at >= ctx.since, Account.created_at < ctx.now)
        .group_by(literal_column(BUCKET))
    )
    with read_session(engine) as s:
        return _fill(ctx.starts, s.execute(stmt).all())


def active_members(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> ActiveMembers:
    """Distinct members with any activity per period, the 30-day active count (the KPI) and
    the member count. Activity = ledger earn/redeem/donate entries or rewarded actions.

    With rollups: closed periods count their member rows; the open period unites its closed
    days' member rows with the live activity since the rollup's end; the 30-day count unites
    the member rows of the whole days inside the 30 days with the live activity at both ends."""
    ctx = _context(engine, actor, period, now, merchant_id)
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
            tail = next(p for p in ctx.starts if next_period_start(p, period) > cut)
            rows = s.execute(
                select(mp.start, func.count())
                .where(mp.merchant_id == mid, mp.period == period, mp.start >= ctx.starts[0], mp.start < tail)
                .group_by(mp.start)
            ).all()
            live_from = local_midnight_utc(cut, ctx.tz)
            acts = _activity_union(ctx, live_from, ctx.now)
            open_rows = union_all(
                select(date_bucket_expr(mp.start, period, ctx.dialect).label(BUCKET), mp.account_id.label("account_id")).where(
                    mp.merchant_id == mid, mp.period == "day", mp.start >= tail, mp.start < cut
                ),
                select(
                    bucket_expr(acts.c.at, period, ctx.dialect, ctx.tz, (live_from, ctx.now)).label(BUCKET),
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


def cohort_retention(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "month",
    now: datetime | None = None,
    merchant_id: int | None = None,
    months: int = 12,
) -> list[CohortRow]:
    """Monthly enrolment cohorts of the last ``months`` months (whatever ``period`` is) and the
    share of each cohort active again in days 30-59, 60-89 and 90-119 after enrolment; only
    members enrolled at least 60/90/120 days before ``now`` are counted for each share."""
    ctx = _context(engine, actor, period, now, merchant_id)
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


def points_flow(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> list[FlowBucket]:
    """Points issued, redeemed, expired and donated per period (sums of the ledger's deltas;
    closed days from the daily rollup when there is one)."""
    ctx = _context(engine, actor, period, now, merchant_id)
    got = {_day(row[0]): [int(v or 0) for v in row[1:]] for row in _ledger_sums(engine, ctx, by_bucket=True)}
    return [FlowBucket(d, *got.get(d, [0, 0, 0, 0])) for d in ctx.starts]


def redemption_rate(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> RedemptionRate:
    """Points redeemed / points issued over the whole window (None when nothing was issued)."""
    ctx = _context(engine, actor, period, now, merchant_id)
    row = _ledger_sums(engine, ctx, by_bucket=False)[0]
    issued, redeemed = int(row[0] or 0), int(row[1] or 0)
    return RedemptionRate(issued, redeemed, round(redeemed / issued, 4) if issued > 0 else None)


def liability(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> Liability:
    """Outstanding points now (available + pending, from the balance rows) and their value when
    the program sets a point value. ``period`` does not apply: the liability is a stock."""
    ctx = _context(engine, actor, period, now, merchant_id)
    with read_session(engine) as s:
        available, pending = s.execute(
            select(func.coalesce(func.sum(MemberBalance.available), 0), func.coalesce(func.sum(MemberBalance.pending), 0)).where(
                MemberBalance.merchant_id == ctx.merchant_id
            )
        ).one()
        settings = s.get(ProgramSettings, ctx.merchant_id)
    # The value of one point in minor units, once the program model has it (see module doc).
    point_value = getattr(settings, "point_value_cents", None) if settings is not None else None
    total = int(available or 0) + int(pending or 0)
    value = round(total * point_value) if isinstance(point_value, (int, float)) and point_value > 0 else None
    return Liability(int(available or 0), int(pending or 0), value, ctx.currency)


def top_rewards_by_redemptions(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "day",
    now: datetime | None = None,
    merchant_id: int | None = None,
    limit: int = 5,
) -> list[RewardCount]:
    """Rewards with the most vouchers issued in the window (cancelled vouchers left out)."""
    ctx = _context(engine, actor, period, now, merchant_id)
    n = func.count(Voucher.id)
    stmt = (
        select(Reward.id, Reward.name, n)
        .join(Voucher, Voucher.reward_id == Reward.id)
        .where(
            Voucher.merchant_id == ctx.merchant_id,
            Reward.merchant_id == ctx.merchant_id,
            Voucher.status != "cancelled",
            Voucher.issued_at >= ctx.since,
            Voucher.issued_at < ctx.now,
        )
        .group_by(Reward.id, Reward.name)
        .order_by(n.desc(), Reward.name, Reward.id)
        .limit(limit)
    )
    with read_session(engine) as s:
        return [RewardCount(int(i), name, int(c)) for i, name, c in s.execute(stmt).all()]


def top_rewards_by_rating(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "day",
    now: datetime | None = None,
    merchant_id: int | None = None,
    limit: int = 5,
    min_ratings: int = 1,
) -> list[RewardRatingRow]:
    """Best-rated rewards (visible ratings, all time): average stars, then number of ratings."""
    ctx = _context(engine, actor, period, now, merchant_id)
    avg = func.round(func.avg(cast(RewardRating.stars, Numeric(10, 4))), 2)
    n = func.count(RewardRating.id)
    stmt = (
        select(Reward.id, Reward.name, avg, n)
        .join(RewardRating, RewardRating.reward_id == Reward.id)
        .where(
            RewardRating.merchant_id == ctx.merchant_id, Reward.merchant_id == ctx.merchant_id, RewardRating.hidden_at.is_(None)
        )
        .group_by(Reward.id, Reward.name)
        .having(n >= min_ratings)
        .order_by(avg.desc(), n.desc(), Reward.name, Reward.id)
        .limit(limit)
    )
    with read_session(engine) as s:
        return [RewardRatingRow(int(i), name, float(a), int(c)) for i, name, a, c in s.execute(stmt).all()]


def rating_distribution(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> dict[int, int]:
    """How many visible ratings gave 1, 2, 3, 4 and 5 stars (all time)."""
    ctx = _context(engine, actor, period, now, merchant_id)
    stmt = (
        select(RewardRating.stars, func.count())
        .where(RewardRating.merchant_id == ctx.merchant_id, RewardRating.hidden_at.is_(None))
        .group_by(RewardRating.stars)
    )
    with read_session(engine) as s:
        got = {int(stars): int(c) for stars, c in s.execute(stmt).all()}
    return {stars: got.get(stars, 0) for stars in range(1, 6)}


def quest_uplift(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "day",
    now: datetime | None = None,
    merchant_id: int | None = None,
    limit: int = 6,
) -> list[QuestUplift]:
    """For the latest quests overlapping the window: visits and points per participant per week
    during the quest vs the same members' 4 weeks before (see module doc)."""
    ctx = _context(engine, actor, period, now, merchant_id)
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


def challenge_uplift(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "day",
    now: datetime | None = None,
    merchant_id: int | None = None,
    limit: int = 6,
) -> list[ChallengeUplift]:
    """Per challenge (most participants first): completers vs members who took part and never
    completed, and their average visits in the window."""
    ctx = _context(engine, actor, period, now, merchant_id)
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


def referral_funnel(
    engine: Engine, actor: Actor | None, *, period: str = "day", now: datetime | None = None, merchant_id: int | None = None
) -> list[FunnelStep]:
    """Codes shared -> friends joined -> friends who bought after joining -> referrers rewarded
    (all time, up to ``now``)."""
    ctx = _context(engine, actor, period, now, merchant_id)
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


def rfm_scored(mid: int, now: datetime, tz: str):
    """The RFM CTEs of one program at ``now``: ``base`` (one row per member, not deleted) and
    ``segmented`` (its quintile scores r, f, m and the class name in ``segment``). The class rules
    are ``domain.segments.classify_rfm``'s; member segments (``services.segments``) read the
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


def rfm_segments(
    engine: Engine,
    actor: Actor | None,
    *,
    period: str = "day",
    now: datetime | None = None,
    merchant_id: int | None = None,
    at_risk_limit: int = 20,
) -> Rfm:
    """RFM quintiles (NTILE(5) in SQL), members per named segment and the at-risk list (see
    module doc). ``period`` does not apply: recency and frequency have their own horizons."""
    ctx = _context(engine, actor, period, now, merchant_id)
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
