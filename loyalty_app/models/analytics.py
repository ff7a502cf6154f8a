"""Analytics rollups: per-merchant pre-aggregates of CLOSED local days (``services.insight.analytics_rollup``).

Derived data only: everything here can be deleted and rebuilt from the ledger and the member
activity. ``AnalyticsRollupState`` says which local days (in which time zone) the two rollup
tables hold; the charts (``services.insight.analytics``) read a rollup only for those days and compute
every other day live, so the numbers are the same with or without rollups.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class AnalyticsRollupState(SQLModel, table=True):
    """One row per merchant: its rollups hold every local day before ``rolled_until`` (in
    ``timezone``). A rollup of another time zone than the merchant's is ignored and rebuilt."""

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    timezone: str = Field(max_length=64)
    first_day: date  # the first local day rolled up (no activity before it when the rollup began)
    rolled_until: date  # exclusive
    updated_at: datetime = Field(default_factory=utcnow)


class AnalyticsDailyPoints(SQLModel, table=True):
    """Sums of the ledger's deltas over one closed local day of a merchant (every entry kind)."""

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    local_day: date = Field(primary_key=True)
    earned: int = 0
    spent: int = 0
    expired: int = 0
    donated: int = 0
    entries: int = 0


class AnalyticsMemberPeriod(SQLModel, table=True):
    """A member was active (see ``services.insight.analytics``) on a closed local day (``period`` "day"),
    or on a closed day of a week ("week", Monday) or month ("month", the 1st) starting ``start``.
    Week and month rows only ever gain members as their days close."""

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    period: str = Field(primary_key=True, max_length=5)
    start: date = Field(primary_key=True)
    account_id: int = Field(primary_key=True)  # no FK: derived data, rebuilt at will
