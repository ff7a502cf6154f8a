"""The points ledger: program settings, append-only entries, point lots and member balances.

``LedgerEntry`` rows are never updated or deleted: a correction is a new entry (reversal or
adjustment). ``PointLot`` is the mutable index the ledger keeps for spending and expiry (its
``remaining`` and status change); every change of a lot's remaining is a ``LotMovement`` tied
to the entry that caused it, so the audit can prove lots against entries. ``MemberBalance`` holds
the counters, updated in the same transaction as the entries, and its row is the member's lock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from loyalty_app.domain.clock import utcnow
from loyalty_app.models.accounts import Merchant


class ProgramSettings(SQLModel, table=True):
    """One row per merchant: the ledger's and the rules engine's program-wide settings.

    Created with these defaults on first use (``services.ledger.get_program_settings``).
    The timezone is the merchant's (``settings.timezone`` reads ``Merchant.timezone``).
    """

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    # never | after_days | end_of_month | end_of_year (see domain.ledger.compute_expiry)
    expiry_policy: str = Field(default="never", max_length=16)
    expiry_days: int = Field(default=365)
    pending_days: int = Field(default=0)  # e.g. the return window before points can be spent
    purchase_points_per_unit: int = Field(default=1)
    purchase_rounding: str = Field(default="floor", max_length=8)  # floor | round | ceil
    tier_window: str = Field(default="rolling_12m", max_length=16)  # rolling_12m | calendar_year
    tier_grace_days: int = Field(default=30)
    donation_daily_limit: int = Field(default=1000)
    referral_referrer_points: int = Field(default=100)
    referral_referee_points: int = Field(default=50)
    referral_monthly_cap: int = Field(default=10)
    updated_at: datetime = Field(default_factory=utcnow)

    merchant: Merchant = Relationship(sa_relationship_kwargs={"lazy": "joined", "viewonly": True})

    @property
    def timezone(self) -> str:
        """The program's timezone is the merchant's, so there is one place to change it."""
        return self.merchant.timezone if self.merchant is not None else "UTC"


class MemberBalance(SQLModel, table=True):
    """A member's counters. Locked (SELECT ... FOR UPDATE) by every ledger write for the member.

    available + pending == the member's points; lifetime_earned/spent/expired/donated are
    running totals (net of reversals) for the cockpit and reports. The database refuses a negative
    available or pending balance too (CHECK constraints), whatever code or hand-written SQL tries.
    """

    __table_args__ = (
        CheckConstraint("available >= 0", name="ck_memberbalance_available_not_negative"),
        CheckConstraint("pending >= 0", name="ck_memberbalance_pending_not_negative"),
    )

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    spent: int = 0
    expired: int = 0
    donated: int = 0
    entry_count: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class LedgerEntry(SQLModel, table=True):
    """One change of a member's points, with why it happened. Append-only.

    ``points`` is what the member sees (+ credit, - debit; a release shows the points that
    became available). The ``*_delta`` columns are the exact effect on each balance counter, so
    the audit can prove every counter is the sum of its entries.
    """

    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key", name="uq_ledgerentry_merchant_key"),
        Index("ix_ledgerentry_member_id", "merchant_id", "account_id", "id"),
        # A member's entries of one kind in a time window; with the earned points, so the tier
        # window's sum reads the index alone (services.ledger.queries._earned_by_member).
        Index("ix_ledgerentry_member_earned", "account_id", "kind", "created_at", "earned_delta"),
        # Analytics (services.insight.analytics): per-period sums and active members read this index only.
        Index(
            "ix_ledgerentry_merchant_time",
            "merchant_id",
            "created_at",
            "kind",
            "account_id",
            "earned_delta",
            "spent_delta",
            "expired_delta",
            "donated_delta",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    account_id: int = Field(foreign_key="account.id")
    kind: str = Field(max_length=12)  # domain.ledger.EntryKind value
    points: int
    available_delta: int = 0
    pending_delta: int = 0
    earned_delta: int = 0
    spent_delta: int = 0
    expired_delta: int = 0
    donated_delta: int = 0
    # WHY: a gettext msgid plus its parameters, the rule that fired, and where it came from.
    reason: str = Field(max_length=300)
    reason_params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    rule_id: int | None = None
    source: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    idempotency_key: str = Field(max_length=200)
    request_hash: str = Field(max_length=64)
    author_id: int | None = Field(default=None, foreign_key="account.id")
    reverses_entry_id: int | None = Field(default=None, foreign_key="ledgerentry.id", unique=True)
    lot_id: int | None = None  # release/expire: the lot concerned (no FK: lots come after entries)
    balance_after: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class PointLot(SQLModel, table=True):
    """Points from one credit, spent and expired independently of other credits. What is left of
    it stays between 0 and its original points (a CHECK constraint in the database too)."""

    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= original_points", name="ck_pointlot_remaining_in_range"),
        Index("ix_pointlot_open", "account_id", "remaining"),
        # The cockpit's "expiring within 30 days": a range of one member's lots by expiry date.
        Index("ix_pointlot_member_expiry", "account_id", "expires_at"),
        Index("ix_pointlot_merchant_due", "merchant_id", "is_pending", "remaining", "expires_at"),
        Index("ix_pointlot_merchant_pending", "merchant_id", "is_pending", "available_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    account_id: int = Field(foreign_key="account.id")
    source_entry_id: int = Field(foreign_key="ledgerentry.id", unique=True)
    original_points: int
    remaining: int
    is_pending: bool = False
    is_revoked: bool = False  # its credit was reversed
    available_at: datetime
    expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class LotMovement(SQLModel, table=True):
    """A change of one lot's remaining (drain, expiry, revocation, give-back) by one entry."""

    __table_args__ = (Index("ix_lotmovement_lot", "lot_id"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    entry_id: int = Field(foreign_key="ledgerentry.id", index=True)
    lot_id: int = Field(foreign_key="pointlot.id")
    points: int  # signed: - drained/expired/revoked, + given back
