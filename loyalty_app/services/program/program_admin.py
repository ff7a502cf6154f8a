"""Defining a merchant's program: tiers, earning rules, quests, badges, challenges, rewards,
charities and the engine's own settings.

Every definition is upserted by its natural key ``(merchant_id, key)`` and only changed
fields are written, so the demo seeding (and an admin saving an unchanged form) writes nothing
the second time. Quest start and end arrive in the merchant's wall-clock time and are stored
in UTC. Authorization (admin of this merchant) is the caller's job (services.platform.permissions).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import write_session
from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.catalog import RewardKind
from loyalty_app.domain.challenges import VISIT, Recurrence
from loyalty_app.domain.earning import Action, LimitPeriod
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.quests import local_to_utc, validate_quest
from loyalty_app.models import (
    Badge,
    Challenge,
    Charity,
    EarningRule,
    Merchant,
    ProgramRules,
    Quest,
    Reward,
    Store,
    Tier,
)
from loyalty_app.services.platform.upsert import upsert_by_key


def require_merchant(session: Session, merchant_id: int) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(N_("Program not found."), code="merchant_not_found")
    return merchant


def set_program_rules(
    session: Session,
    merchant_id: int,
    *,
    quest_stacking: str = "multiply",
    max_multiplier_pct: int = 300,
    voucher_validity_days: int = 30,
) -> ProgramRules:
    if quest_stacking not in ("multiply", "best"):
        raise LoyaltyError(N_("Unknown stacking rule."), code="invalid_stacking")
    if not 100 <= max_multiplier_pct <= 1000 or not 1 <= voucher_validity_days <= 3650:
        raise LoyaltyError(N_("Value out of range."), code="invalid_value")
    row = session.get(ProgramRules, merchant_id)
    values = dict(
        quest_stacking=quest_stacking, max_multiplier_pct=max_multiplier_pct, voucher_validity_days=voucher_validity_days
    )
    if row is None:
        row = ProgramRules(merchant_id=merchant_id, **values)
        session.add(row)
    elif any(getattr(row, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(row, k, v)
        session.add(row)
    session.flush()
    return row


def _check_store(session: Session, merchant_id: int, store_id: int | None) -> None:
    if store_id is None:
        return
    store = session.get(Store, store_id)
    if store is None or store.merchant_id != merchant_id:
        raise NotFound(N_("Store not found."), code="store_not_found")


def upsert_tier(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    name: str,
    rank: int,
    threshold: int,
    colour: str = "#888888",
    multipliers: dict | None = None,
    description: str = "",
) -> Tier:
    if threshold < 0 or rank < 0:
        raise LoyaltyError(N_("Value out of range."), code="invalid_value")
    for action, pct in (multipliers or {}).items():
        Action(action)
        if not 100 <= int(pct) <= 1000:
            raise LoyaltyError(N_("A multiplier must be between ×1 and ×10."), code="invalid_multiplier")
    return upsert_by_key(
        session,
        Tier,
        merchant_id,
        key,
        name=name,
        rank=rank,
        threshold=threshold,
        colour=colour,
        multipliers=dict(multipliers or {}),
        description=description,
    )


def upsert_earning_rule(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    action: str,
    points: int = 0,
    points_per_unit: str | None = None,
    name: str = "",
    limit_count: int | None = None,
    limit_period: str = "none",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    tier_keys: list[str] | None = None,
    segment_key: str | None = None,
    store_id: int | None = None,
    params: dict | None = None,
    is_active: bool = True,
) -> EarningRule:
    action = Action(action).value
    LimitPeriod(limit_period)
    if action == Action.PURCHASE.value:
        if points_per_unit is None:
            raise LoyaltyError(N_("A purchase rule needs points per currency unit."), code="invalid_value")
    elif points <= 0:
        raise LoyaltyError(N_("Points must be more than zero."), code="invalid_points")
    _check_store(session, merchant_id, store_id)
    return upsert_by_key(
        session,
        EarningRule,
        merchant_id,
        key,
        action=action,
        points=points,
        points_per_unit=points_per_unit,
        name=name,
        limit_count=limit_count,
        limit_period=limit_period,
        valid_from=valid_from,
        valid_until=valid_until,
        tier_keys=list(tier_keys or []),
        segment_key=segment_key,
        store_id=store_id,
        params=dict(params or {}),
        is_active=is_active,
    )


def upsert_quest(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    name: str,
    multiplier_pct: int,
    starts_local: datetime,
    ends_local: datetime,
    description: str = "",
    tier_keys: list[str] | None = None,
    segment_key: str | None = None,
    store_id: int | None = None,
    actions: list[str] | None = None,
    is_active: bool = True,
) -> Quest:
    """``starts_local``/``ends_local`` are naive wall-clock times in the merchant's timezone
    (aware datetimes are taken as they are)."""
    merchant = require_merchant(session, merchant_id)
    starts_at = local_to_utc(starts_local, merchant.timezone)
    ends_at = local_to_utc(ends_local, merchant.timezone)
    validate_quest(starts_at, ends_at, multiplier_pct)
    for action in actions or []:
        Action(action)
    _check_store(session, merchant_id, store_id)
    return upsert_by_key(
        session,
        Quest,
        merchant_id,
        key,
        name=name,
        description=description,
        multiplier_pct=multiplier_pct,
        starts_at=starts_at,
        ends_at=ends_at,
        tier_keys=list(tier_keys or []),
        segment_key=segment_key,
        store_id=store_id,
        actions=list(actions or []),
        is_active=is_active,
    )


def upsert_badge(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    name: str,
    kind: str,
    target: int = 1,
    param: str | None = None,
    description: str = "",
    icon: str = "star",
    sort_order: int = 0,
) -> Badge:
    kind = BadgeKind(kind).value
    if target < 1:
        raise LoyaltyError(N_("Value out of range."), code="invalid_value")
    return upsert_by_key(
        session,
        Badge,
        merchant_id,
        key,
        name=name,
        kind=kind,
        target=target,
        param=param,
        description=description,
        icon=icon,
        sort_order=sort_order,
    )


def upsert_challenge(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    name: str,
    action: str,
    target: int,
    recurrence: str = "one_off",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    reward_points: int = 0,
    reward_badge_key: str | None = None,
    hidden: bool = False,
    description: str = "",
    is_active: bool = True,
) -> Challenge:
    if action != VISIT:
        Action(action)
    Recurrence(recurrence)
    if target < 1 or reward_points < 0:
        raise LoyaltyError(N_("Value out of range."), code="invalid_value")
    badge_id = None
    if reward_badge_key:
        badge = session.exec(select(Badge).where(Badge.merchant_id == merchant_id, Badge.key == reward_badge_key)).first()
        if badge is None:
            raise NotFound(N_("Badge not found."), code="badge_not_found")
        badge_id = badge.id
    return upsert_by_key(
        session,
        Challenge,
        merchant_id,
        key,
        name=name,
        description=description,
        action=action,
        target=target,
        recurrence=recurrence,
        starts_at=starts_at,
        ends_at=ends_at,
        reward_points=reward_points,
        reward_badge_id=badge_id,
        hidden=hidden,
        is_active=is_active,
    )


def upsert_reward(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    name: str,
    kind: str,
    cost_points: int,
    description: str = "",
    stock: int | None = None,
    per_member_limit: int | None = None,
    min_tier_key: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    image_id: int | None = None,
    voucher_validity_days: int | None = None,
    is_active: bool = True,
    sort_order: int = 0,
    reset_stock: bool = True,
) -> Reward:
    """``reset_stock=False`` keeps the remaining stock of an existing reward (re-seeding)."""
    kind = RewardKind(kind).value
    if cost_points <= 0 or (stock is not None and stock < 0):
        raise LoyaltyError(N_("Value out of range."), code="invalid_value")
    tier_id = None
    if min_tier_key:
        tier = session.exec(select(Tier).where(Tier.merchant_id == merchant_id, Tier.key == min_tier_key)).first()
        if tier is None:
            raise NotFound(N_("Tier not found."), code="tier_not_found")
        tier_id = tier.id
    values = dict(
        name=name,
        description=description,
        kind=kind,
        cost_points=cost_points,
        per_member_limit=per_member_limit,
        min_tier_id=tier_id,
        valid_from=valid_from,
        valid_until=valid_until,
        image_id=image_id,
        voucher_validity_days=voucher_validity_days,
        is_active=is_active,
        sort_order=sort_order,
    )
    existing = session.exec(select(Reward).where(Reward.merchant_id == merchant_id, Reward.key == key)).first()
    if existing is None or reset_stock:
        values["stock"] = stock
    return upsert_by_key(session, Reward, merchant_id, key, **values)


def upsert_charity(
    session: Session, merchant_id: int, key: str, *, name: str, description: str = "", is_active: bool = True
) -> Charity:
    return upsert_by_key(session, Charity, merchant_id, key, name=name, description=description, is_active=is_active)


def save_quest(engine: Engine, merchant_id: int, key: str, **fields) -> Quest:
    """Admin entry point: one quest saved in its own transaction (see ``upsert_quest``)."""
    with write_session(engine) as session:
        return upsert_quest(session, merchant_id, key, **fields)


def save_reward(engine: Engine, merchant_id: int, key: str, **fields) -> Reward:
    with write_session(engine) as session:
        return upsert_reward(session, merchant_id, key, **fields)
