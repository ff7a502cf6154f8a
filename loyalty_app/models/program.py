"""Program rules on top of the ledger: earning rules, tiers, quests, badges, challenges,
rewards and vouchers, ratings, charities and referrals.

Every row carries ``merchant_id`` and every lookup filters on it: one deployment hosts several
programs and nothing crosses them. Points themselves live only in the ledger; these tables
hold rules and the state the rules need (activity counters, tier state, vouchers).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class KeyedDefinition(SQLModel):
    """The first columns of a definition kept by its natural key: ``key`` is unique per merchant
    (``services.platform.upsert.upsert_by_key``). A table that needs more constraints lists this
    one again in its own ``__table_args__``."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    key: str = Field(max_length=40)

    @declared_attr.directive  # a new constraint for each table
    def __table_args__(cls) -> tuple[Any, ...]:
        return (UniqueConstraint("merchant_id", "key"),)


class MemberRow(SQLModel):
    """The first columns of a row about one member of one program (tier, badges, progress,
    vouchers, donations, submissions)."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)


class ProgramRules(SQLModel, table=True):
    """Per-program settings of the rules engine that the ledger's ProgramSettings lacks."""

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    quest_stacking: str = Field(default="multiply", max_length=16)  # multiply | best
    max_multiplier_pct: int = Field(default=300)  # cap on tier × quests (300 = ×3)
    voucher_validity_days: int = Field(default=30)
    till_credits_per_member_hour: int = Field(default=4)  # more is refused and flagged for the fraud view
    till_undo_minutes: int = Field(default=10)  # how long a cashier may undo a credit


class Tier(KeyedDefinition, table=True):
    __table_args__ = (UniqueConstraint("merchant_id", "key"), UniqueConstraint("merchant_id", "rank"))

    name: str = Field(max_length=60)
    colour: str = Field(default="#888888", max_length=9)
    rank: int = 0
    threshold: int = 0  # points EARNED in the qualification window
    # Benefits: multiplier per action, in percent; "purchase" is the general purchase multiplier.
    multipliers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    description: str = Field(default="", max_length=300)
    # Retired tiers stay for history (tier changes point at them) but nobody holds or reaches them.
    is_active: bool = True


class MemberTier(MemberRow, table=True):
    """A member's current tier and grace state (one row per member)."""

    __table_args__ = (UniqueConstraint("merchant_id", "account_id"),)

    tier_id: int | None = Field(default=None, foreign_key="tier.id")
    since: datetime = Field(default_factory=utcnow)
    grace_until: datetime | None = None
    qualifying_points: int = 0
    evaluated_at: datetime | None = None


class MemberTierChange(MemberRow, table=True):
    """Tier history: every upgrade and downgrade with the points that decided it."""

    from_tier_id: int | None = Field(default=None, foreign_key="tier.id")
    to_tier_id: int | None = Field(default=None, foreign_key="tier.id")
    reason: str = Field(max_length=24)  # earn | evaluation | grace_expired
    qualifying_points: int = 0
    at: datetime = Field(default_factory=utcnow)


class EarningRule(KeyedDefinition, table=True):
    """Points for an action (or, for ``purchase``, points per currency unit)."""

    action: str = Field(max_length=32, index=True)
    name: str = Field(default="", max_length=80)
    points: int = 0  # action rules
    points_per_unit: str | None = Field(default=None, max_length=12)  # purchase rules, e.g. "1.5"
    limit_count: int | None = None
    limit_period: str = Field(default="none", max_length=8)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    tier_keys: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    segment_key: str | None = Field(default=None, max_length=40)
    store_id: int | None = Field(default=None, foreign_key="store.id")
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_active: bool = True


class Quest(KeyedDefinition, table=True):
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=300)
    multiplier_pct: int = 200
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    tier_keys: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    segment_key: str | None = Field(default=None, max_length=40)
    store_id: int | None = Field(default=None, foreign_key="store.id")
    actions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_active: bool = True


class Badge(KeyedDefinition, table=True):
    name: str = Field(max_length=60)
    description: str = Field(default="", max_length=200)
    kind: str = Field(max_length=24)
    target: int = 1
    param: str | None = Field(default=None, max_length=40)
    icon: str = Field(default="star", max_length=24)
    sort_order: int = 0
    # Retired badges are no longer awarded; members who earned one keep it.
    is_active: bool = True


class MemberBadge(MemberRow, table=True):
    """A badge awarded to a member; the unique constraint makes the award happen once."""

    __table_args__ = (UniqueConstraint("account_id", "badge_id"),)

    badge_id: int = Field(foreign_key="badge.id")
    awarded_at: datetime = Field(default_factory=utcnow)


class Challenge(KeyedDefinition, table=True):
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=300)
    action: str = Field(max_length=32)  # an action, or "visit"
    target: int = 1
    recurrence: str = Field(default="one_off", max_length=12)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    reward_points: int = 0
    reward_badge_id: int | None = Field(default=None, foreign_key="badge.id")
    hidden: bool = False
    segment_key: str | None = Field(default=None, max_length=40)  # see Segment: built-in key or "seg:<id>"
    is_active: bool = True


class ChallengeProgress(MemberRow, table=True):
    __table_args__ = (UniqueConstraint("challenge_id", "account_id", "period_key"),)

    challenge_id: int = Field(foreign_key="challenge.id")
    period_key: str = Field(max_length=12)
    count: int = 0
    # Matching actions after completion: one of them takes the place of a counted action that is
    # undone, so the completion (and its bonus) stands while enough actions remain.
    surplus: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    completed_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class MemberActivity(SQLModel, table=True):
    """Every rewarded action (purchases too): feeds limits, badges, challenges and segments."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        Index("ix_memberactivity_member_action", "merchant_id", "account_id", "action", "local_day"),
        # Analytics (services.insight.analytics): activity per period (index only), a member's activity in a window.
        Index("ix_memberactivity_merchant_time", "merchant_id", "at", "account_id", "action"),
        Index("ix_memberactivity_account_time", "account_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    account_id: int = Field(foreign_key="account.id")
    action: str = Field(max_length=32)
    rule_id: int | None = Field(default=None, foreign_key="earningrule.id")
    store_id: int | None = Field(default=None, foreign_key="store.id")
    at: datetime
    local_day: date  # merchant's calendar day, for per-day/week/month limits
    idempotency_key: str = Field(max_length=120)
    entry_id: int | None = None  # the ledger entry that paid for it
    points: int = 0
    breakdown: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Reward(KeyedDefinition, table=True):
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=300)
    kind: str = Field(max_length=24)
    cost_points: int
    stock: int | None = None  # remaining; None = unlimited
    per_member_limit: int | None = None
    min_tier_id: int | None = Field(default=None, foreign_key="tier.id")
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    image_id: int | None = Field(default=None, foreign_key="mediablob.id")
    voucher_validity_days: int | None = None
    segment_key: str | None = Field(default=None, max_length=40)  # see Segment: built-in key or "seg:<id>"
    is_active: bool = True
    sort_order: int = 0


class Voucher(MemberRow, table=True):
    """A single-use code issued for a redeemed reward."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        Index("ix_voucher_merchant_issued", "merchant_id", "issued_at"),  # analytics: top rewards per period
    )

    reward_id: int = Field(foreign_key="reward.id", index=True)
    code: str = Field(max_length=32, unique=True, index=True)
    status: str = Field(default="issued", max_length=12)  # issued | used | cancelled
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_store_id: int | None = Field(default=None, foreign_key="store.id")
    used_by_id: int | None = Field(default=None, foreign_key="account.id")
    cancelled_at: datetime | None = None
    redeem_entry_id: int | None = None
    reversal_entry_id: int | None = None
    idempotency_key: str = Field(max_length=120)


class RewardRating(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("account_id", "reward_id"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    reward_id: int = Field(foreign_key="reward.id", index=True)
    stars: int
    review_text: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    hidden_at: datetime | None = None
    hidden_by_id: int | None = Field(default=None, foreign_key="account.id")
    hidden_reason: str = Field(default="", max_length=300)  # the moderator's reason (merchant console)


class Segment(KeyedDefinition, table=True):
    """A merchant-defined group of members (tiers, visits, spend, RFM class, consent), used to
    offer rewards, challenges, quests and earning rules to that group only.

    Offers reference a segment through their ``segment_key`` as ``"seg:<id>"`` (built-in segments
    such as ``"new_members"`` keep their plain keys), so one column serves both kinds. Segments
    are never deleted, only retired, so a reference always resolves; the criteria are
    ``domain.segments.SegmentCriteria`` as a dict.
    """

    name: str = Field(max_length=60)
    description: str = Field(default="", max_length=200)
    criteria: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class Charity(KeyedDefinition, table=True):
    name: str = Field(max_length=80)
    description: str = Field(default="", max_length=300)
    is_active: bool = True


class Donation(MemberRow, table=True):
    __table_args__ = (UniqueConstraint("merchant_id", "idempotency_key"),)

    charity_id: int = Field(foreign_key="charity.id", index=True)
    points: int
    entry_id: int | None = None
    at: datetime
    idempotency_key: str = Field(max_length=120)


class ReferralCode(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("merchant_id", "code"), UniqueConstraint("merchant_id", "account_id"))

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    code: str = Field(max_length=16)


class Referral(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("merchant_id", "referee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    referrer_id: int = Field(foreign_key="account.id", index=True)
    referee_id: int = Field(foreign_key="account.id")
    registered_at: datetime
    referee_entry_id: int | None = None
    referrer_rewarded_at: datetime | None = None
    referrer_entry_id: int | None = None


class ProgramChange(SQLModel, table=True):
    """A published change of the program's rules (a new reward, a tier threshold, a quest...),
    shown to members on "What's new". Written when the merchant publishes; the merchant can
    annotate it later. Entries are never deleted: members can trust the history."""

    __table_args__ = (Index("ix_programchange_merchant_published", "merchant_id", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    kind: str = Field(max_length=16)  # reward | earning | tier | quest | challenge | badge | program
    title: str = Field(max_length=120)
    body: str = Field(default="", max_length=1000)
    effective_at: datetime  # when the change applies (may be in the future)
    published_at: datetime = Field(default_factory=utcnow)
    note: str = Field(default="", max_length=500)  # the merchant's annotation
    author_id: int | None = Field(default=None, foreign_key="account.id")
    # A change to an offer targeted at a segment is news only for that segment's members.
    segment_key: str | None = Field(default=None, max_length=40)


class InboxThread(SQLModel, table=True):
    """A conversation between a member and the merchant (a question, a complaint, praise),
    optionally about a store visit or a voucher."""

    __table_args__ = (Index("ix_inboxthread_merchant_updated", "merchant_id", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    account_id: int = Field(foreign_key="account.id", index=True)
    topic: str = Field(max_length=12)  # question | complaint | praise
    subject: str = Field(max_length=120)
    store_id: int | None = Field(default=None, foreign_key="store.id")
    voucher_id: int | None = Field(default=None, foreign_key="voucher.id")
    status: str = Field(default="open", max_length=10)  # open | answered | closed
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    member_read_at: datetime | None = None  # answers after this are unread for the member
    merchant_read_at: datetime | None = None


class InboxMessage(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    thread_id: int = Field(foreign_key="inboxthread.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="account.id")
    from_merchant: bool = False
    body: str = Field(max_length=2000)
    at: datetime = Field(default_factory=utcnow)
