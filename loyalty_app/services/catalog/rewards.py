"""Rewards: redeem for a single-use voucher, cancel it (points back), use it at a till, and
rate what you redeemed.

Concurrency: redeeming locks the member (account row) and then the reward row (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), so the last item of stock
and the per-member limit cannot be taken twice. Lock order is always member, then reward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import catalog, vouchers
from loyalty_app.domain.catalog import RewardKind, RewardSpec
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind
from loyalty_app.domain.text import lines
from loyalty_app.models import Account, Reward, RewardRating, Role, Tier, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.earning.actions import (
    EarnOutcome,
    after_activity,
    load_context,
    lock_member,
    record_action_in_session,
    require_spending_allowed,
    require_staff,
    require_store,
)
from loyalty_app.services.earning.badges import AwardedBadge
from loyalty_app.services.earning.segments import MemberSegments
from loyalty_app.services.earning.tiers import current_tier
from loyalty_app.services.platform import events
from loyalty_app.services.platform.tx import run_in_transaction

REDEEM_REASON = N_("Redeemed: {reward}")
NOT_OFFERED = N_("This reward is not offered to you.")
CANCEL_REASON = N_("Voucher cancelled: {reward}")
MAX_REVIEW_LENGTH = 500


@dataclass(frozen=True)
class RedeemOutcome:
    voucher_id: int
    code: str
    reward_id: int
    reward_name: str
    points: int  # points spent (positive)
    expires_at: datetime
    balance: BalanceSnapshot
    replayed: bool = False
    badges_awarded: tuple[AwardedBadge, ...] = ()


@dataclass(frozen=True)
class VoucherUse:
    voucher_id: int
    reward_id: int
    reward_name: str
    reward_kind: str
    account_id: int
    used_at: datetime


@dataclass(frozen=True)
class CancelOutcome:
    voucher_id: int
    points_returned: int
    balance: BalanceSnapshot


def reward_spec(row: Reward, tier_rank_by_id: dict[int, int]) -> RewardSpec:
    return RewardSpec(
        id=row.id,
        key=row.key,
        name=row.name,
        kind=RewardKind(row.kind),
        cost_points=row.cost_points,
        stock=row.stock,
        per_member_limit=row.per_member_limit,
        min_tier_rank=tier_rank_by_id.get(row.min_tier_id) if row.min_tier_id is not None else None,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        is_active=row.is_active,
    )


def offered_to(session: Session, reward: Reward, account_id: int, tz: str, now: datetime, **kw) -> bool:
    """Whether a (possibly segment-targeted) reward is offered to this member now."""
    if not reward.segment_key:
        return True

    return MemberSegments(session, account_id, now, tz=tz, **kw).allows(reward.segment_key)


def tier_ranks_by_id(session: Session, merchant_id: int) -> dict[int, int]:
    return dict(session.exec(select(Tier.id, Tier.rank).where(Tier.merchant_id == merchant_id)).all())


def _new_code(session: Session) -> str:
    for _ in range(5):
        code = vouchers.generate_code()
        if session.exec(select(Voucher.id).where(Voucher.code == code)).first() is None:
            return code
    raise Conflict(N_("Please try again."), code="code_collision")  # pragma: no cover - 2^-100


def redeemed_count(session: Session, *, merchant_id: int, account_id: int, reward_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Voucher)
        .where(
            Voucher.merchant_id == merchant_id,
            Voucher.account_id == account_id,
            Voucher.reward_id == reward_id,
            Voucher.status != vouchers.VoucherStatus.CANCELLED.value,
        )
    ).one()


def redeem_reward(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    reward_id: int,
    idempotency_key: str,
    now: datetime | None = None,
) -> RedeemOutcome:
    """Spend points on a reward and issue a single-use voucher with an expiry.

    Refused (nothing written) when the reward is inactive or out of its window, targets a
    segment the member is not in, the member's tier is too low, stock is gone, the per-member
    limit is reached, or points are missing.
    """
    now = now or utcnow()
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 120:
        raise LoyaltyError(N_("A request key is required."), code="invalid_idempotency_key")

    def run(session: Session) -> RedeemOutcome:
        ctx = load_context(session, merchant_id)
        require_spending_allowed(lock_member(session, merchant_id, account_id))
        previous = session.exec(
            select(Voucher).where(Voucher.merchant_id == merchant_id, Voucher.idempotency_key == idempotency_key)
        ).first()
        if previous is not None:
            if previous.account_id != account_id or previous.reward_id != reward_id:
                raise Conflict(N_("This request was already processed with different details."), code="idempotency_conflict")
            reward = session.get(Reward, previous.reward_id)
            return RedeemOutcome(
                previous.id,
                previous.code,
                reward.id,
                reward.name,
                reward.cost_points,
                previous.expires_at,
                ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id),
                replayed=True,
            )
        reward = session.exec(select(Reward).where(Reward.id == reward_id).with_for_update()).first()
        if reward is None or reward.merchant_id != merchant_id:
            raise NotFound(N_("Reward not found."), code="reward_not_found")
        tier = current_tier(session, merchant_id, account_id, ctx.tiers)
        if reward.segment_key and not offered_to(session, reward, account_id, ctx.tz, now, tier_key=tier.key if tier else None):
            raise NotAllowed(NOT_OFFERED, code="reward_not_offered")
        balance = ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id)
        catalog.check_redeemable(
            reward_spec(reward, tier_ranks_by_id(session, merchant_id)),
            now=now,
            tier_rank=tier.rank if tier else -1,
            available_points=balance.available,
            redeemed_by_member=redeemed_count(session, merchant_id=merchant_id, account_id=account_id, reward_id=reward.id),
        )
        result = ledger.debit(
            session,
            merchant_id=merchant_id,
            account_id=account_id,
            points=reward.cost_points,
            idempotency_key=f"redeem:{idempotency_key}",
            reason=REDEEM_REASON,
            reason_params={"reward": reward.name},
            kind=EntryKind.REDEEM,
            source={"reward_id": reward.id, "reward": reward.key},
            now=now,
        )
        if reward.stock is not None:
            reward.stock -= 1
            session.add(reward)
        validity = reward.voucher_validity_days or ctx.rules.voucher_validity_days
        expires_at = now + timedelta(days=validity)
        if reward.valid_until is not None:
            expires_at = max(min(expires_at, reward.valid_until), now + timedelta(days=1))
        voucher = Voucher(
            merchant_id=merchant_id,
            account_id=account_id,
            reward_id=reward.id,
            code=_new_code(session),
            status=vouchers.VoucherStatus.ISSUED.value,
            issued_at=now,
            expires_at=expires_at,
            redeem_entry_id=result.entry_id,
            idempotency_key=idempotency_key,
        )
        session.add(voucher)
        session.flush()
        badges = after_activity(session, ctx, account_id=account_id, action=None, now=now).badges
        return RedeemOutcome(
            voucher.id,
            voucher.code,
            reward.id,
            reward.name,
            reward.cost_points,
            expires_at,
            ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id),
            badges_awarded=tuple(badges),
        )

    return run_in_transaction(engine, run)


def cancel_voucher(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    voucher_id: int,
    now: datetime | None = None,
    author_id: int | None = None,
) -> CancelOutcome:
    """Cancel an unused, unexpired voucher of this member: the redeem entry is reversed (points
    return as a reversal entry) and the stock item goes back on the shelf."""
    now = now or utcnow()

    def run(session: Session) -> CancelOutcome:
        lock_member(session, merchant_id, account_id)
        voucher = session.exec(select(Voucher).where(Voucher.id == voucher_id).with_for_update()).first()
        if voucher is None or voucher.merchant_id != merchant_id or voucher.account_id != account_id:
            raise NotFound(N_("Voucher not found."), code="voucher_not_found")
        vouchers.check_cancellable(voucher.status, voucher.expires_at, now)
        reward = session.exec(select(Reward).where(Reward.id == voucher.reward_id).with_for_update()).first()
        result = ledger.reverse(
            session,
            merchant_id=merchant_id,
            entry_id=voucher.redeem_entry_id,
            idempotency_key=f"cancel-voucher:{voucher.id}",
            reason=CANCEL_REASON,
            reason_params={"reward": reward.name},
            author_id=author_id,
            now=now,
        )
        voucher.status = vouchers.VoucherStatus.CANCELLED.value
        voucher.cancelled_at = now
        voucher.reversal_entry_id = result.entry_id
        session.add(voucher)
        if reward.stock is not None:
            reward.stock += 1
            session.add(reward)
        session.flush()
        return CancelOutcome(voucher.id, abs(result.points), result.balance)

    return run_in_transaction(engine, run)


def use_voucher(
    engine: Engine,
    *,
    merchant_id: int,
    code: str,
    store_id: int,
    staff_account_id: int,
    now: datetime | None = None,
) -> VoucherUse:
    """Mark a voucher used at a store, once. Used, expired or cancelled vouchers are refused
    with the reason; an unknown or other merchant's code is NotFound."""
    now = now or utcnow()
    canonical = vouchers.normalise_code(code)
    if not canonical:
        raise NotFound(N_("Voucher not found."), code="voucher_not_found")

    def run(session: Session) -> VoucherUse:
        require_store(session, merchant_id, store_id)
        require_staff(session, merchant_id, staff_account_id, store_id)
        voucher = session.exec(select(Voucher).where(Voucher.code == canonical).with_for_update()).first()
        if voucher is None or voucher.merchant_id != merchant_id:
            raise NotFound(N_("Voucher not found."), code="voucher_not_found")
        vouchers.check_usable(voucher.status, voucher.expires_at, now)
        voucher.status = vouchers.VoucherStatus.USED.value
        voucher.used_at = now
        voucher.used_store_id = store_id
        voucher.used_by_id = staff_account_id
        session.add(voucher)
        session.flush()
        reward = session.get(Reward, voucher.reward_id)
        events.publish(session, events.VoucherRedeemed(voucher, reward))  # CRM outbox, same transaction
        return VoucherUse(voucher.id, reward.id, reward.name, reward.kind, voucher.account_id, now)

    return run_in_transaction(engine, run)


@dataclass(frozen=True)
class RatingOutcome:
    rating_id: int
    created: bool
    stars: int
    earn: EarnOutcome | None  # points for a first rating, when a rate_reward rule exists
    review_earn: EarnOutcome | None = None  # points for the first written review (write_review rule)


def rate_reward(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    reward_id: int,
    stars: int,
    review_text: str = "",
    now: datetime | None = None,
) -> RatingOutcome:
    """Rate a redeemed reward (1-5 stars, up to 500 characters). Once per member and reward;
    rating again edits it. The first rating earns the ``rate_reward`` action's points if the
    program has such a rule."""
    now = now or utcnow()
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise LoyaltyError(N_("Choose from 1 to 5 stars."), code="invalid_stars")
    text = lines(review_text)
    if len(text) > MAX_REVIEW_LENGTH:
        raise LoyaltyError(N_("A review is at most {limit} characters."), code="review_too_long", limit=MAX_REVIEW_LENGTH)

    def run(session: Session) -> RatingOutcome:
        lock_member(session, merchant_id, account_id)
        reward = session.get(Reward, reward_id)
        if reward is None or reward.merchant_id != merchant_id:
            raise NotFound(N_("Reward not found."), code="reward_not_found")
        if redeemed_count(session, merchant_id=merchant_id, account_id=account_id, reward_id=reward_id) == 0:
            raise NotAllowed(N_("Only members who redeemed this reward can rate it."), code="not_redeemed")
        rating = session.exec(
            select(RewardRating).where(RewardRating.account_id == account_id, RewardRating.reward_id == reward_id)
        ).first()
        if rating is not None:
            if rating.stars != stars or rating.review_text != text:
                rating.stars, rating.review_text, rating.updated_at = stars, text, now
                session.add(rating)
                session.flush()
            return RatingOutcome(
                rating.id, False, stars, None, _review_points(session, merchant_id, account_id, reward_id, text, now)
            )
        rating = RewardRating(
            merchant_id=merchant_id,
            account_id=account_id,
            reward_id=reward_id,
            stars=stars,
            review_text=text,
            created_at=now,
            updated_at=now,
        )
        session.add(rating)
        session.flush()
        earn = _optional_earn(  # refusals are raised before anything is written
            session,
            merchant_id=merchant_id,
            account_id=account_id,
            action=Action.RATE_REWARD,
            idempotency_key=f"rate:{reward_id}:{account_id}",
            now=now,
            allow_service_only=True,
            detail={"reward_id": reward_id},
        )
        return RatingOutcome(rating.id, True, stars, earn, _review_points(session, merchant_id, account_id, reward_id, text, now))

    return run_in_transaction(engine, run)


def _optional_earn(session: Session, **kwargs) -> EarnOutcome | None:
    """An earn that the program may not offer (no rule) or that is used up: then nothing."""
    try:
        return record_action_in_session(session, **kwargs)
    except LoyaltyError as refused:
        if refused.code not in ("no_rule", "limit_reached"):
            raise
        return None


def _review_points(
    session: Session, merchant_id: int, account_id: int, reward_id: int, text: str, now: datetime
) -> EarnOutcome | None:
    """A written review (not just stars) is the "write a review" action, once per reward."""
    if not text:
        return None
    earn = _optional_earn(
        session,
        merchant_id=merchant_id,
        account_id=account_id,
        action=Action.WRITE_REVIEW,
        idempotency_key=f"review:{reward_id}:{account_id}",
        now=now,
        detail={"reward_id": reward_id},
    )
    return None if earn is None or earn.replayed else earn


def hide_review(
    engine: Engine,
    *,
    merchant_id: int,
    rating_id: int,
    moderator_id: int,
    hidden: bool = True,
    now: datetime | None = None,
    reason: str = "",
) -> None:
    """Moderation: hide (or show again) a rating's review; hidden ratings leave the averages.
    ``reason`` (the merchant console requires one) is kept with the hidden review."""
    now = now or utcnow()

    def run(session: Session) -> None:
        moderator = session.get(Account, moderator_id)
        if moderator is None or moderator.merchant_id != merchant_id or moderator.role not in (Role.ADMIN, Role.STAFF):
            raise NotAllowed(N_("You are not allowed to do this."), code="not_moderator")
        rating = session.get(RewardRating, rating_id)
        if rating is None or rating.merchant_id != merchant_id:
            raise NotFound(N_("Review not found."), code="review_not_found")
        rating.hidden_at = now if hidden else None
        rating.hidden_by_id = moderator_id if hidden else None
        rating.hidden_reason = (reason or "").strip()[:300] if hidden else ""
        session.add(rating)

    run_in_transaction(engine, run)


def rating_averages(session: Session, merchant_id: int) -> dict[int, tuple[float | None, int]]:
    """reward id -> (average stars, number of visible ratings)."""
    rows = session.exec(
        select(RewardRating.reward_id, func.avg(RewardRating.stars), func.count())
        .where(RewardRating.merchant_id == merchant_id, RewardRating.hidden_at.is_(None))
        .group_by(RewardRating.reward_id)
    ).all()
    return {rid: (round(float(avg), 2) if avg is not None else None, count) for rid, avg, count in rows}


@dataclass(frozen=True)
class ReviewView:
    rating_id: int
    stars: int
    review_text: str
    first_name: str
    updated_at: datetime


def reward_reviews(session: Session, *, merchant_id: int, reward_id: int, limit: int = 20) -> list[ReviewView]:
    """Visible reviews of one reward, newest first (first names only)."""
    rows = session.exec(
        select(RewardRating, Account.first_name)
        .join(Account, Account.id == RewardRating.account_id)
        .where(RewardRating.merchant_id == merchant_id, RewardRating.reward_id == reward_id, RewardRating.hidden_at.is_(None))
        .order_by(RewardRating.updated_at.desc())
        .limit(limit)
    ).all()
    return [ReviewView(r.id, r.stars, r.review_text, name, r.updated_at) for r, name in rows]


def member_vouchers(session: Session, *, merchant_id: int, account_id: int, now: datetime) -> list[dict]:
    rows = session.exec(
        select(Voucher, Reward.name)
        .join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.merchant_id == merchant_id, Voucher.account_id == account_id)
        .order_by(Voucher.issued_at.desc())
    ).all()
    return [
        {
            "id": v.id,
            "code": v.code,
            "reward": name,
            "status": vouchers.effective_status(v.status, v.expires_at, now).value,
            "expires_at": v.expires_at,
            "issued_at": v.issued_at,
        }
        for v, name in rows
    ]
