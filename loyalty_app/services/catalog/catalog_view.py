"""The member's rewards screens: the catalog as this member sees it (tier lock, can afford,
ratings, sort and filter), one reward's detail (ratings, reviews, the member's own rating), the
member's vouchers, and the three things a member does there (redeem, cancel, rate).

Every entry takes the ``Actor`` resolved for this event and calls ``authorize`` first; ids the
browser sends (reward, voucher) are only ever looked up within the actor's merchant and, for
vouchers, the actor's own account: another member's voucher is NotFound, never a leak.

Reads run in one read transaction each; the writes are the rules engine's own use cases in
``services.catalog.rewards`` (locks, ledger, stock), called with the actor's ids.

A reward targeted at a segment (``Reward.segment_key``) is listed only to that segment's
members; for anyone else its page is NotFound unless they redeemed it before (then it reads as
ended), and ``services.catalog.rewards`` refuses the redemption itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import catalog, vouchers
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.models import Account, LedgerEntry, Reward, RewardRating, Role, Tier, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.catalog import rewards
from loyalty_app.services.earning.actions import load_context
from loyalty_app.services.earning.segments import MemberSegments
from loyalty_app.services.earning.tiers import current_tier
from loyalty_app.services.platform.permissions import Action, Actor, authorize

FILTERS = ("all", "affordable")
SORTS = ("cost", "rating", "newest")
REVIEWS_SHOWN = 20

# Why a reward cannot be redeemed now, from the domain's refusal codes (the first that applies).
_STATUS_BY_CODE = {
    "reward_unavailable": "not_yet",
    "tier_required": "tier_locked",
    "out_of_stock": "out_of_stock",
    "member_limit_reached": "limit_reached",
    "insufficient_points": "insufficient_points",
}


@dataclass(frozen=True)
class CatalogItem:
    reward_id: int
    name: str
    description: str
    kind: str
    cost_points: int
    image_id: int | None
    rating: float | None  # average of visible ratings
    rating_count: int
    affordable: bool  # enough available points
    redeemable: bool  # every rule passes now (tier, stock, window, limit, points)
    # "ok" | "not_yet" (starts later) | "ended" | "tier_locked" | "out_of_stock" | "limit_reached" | "insufficient_points"
    status: str
    tier_name: str | None  # the tier the reward is for, when gated
    missing_points: int  # points still needed (0 when affordable)
    stock: int | None  # remaining; None = unlimited
    valid_from: datetime | None
    valid_until: datetime | None
    sort_order: int


@dataclass(frozen=True)
class Catalog:
    available_points: int
    tier_name: str | None
    items: list[CatalogItem]
    total: int  # rewards before the filter
    active_vouchers: int
    timezone: str  # the merchant's, for dates


@dataclass(frozen=True)
class Review:
    rating_id: int
    stars: int
    review_text: str
    first_name: str
    updated_at: datetime
    mine: bool


@dataclass(frozen=True)
class RewardDetail:
    item: CatalogItem
    available_points: int
    distribution: dict[int, int]  # stars (1-5) -> number of visible ratings
    reviews: list[Review]  # visible ratings with a text, newest first
    my_stars: int | None
    my_review: str
    can_rate: bool  # the member redeemed it (a voucher not cancelled)
    redeemed_by_me: int
    per_member_limit: int | None
    voucher_validity_days: int
    timezone: str


@dataclass(frozen=True)
class VoucherView:
    voucher_id: int
    code: str
    reward_id: int
    reward_name: str
    reward_kind: str
    image_id: int | None
    status: str  # "issued" (active) | "used" | "cancelled" | "expired"
    points: int  # points spent on it
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    cancelled_at: datetime | None
    timezone: str  # the merchant's: where the voucher is used

    @property
    def cancellable(self) -> bool:
        return self.status == vouchers.VoucherStatus.ISSUED.value


@dataclass
class _MemberView:
    """What every read needs about the member, loaded once per transaction."""

    available: int
    tier_rank: int
    tier_name: str | None
    tier_names: dict[int, str] = field(default_factory=dict)  # tier id -> name
    tier_ranks: dict[int, int] = field(default_factory=dict)  # tier id -> rank
    timezone: str = "UTC"


def _authorize_member(engine: Engine, actor: Actor | None, action: Action) -> Actor:
    """Members only, on their own account; an anonymous caller is refused (and logged)."""
    return authorize(engine, actor, action, merchant_id=actor.merchant_id if actor else None)  # type: ignore[arg-type]


def _member_view(session: Session, actor: Actor) -> _MemberView:
    account = session.get(Account, actor.account_id)
    if account is None or account.merchant_id != actor.merchant_id or account.role != Role.MEMBER:
        raise NotFound(N_("Member not found."), code="member_not_found")
    ctx = load_context(session, actor.merchant_id)
    tier = current_tier(session, actor.merchant_id, actor.account_id, ctx.tiers)
    balance = ledger.get_balance(session, merchant_id=actor.merchant_id, account_id=actor.account_id)
    rows = session.exec(select(Tier.id, Tier.name, Tier.rank).where(Tier.merchant_id == actor.merchant_id)).all()
    return _MemberView(
        available=balance.available,
        tier_rank=tier.rank if tier else -1,
        tier_name=tier.name if tier else None,
        tier_names={tid: name for tid, name, _rank in rows},
        tier_ranks={tid: rank for tid, _name, rank in rows},
        timezone=ctx.tz,
    )


def _redeemed_counts(session: Session, actor: Actor) -> dict[int, int]:
    rows = session.exec(
        select(Voucher.reward_id, func.count())
        .where(
            Voucher.merchant_id == actor.merchant_id,
            Voucher.account_id == actor.account_id,
            Voucher.status != vouchers.VoucherStatus.CANCELLED.value,
        )
        .group_by(Voucher.reward_id)
    ).all()
    return dict(rows)


def _item(row: Reward, member: _MemberView, ratings: dict, redeemed: int, now: datetime, *, offered: bool = True) -> CatalogItem:
    spec = rewards.reward_spec(row, member.tier_ranks)
    try:
        if not offered:
            raise LoyaltyError(rewards.NOT_OFFERED, code="reward_not_offered")
        catalog.check_redeemable(
            spec, now=now, tier_rank=member.tier_rank, available_points=member.available, redeemed_by_member=redeemed
        )
        status = "ok"
    except LoyaltyError as refused:
        status = _STATUS_BY_CODE.get(refused.code, "ended")
        if status == "not_yet" and not (row.is_active and row.valid_from is not None and now < row.valid_from):
            status = "ended"  # switched off or over: only shown to members who redeemed it
    average, count = ratings.get(row.id, (None, 0))
    return CatalogItem(
        reward_id=row.id,
        name=row.name,
        description=row.description or "",
        kind=row.kind,
        cost_points=row.cost_points,
        image_id=row.image_id,
        rating=average,
        rating_count=count,
        affordable=row.cost_points <= member.available,
        redeemable=status == "ok",
        status=status,
        tier_name=member.tier_names.get(row.min_tier_id) if row.min_tier_id is not None else None,
        missing_points=max(0, row.cost_points - member.available),
        stock=row.stock,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        sort_order=row.sort_order,
    )


def _listed(row: Reward, now: datetime) -> bool:
    """Active rewards that have not ended (a reward that starts later is shown as "from ...")."""
    return row.is_active and (row.valid_until is None or now < row.valid_until)


def sort_and_filter(items: list[CatalogItem], *, filter: str = "all", sort: str = "cost") -> list[CatalogItem]:
    """``filter``: "all" or "affordable" (redeemable now). ``sort``: "cost" (cheapest first),
    "rating" (best average first, unrated last), "newest" (most recently added first)."""
    if filter not in FILTERS:
        raise LoyaltyError(N_("Unknown filter."), code="invalid_filter")
    if sort not in SORTS:
        raise LoyaltyError(N_("Unknown sort order."), code="invalid_sort")
    chosen = [i for i in items if i.redeemable] if filter == "affordable" else list(items)
    if sort == "cost":
        chosen.sort(key=lambda i: (i.cost_points, i.sort_order, i.reward_id))
    elif sort == "rating":
        chosen.sort(key=lambda i: (i.rating is None, -(i.rating or 0.0), -i.rating_count, i.cost_points, i.reward_id))
    else:
        chosen.sort(key=lambda i: -i.reward_id)
    return chosen


def member_catalog(
    engine: Engine, actor: Actor | None, *, filter: str = "all", sort: str = "cost", now: datetime | None = None
) -> Catalog:
    """The catalog for the signed-in member: every listed reward with its lock/afford state."""
    actor = _authorize_member(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    now = now or utcnow()
    with read_session(engine) as session:
        member = _member_view(session, actor)
        rows = session.exec(select(Reward).where(Reward.merchant_id == actor.merchant_id)).all()
        ratings = rewards.rating_averages(session, actor.merchant_id)
        redeemed = _redeemed_counts(session, actor)
        segments = MemberSegments(session, actor.account_id, now, tz=member.timezone)
        items = [
            _item(r, member, ratings, redeemed.get(r.id, 0), now)
            for r in rows
            if _listed(r, now) and segments.allows(r.segment_key)
        ]
        active = sum(1 for v in _voucher_rows(session, actor) if _status(v[0], now) == vouchers.VoucherStatus.ISSUED.value)
    return Catalog(
        available_points=member.available,
        tier_name=member.tier_name,
        items=sort_and_filter(items, filter=filter, sort=sort),
        total=len(items),
        active_vouchers=active,
        timezone=member.timezone,
    )


def reward_detail(engine: Engine, actor: Actor | None, reward_id: int, *, now: datetime | None = None) -> RewardDetail:
    """One reward for the member. Another merchant's reward, or one no longer offered that the
    member never redeemed, is NotFound."""
    actor = _authorize_member(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    now = now or utcnow()
    with read_session(engine) as session:
        row = session.get(Reward, reward_id) if isinstance(reward_id, int) else None
        if row is None or row.merchant_id != actor.merchant_id:
            raise NotFound(N_("Reward not found."), code="reward_not_found")
        redeemed = _redeemed_counts(session, actor).get(row.id, 0)
        if not _listed(row, now) and redeemed == 0:
            raise NotFound(N_("Reward not found."), code="reward_not_found")
        member = _member_view(session, actor)
        offered = MemberSegments(session, actor.account_id, now, tz=member.timezone).allows(row.segment_key)
        if not offered and redeemed == 0:
            raise NotFound(N_("Reward not found."), code="reward_not_found")
        ratings = rewards.rating_averages(session, actor.merchant_id)
        item = _item(row, member, ratings, redeemed, now, offered=offered)
        distribution = {stars: 0 for stars in range(1, 6)}
        for stars, count in session.exec(
            select(RewardRating.stars, func.count())
            .where(
                RewardRating.merchant_id == actor.merchant_id, RewardRating.reward_id == row.id, RewardRating.hidden_at.is_(None)
            )
            .group_by(RewardRating.stars)
        ).all():
            distribution[int(stars)] = count
        mine = session.exec(
            select(RewardRating).where(RewardRating.account_id == actor.account_id, RewardRating.reward_id == row.id)
        ).first()
        my_rating_id = mine.id if mine is not None else None
        reviews = [
            Review(r.rating_id, r.stars, r.review_text, r.first_name, r.updated_at, r.rating_id == my_rating_id)
            for r in rewards.reward_reviews(session, merchant_id=actor.merchant_id, reward_id=row.id, limit=REVIEWS_SHOWN * 3)
            if r.review_text
        ][:REVIEWS_SHOWN]
        validity = row.voucher_validity_days or load_context(session, actor.merchant_id).rules.voucher_validity_days
    return RewardDetail(
        item=item,
        available_points=member.available,
        distribution=distribution,
        reviews=reviews,
        my_stars=mine.stars if mine is not None else None,
        my_review=mine.review_text if mine is not None else "",
        can_rate=redeemed > 0,
        redeemed_by_me=redeemed,
        per_member_limit=row.per_member_limit,
        voucher_validity_days=validity,
        timezone=member.timezone,
    )


def _status(voucher: Voucher, now: datetime) -> str:
    return vouchers.effective_status(voucher.status, voucher.expires_at, now).value


def _voucher_rows(session: Session, actor: Actor, voucher_id: int | None = None) -> list:
    query = (
        select(Voucher, Reward, LedgerEntry.points)
        .join(Reward, Reward.id == Voucher.reward_id)
        .outerjoin(LedgerEntry, LedgerEntry.id == Voucher.redeem_entry_id)
        .where(Voucher.merchant_id == actor.merchant_id, Voucher.account_id == actor.account_id)
    )
    if voucher_id is not None:
        query = query.where(Voucher.id == voucher_id)
    return session.exec(query.order_by(Voucher.issued_at.desc(), Voucher.id.desc())).all()


def _voucher_view(voucher: Voucher, reward: Reward, points: int | None, now: datetime, tz: str) -> VoucherView:
    return VoucherView(
        voucher_id=voucher.id,
        code=voucher.code,
        reward_id=reward.id,
        reward_name=reward.name,
        reward_kind=reward.kind,
        image_id=reward.image_id,
        status=_status(voucher, now),
        points=abs(points) if points is not None else reward.cost_points,
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        used_at=voucher.used_at,
        cancelled_at=voucher.cancelled_at,
        timezone=tz,
    )


def member_vouchers(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> list[VoucherView]:
    """The member's vouchers, newest first, with their current status."""
    actor = _authorize_member(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    now = now or utcnow()
    with read_session(engine) as session:
        tz = load_context(session, actor.merchant_id).tz
        return [_voucher_view(v, r, p, now, tz) for v, r, p in _voucher_rows(session, actor)]


def voucher_detail(engine: Engine, actor: Actor | None, voucher_id: int, *, now: datetime | None = None) -> VoucherView:
    """One of the member's own vouchers; any other id (another member's, another merchant's,
    unknown) is the same NotFound."""
    actor = _authorize_member(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    now = now or utcnow()
    if not isinstance(voucher_id, int):
        raise NotFound(N_("Voucher not found."), code="voucher_not_found")
    with read_session(engine) as session:
        rows = _voucher_rows(session, actor, voucher_id)
        if not rows:
            raise NotFound(N_("Voucher not found."), code="voucher_not_found")
        tz = load_context(session, actor.merchant_id).tz
        voucher, reward, points = rows[0]
        return _voucher_view(voucher, reward, points, now, tz)


# --- what the member does ------------------------------------------------------------------------


def redeem(
    engine: Engine, actor: Actor | None, *, reward_id: int, idempotency_key: str, now: datetime | None = None
) -> rewards.RedeemOutcome:
    """Spend the member's points on a reward (the same key twice gives the same voucher)."""
    actor = _authorize_member(engine, actor, Action.REDEEM_REWARD)
    return rewards.redeem_reward(
        engine,
        merchant_id=actor.merchant_id,
        account_id=actor.account_id,
        reward_id=reward_id,
        idempotency_key=f"member:{actor.account_id}:{idempotency_key}",
        now=now,
    )


def cancel(engine: Engine, actor: Actor | None, *, voucher_id: int, now: datetime | None = None) -> rewards.CancelOutcome:
    """Cancel one of the member's active vouchers; the points come back."""
    actor = _authorize_member(engine, actor, Action.CANCEL_OWN_VOUCHER)
    return rewards.cancel_voucher(
        engine,
        merchant_id=actor.merchant_id,
        account_id=actor.account_id,
        voucher_id=voucher_id,
        now=now,
        author_id=actor.account_id,
    )


def rate(
    engine: Engine, actor: Actor | None, *, reward_id: int, stars: int, review_text: str = "", now: datetime | None = None
) -> rewards.RatingOutcome:
    """Rate a redeemed reward once (rating again edits it); the first rating may earn points."""
    actor = _authorize_member(engine, actor, Action.RATE_REWARD)
    return rewards.rate_reward(
        engine,
        merchant_id=actor.merchant_id,
        account_id=actor.account_id,
        reward_id=reward_id,
        stars=stars,
        review_text=review_text,
        now=now,
    )
