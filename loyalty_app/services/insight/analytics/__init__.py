"""The merchant console's analytics: one function per chart, every aggregation in SQL.

Each chart function has the signature ``(engine, actor, *, period="day"|"week"|"month", now=None,
merchant_id=None, ...)``, given by ``common.chart`` to a function of ``(engine, ctx, ...)``: it
authorizes ``Action.ADMIN_VIEW_ANALYTICS`` for the actor's merchant (or for ``merchant_id`` when
given, which must be the actor's), runs a few grouped queries and returns small dataclasses
ready for a chart. Python only fills empty periods with zeros and divides two sums; counting,
summing, date truncation, ranking (NTILE) happen in the database.

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
per-merchant rollup tables (``services.insight.analytics_rollup``, filled by the periodic jobs) and
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

Modules: ``common`` (periods, time zones, dialect helpers, the context and the rollup cut),
``members`` (enrolments, active members, cohort retention), ``points`` (points flow,
redemption rate, liability), ``rewards`` (top rewards, ratings), ``uplift`` (quests,
challenges), ``referrals`` (the funnel), ``rfm`` (RFM scores and segments) and ``charts``
(``dashboard`` and ``CHARTS``). Import the package: its names are the API.
"""

from __future__ import annotations

from loyalty_app.services.insight.analytics import common as _common
from loyalty_app.services.insight.analytics.charts import CHARTS, Dashboard, dashboard
from loyalty_app.services.insight.analytics.common import (
    BUCKET,
    MEMBER_KINDS,
    PERIODS,
    VISIT_ACTIONS,
    WINDOW_BUCKETS,
    Bucket,
    bucket_expr,
    bucket_starts,
    date_bucket_expr,
    days_between,
    live_only,
    local_midnight_utc,
    local_time_expr,
    next_period_start,
    plus_days,
    utc_offset_segments,
)
from loyalty_app.services.insight.analytics.members import (
    ACTIVE_DAYS,
    RETENTION_DAYS,
    RETENTION_SPAN,
    ActiveMembers,
    CohortRow,
    active_members,
    cohort_retention,
    enrolments,
)
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
from loyalty_app.services.insight.analytics.rfm import (
    RFM_MIN_MEMBERS,
    RFM_NEW_DAYS,
    RFM_YEAR_DAYS,
    SEGMENT_LABELS,
    SEGMENTS,
    AtRiskMember,
    Rfm,
    rfm_scored,
    rfm_segments,
)
from loyalty_app.services.insight.analytics.uplift import (
    UPLIFT_BASELINE_DAYS,
    ChallengeUplift,
    QuestUplift,
    challenge_uplift,
    quest_uplift,
)

# Helpers other services reach through the package (services.earning.segments, services.insight.analytics_rollup).
_day, _utc, _zone = _common._day, _common._utc, _common._zone

__all__ = [
    "ACTIVE_DAYS",
    "ActiveMembers",
    "AtRiskMember",
    "BUCKET",
    "Bucket",
    "CHARTS",
    "ChallengeUplift",
    "CohortRow",
    "Dashboard",
    "FlowBucket",
    "FunnelStep",
    "Liability",
    "MEMBER_KINDS",
    "PERIODS",
    "QuestUplift",
    "RETENTION_DAYS",
    "RETENTION_SPAN",
    "RFM_MIN_MEMBERS",
    "RFM_NEW_DAYS",
    "RFM_YEAR_DAYS",
    "RedemptionRate",
    "RewardCount",
    "RewardRatingRow",
    "Rfm",
    "SEGMENTS",
    "SEGMENT_LABELS",
    "UPLIFT_BASELINE_DAYS",
    "VISIT_ACTIONS",
    "WINDOW_BUCKETS",
    "active_members",
    "bucket_expr",
    "bucket_starts",
    "challenge_uplift",
    "cohort_retention",
    "dashboard",
    "date_bucket_expr",
    "days_between",
    "enrolments",
    "liability",
    "live_only",
    "local_midnight_utc",
    "local_time_expr",
    "next_period_start",
    "plus_days",
    "points_flow",
    "quest_uplift",
    "rating_distribution",
    "redemption_rate",
    "referral_funnel",
    "rfm_scored",
    "rfm_segments",
    "top_rewards_by_rating",
    "top_rewards_by_redemptions",
    "utc_offset_segments",
]
