"""Earning: purchases and custom actions, with rules, limits, multipliers and side effects.

One earn is one transaction: the member's account row is locked first (so limits, challenge
counters and badges see a consistent picture), the points go through the ledger with the
explanation (reason msgid + params, and a ``source`` holding the full breakdown), then
challenges advance, the tier is upgraded at once if reached, and badges are awarded. A refused
earn (limit reached, no rule) raises a LoyaltyError and writes nothing.

Idempotency: purchases use the key ``receipt:<store_id>:<receipt>``; actions use the caller's
key. A repeated key returns the first outcome with ``replayed=True``; the same key with other
details is a Conflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import earning as rules
from loyalty_app.domain import quests as quest_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action, AppliedMultiplier, LimitPeriod, RuleSpec
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.domain.quests import QuestSpec
from loyalty_app.domain.tiers import TierSpec
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN
from loyalty_app.models import (
    Account,
    EarningRule,
    MemberActivity,
    Quest,
    Store,
)
from loyalty_app.services import ledger
from loyalty_app.services.earning import segments as segment_service
from loyalty_app.services.earning.badges import AwardedBadge, award_earned_badges
from loyalty_app.services.earning.challenges import ChallengeStep, CompletedChallenge, advance_challenges
from loyalty_app.services.earning.context import ProgramContext as ProgramContext
from loyalty_app.services.earning.context import load_context as load_context
from loyalty_app.services.earning.context import lock_member as lock_member
from loyalty_app.services.earning.context import program_rules as program_rules
from loyalty_app.services.earning.context import require_spending_allowed as require_spending_allowed
from loyalty_app.services.earning.context import require_staff as require_staff
from loyalty_app.services.earning.context import require_store as require_store
from loyalty_app.services.earning.outcomes import EarnOutcome as EarnOutcome
from loyalty_app.services.earning.outcomes import _replay
from loyalty_app.services.earning.outcomes import challenge_steps as challenge_steps
from loyalty_app.services.earning.outcomes import find_activity as find_activity
from loyalty_app.services.earning.tiers import TierChange, current_tier, upgrade_after_earn
from loyalty_app.services.platform.tx import run_in_transaction

MAX_RECEIPT_LENGTH = 60


def member_facts(session: Session, account: Account) -> rules.MemberFacts:
    return segment_service.builtin_facts(session, account)


class _Segments(segment_service.MemberSegments):
    """Member segments (built-in and the merchant's own), computed only if a rule, quest or
    challenge actually targets one."""

    def __init__(self, session: Session, account: Account, ctx: ProgramContext, now: datetime):
        super().__init__(session, account, now, tz=ctx.tz)


def _rule_spec(row: EarningRule) -> RuleSpec:
    points = Decimal(row.points_per_unit) if row.action == Action.PURCHASE.value and row.points_per_unit else Decimal(row.points)
    return RuleSpec(
        key=row.key,
        action=Action(row.action),
        points=points,
        limit_count=row.limit_count,
        limit_period=LimitPeriod(row.limit_period),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        tier_keys=tuple(row.tier_keys or ()),
        segment_key=row.segment_key,
        store_id=row.store_id,
        params=dict(row.params or {}),
        id=row.id,
    )


def matching_rule(
    session: Session,
    ctx: ProgramContext,
    *,
    action: Action,
    tier: TierSpec | None,
    segments: _Segments,
    store_id: int | None,
    now: datetime,
) -> RuleSpec | None:
    rows = session.exec(
        select(EarningRule).where(
            EarningRule.merchant_id == ctx.merchant.id, EarningRule.action == action.value, EarningRule.is_active
        )
    ).all()
    specs = [_rule_spec(r) for r in rows]
    matching = [
        s
        for s in specs
        if rules.rule_applies(
            s, at=now, tier_key=tier.key if tier else None, segments=segments.get() if s.segment_key else (), store_id=store_id
        )
    ]
    return rules.best_rule(matching)


def live_quests(session: Session, merchant_id: int, now: datetime) -> list[QuestSpec]:
    rows = session.exec(
        select(Quest).where(Quest.merchant_id == merchant_id, Quest.is_active, Quest.starts_at <= now, Quest.ends_at > now)
    ).all()
    return [
        QuestSpec(
            key=q.key,
            name=q.name,
            multiplier_pct=q.multiplier_pct,
            starts_at=q.starts_at,
            ends_at=q.ends_at,
            tier_keys=tuple(q.tier_keys or ()),
            segment_key=q.segment_key,
            store_id=q.store_id,
            actions=tuple(q.actions or ()),
            id=q.id,
        )
        for q in rows
    ]


def used_in_period(session: Session, *, merchant_id: int, account_id: int, action: str, period: LimitPeriod, today) -> int:
    start = rules.period_start(period, today)
    if start is None:
        return 0
    return session.exec(
        select(func.count())
        .select_from(MemberActivity)
        .where(
            MemberActivity.merchant_id == merchant_id,
            MemberActivity.account_id == account_id,
            MemberActivity.action == action,
            MemberActivity.local_day >= start,
        )
    ).one()


@dataclass(frozen=True)
class SideEffects:
    """What an activity caused after its own points: challenge bonuses, a tier, badges."""

    bonus: int
    completed: list[CompletedChallenge]
    tier_change: TierChange | None
    badges: list[AwardedBadge]
    steps: list[ChallengeStep]


def after_activity(
    session: Session,
    ctx: ProgramContext,
    *,
    account_id: int,
    action: str | None,
    now: datetime,
    segments: _Segments | None = None,
) -> SideEffects:
    """Side effects of a member's activity: challenges, tier upgrade, badges (in that order,
    so points paid by a challenge count toward the tier and a tier reached counts for badges)."""
    completed: list[CompletedChallenge] = []
    steps: list[ChallengeStep] = []
    bonus = 0
    if action is not None:
        advanced = advance_challenges(
            session, merchant_id=ctx.merchant.id, account_id=account_id, action=action, tz=ctx.tz, now=now, segments=segments
        )
        completed, bonus, steps = advanced.completed, advanced.bonus, advanced.steps
    change = upgrade_after_earn(
        session,
        merchant_id=ctx.merchant.id,
        account_id=account_id,
        tiers=ctx.tiers,
        window=ctx.settings.tier_window,
        tz=ctx.tz,
        now=now,
    )
    tier = current_tier(session, ctx.merchant.id, account_id, ctx.tiers)
    badges = award_earned_badges(
        session,
        merchant_id=ctx.merchant.id,
        account_id=account_id,
        tier_rank=tier.rank if tier else -1,
        tier_ranks=ctx.tier_ranks,
        now=now,
    )
    badges = [b.badge for b in completed if b.badge] + badges
    return SideEffects(bonus, completed, change, badges, steps)


def earn_points(
    session: Session,
    ctx: ProgramContext,
    *,
    account: Account,
    action: Action,
    base_points: int,
    rule: RuleSpec | None,
    store_id: int | None,
    idempotency_key: str,
    reasons: tuple[str, str],
    reason_params: dict,
    source: dict,
    detail: dict,
    now: datetime,
    tier: TierSpec | None,
    segments: _Segments,
    author_id: int | None = None,
) -> EarnOutcome:
    """Apply multipliers, credit the ledger, log the activity, then run the side effects.

    Callers have locked the member, checked idempotency, rule and limits.
    """
    quests = [
        q
        for q in live_quests(session, ctx.merchant.id, now)
        if quest_rules.quest_applies(
            q,
            at=now,
            action=action.value,
            tier_key=tier.key if tier else None,
            segments=segments.get() if q.segment_key else (),
            store_id=store_id,
        )
    ]
    tier_multiplier = None
    if tier is not None and tier.multiplier_for(action.value) != 100:
        tier_multiplier = AppliedMultiplier(tier.name, tier.multiplier_for(action.value), "tier", tier.key)
    breakdown = rules.compute_earn(
        base_points,
        tier_multiplier=tier_multiplier,
        quest_multipliers=[AppliedMultiplier(q.name, q.multiplier_pct, "quest", q.key) for q in quests],
        stacking=ctx.rules.quest_stacking,
        cap_pct=ctx.rules.max_multiplier_pct,
    )
    plain, multiplied = reasons
    params = dict(reason_params)
    if breakdown.multipliers or breakdown.capped:
        reason = multiplied
        params["multipliers"] = rules.multipliers_text(breakdown)
    else:
        reason = plain
    entry_id = None
    if breakdown.points > 0:
        result = ledger.credit(
            session,
            merchant_id=ctx.merchant.id,
            account_id=account.id,
            points=breakdown.points,
            idempotency_key=idempotency_key,
            reason=reason,
            reason_params=params,
            kind=EntryKind.EARN,
            rule_id=rule.id if rule else None,
            source={**source, "action": action.value, "rule": rule.key if rule else None, "breakdown": breakdown.as_dict()},
            author_id=author_id,
            now=now,
        )
        entry_id = result.entry_id
    activity = MemberActivity(
        merchant_id=ctx.merchant.id,
        account_id=account.id,
        action=action.value,
        rule_id=rule.id if rule else None,
        store_id=store_id,
        at=now,
        local_day=rules.local_date(now, ctx.tz),
        idempotency_key=idempotency_key,
        entry_id=entry_id,
        points=breakdown.points,
        breakdown=breakdown.as_dict(),
        detail={**detail, "reason": reason, "reason_params": params},
    )
    session.add(activity)
    session.flush()
    effects = after_activity(session, ctx, account_id=account.id, action=action.value, now=now, segments=segments)
    parts = tuple((c.name, c.reward_points) for c in effects.completed if c.reward_points > 0)
    if effects.steps or parts:
        # Kept with the activity: a replay repeats the same total, an undo takes the steps back.
        activity.detail = {
            **activity.detail,
            "challenge_steps": [step.as_dict() for step in effects.steps],
            "bonus_parts": [list(part) for part in parts],
        }
        session.add(activity)
    balance = ledger.get_balance(session, merchant_id=ctx.merchant.id, account_id=account.id)
    return EarnOutcome(
        action=action.value,
        points=breakdown.points,
        breakdown=breakdown,
        reason=reason,
        reason_params=params,
        entry_id=entry_id,
        balance=balance,
        bonus_points=effects.bonus,
        badges_awarded=tuple(effects.badges),
        challenges_completed=tuple(effects.completed),
        tier_change=effects.tier_change,
        bonus_parts=parts,
    )


def _check_action_requirements(
    session: Session,
    ctx: ProgramContext,
    *,
    account: Account,
    action: Action,
    rule: RuleSpec,
    store: Store | None,
    detail: dict,
    now: datetime,
) -> dict:
    """Per-action conditions; returns the reason parameters for the entry."""
    if action is Action.CHECK_IN:
        if store is None:
            raise LoyaltyError(N_("Choose the store you are checking in at."), code="store_required")
        return {"store": store.name}
    way = WAYS_TO_EARN.get(action.value)
    if way is not None and "event_codes" in way.params:  # attend_event, and any way that takes event codes
        code = str(detail.get("event_code", "")).strip().upper()
        allowed = {str(c).strip().upper() for c in rule.params.get("event_codes", [])}
        if not code or (allowed and code not in allowed):
            raise LoyaltyError(N_("This event code is not valid."), code="invalid_event_code")
        return {"event_code": code}
    if action is Action.BIRTHDAY:
        today = rules.local_date(now, ctx.tz)
        if account.birthday is None or account.birthday.month != today.month:
            raise LoyaltyError(N_("Birthday points are given in your birthday month."), code="not_birthday_month")
    if action is Action.COMPLETE_PROFILE:
        if not (account.first_name and account.last_name and account.birthday):
            raise LoyaltyError(N_("Add your name and birthday to complete your profile first."), code="profile_incomplete")
    return {}


def record_action_in_session(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    action: str | Action,
    idempotency_key: str,
    store_id: int | None = None,
    detail: dict | None = None,
    now: datetime,
    author_id: int | None = None,
    allow_service_only: bool = False,
    fallback_points: int | None = None,
) -> EarnOutcome:
    """``record_action`` inside a caller's transaction (used by ratings and referrals).

    ``fallback_points`` is the base when no earning rule matches (referral bonus from the
    program settings); without it, no matching rule is a refusal.
    """
    action = rules.parse_action(action)
    if action in rules.SERVICE_ONLY_ACTIONS and not allow_service_only:
        raise LoyaltyError(N_("This action is recorded by its own feature."), code="action_not_direct")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 120:
        raise LoyaltyError(N_("A request key is required."), code="invalid_idempotency_key")
    detail = dict(detail or {})
    ctx = load_context(session, merchant_id)
    account = lock_member(session, merchant_id, account_id)
    previous = find_activity(session, merchant_id, idempotency_key)
    if previous is not None:
        if previous.account_id != account_id or previous.action != action.value:
            raise Conflict(N_("This request was already processed with different details."), code="idempotency_conflict")
        return _replay(session, previous)
    store = require_store(session, merchant_id, store_id)
    tier = current_tier(session, merchant_id, account_id, ctx.tiers)
    segments = _Segments(session, account, ctx, now)
    rule = matching_rule(session, ctx, action=action, tier=tier, segments=segments, store_id=store_id, now=now)
    if rule is None and fallback_points is None:
        raise LoyaltyError(N_("This action earns no points right now."), code="no_rule")
    if rule is not None:
        rules.check_limit(
            rule,
            used_in_period(
                session,
                merchant_id=merchant_id,
                account_id=account_id,
                action=action.value,
                period=rule.limit_period,
                today=rules.local_date(now, ctx.tz),
            ),
        )
    params = _check_action_requirements(
        session,
        ctx,
        account=account,
        action=action,
        rule=rule or RuleSpec(key="", action=action, points=Decimal(0)),
        store=store,
        detail=detail,
        now=now,
    )
    base = int(rule.points) if rule is not None else fallback_points
    return earn_points(
        session,
        ctx,
        account=account,
        action=action,
        base_points=base,
        rule=rule,
        store_id=store_id,
        idempotency_key=idempotency_key,
        reasons=rules.earn_reasons(action.value),
        reason_params=params,
        source={"store_id": store_id, **({"detail": detail} if detail else {})},
        detail=detail,
        now=now,
        tier=tier,
        segments=segments,
        author_id=author_id,
    )


def record_action(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    action: str | Action,
    idempotency_key: str,
    store_id: int | None = None,
    detail: dict | None = None,
    now: datetime | None = None,
    author_id: int | None = None,
) -> EarnOutcome:
    """Reward a custom action (review, survey, newsletter, social tag, event, photo contest,
    check-in, birthday, complete profile) by the best matching earning rule.

    Refused with a LoyaltyError, writing nothing, when no rule matches (``no_rule``), a limit is
    reached (``limit_reached``) or the action's condition fails (wrong event code, ...).
    """
    now = now or utcnow()
    return run_in_transaction(
        engine,
        lambda session: record_action_in_session(
            session,
            merchant_id=merchant_id,
            account_id=account_id,
            action=action,
            idempotency_key=idempotency_key,
            store_id=store_id,
            detail=detail,
            now=now,
            author_id=author_id,
        ),
    )


def purchase_key(store_id: int, receipt: str) -> str:
    return f"receipt:{store_id}:{receipt}"


def credit_purchase(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    store_id: int,
    amount_cents: int,
    receipt: str,
    staff_account_id: int | None = None,
    now: datetime | None = None,
    idempotency_key: str | None = None,
    guard: Callable[[Session, Account, datetime], None] | None = None,
) -> EarnOutcome:
    """Points for a purchase at a store: amount × rate (program or best purchase rule),
    rounded as the program states, then tier and quest multipliers.

    The entry's reason reads like "Purchase 24.00 EUR × 1 pt/EUR, ×2 Double points weekend";
    its source holds the receipt, store, staff and full breakdown. The member's first purchase
    also pays the referrer's bonus if they were referred (see services.earning.referrals).
    """
    now = now or utcnow()
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise LoyaltyError(N_("The purchase amount must be positive."), code="invalid_amount")
    receipt = (receipt or "").strip()
    if not receipt or len(receipt) > MAX_RECEIPT_LENGTH:
        raise LoyaltyError(N_("Enter the receipt number."), code="receipt_required")
    key = idempotency_key or purchase_key(store_id, receipt)

    def run(session: Session) -> EarnOutcome:
        ctx = load_context(session, merchant_id)
        account = lock_member(session, merchant_id, account_id)
        store = require_store(session, merchant_id, store_id)
        if staff_account_id is not None:
            require_staff(session, merchant_id, staff_account_id, store_id)
        previous = find_activity(session, merchant_id, key)
        if previous is not None:
            if previous.account_id != account_id or previous.detail.get("amount_cents") != amount_cents:
                raise Conflict(N_("This receipt was already used for another purchase."), code="idempotency_conflict")
            return _replay(session, previous)
        if guard is not None:
            guard(session, account, now)  # e.g. the till's velocity limit, under the member's lock
        tier = current_tier(session, merchant_id, account_id, ctx.tiers)
        segments = _Segments(session, account, ctx, now)
        rule = matching_rule(session, ctx, action=Action.PURCHASE, tier=tier, segments=segments, store_id=store_id, now=now)
        rate = rule.points if rule is not None else Decimal(ctx.settings.purchase_points_per_unit)
        base = rules.purchase_base_points(amount_cents, rate, ctx.settings.purchase_rounding)
        first_purchase = (
            used_in_period(
                session,
                merchant_id=merchant_id,
                account_id=account_id,
                action=Action.PURCHASE.value,
                period=LimitPeriod.EVER,
                today=rules.local_date(now, ctx.tz),
            )
            == 0
        )
        outcome = earn_points(
            session,
            ctx,
            account=account,
            action=Action.PURCHASE,
            base_points=base,
            rule=rule,
            store_id=store.id,
            idempotency_key=key,
            reasons=(rules.PURCHASE_REASON, rules.PURCHASE_REASON_MULTIPLIED),
            reason_params={
                "amount": rules.format_amount(amount_cents),
                "currency": ctx.merchant.currency,
                "rate": rules.format_rate(rate),
            },
            source={"receipt": receipt, "store_id": store.id, "amount_cents": amount_cents, "staff_id": staff_account_id},
            detail={"amount_cents": amount_cents, "receipt": receipt},
            now=now,
            tier=tier,
            segments=segments,
            author_id=staff_account_id,
        )
        if first_purchase:
            from loyalty_app.services.earning.referrals import reward_first_purchase

            referral = reward_first_purchase(session, merchant_id=merchant_id, referee_account_id=account_id, now=now)
            if referral is not None:
                outcome.extra["referrer_rewarded"] = referral.referrer_id
        return outcome

    return run_in_transaction(engine, run)
