"""The earning kinds: earning rules (ways to earn), tiers, badges, challenges and quests."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.challenges import VISIT, Recurrence
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.earning import LimitPeriod
from loyalty_app.domain.errors import N_
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN
from loyalty_app.i18n import format_datetime, translate
from loyalty_app.models import Badge, Challenge, EarningRule, Merchant, Quest, Tier
from loyalty_app.services.earning.tiers import move_members_off_tier
from loyalty_app.services.program import program_admin as pa
from loyalty_app.services.program.program_console.editor import _Spec, list_function, retire_function, save_function
from loyalty_app.services.program.program_console.forms import _aware, _Form, _local_text, _num, _pct_text
from loyalty_app.services.program.program_console.labels import (
    ACTION_LABELS,
    BADGE_ICONS,
    BADGE_KIND_LABELS,
    CHALLENGE_ACTION_LABELS,
    LIMIT_FACTS,
    LIMIT_PERIOD_LABELS,
    RECURRENCE_LABELS,
)
from loyalty_app.services.program.program_console.rows import (
    UNKNOWN_TIER,
    RowView,
    _Ctx,
    _segment_choice,
    _segment_fact,
    _status,
    _store_choice,
    _tiers,
    _upsert_with_segment,
    _window_facts,
)

UNKNOWN_ACTION = N_("Unknown action: {value}.")
UNKNOWN_BADGE = N_("Choose one of your badges.")
UNKNOWN_CHALLENGE = N_("Choose one of your challenges.")
LIMIT_PERIOD_REQUIRED = N_("Choose how often the limit applies.")
LIMIT_COUNT_REQUIRED = N_("Enter how many times per period.")
RANK_TAKEN = N_("Another tier already has this rank.")
THRESHOLD_ORDER = N_("A higher tier needs more points than the tiers below it.")
BAD_EVENT_CODES = N_("Event codes: letters, digits, - and _, separated by commas.")

EVENT_CODE_RE = re.compile(r"[A-Z0-9_-]{1,40}")
START_FORMAT = "EEE d MMM HH:mm"  # "Sat 5 Dec 12:00" in the program's language and timezone


# ---------------------------------------------------------------- earning rules


def _parse_earning(f: _Form, session: Session, merchant: Merchant, row: EarningRule | None) -> dict:
    tiers = {t.key: t.name for t in _tiers(session, merchant.id)}
    name = f.text("name", max_len=80, required=True)
    action = f.choice("action", ACTION_LABELS)
    values: dict[str, Any] = dict(name=name, action=action or EarnAction.CHECK_IN.value, points=0, points_per_unit=None)
    if action == EarnAction.PURCHASE.value:
        values["points_per_unit"] = f.rate("points_per_unit")
    elif action is not None:
        values["points"] = f.integer("points", lo=1, hi=100_000, required=True) or 0
    limit_count = f.integer("limit_count", lo=1, hi=1000)
    period = f.choice("limit_period", LIMIT_PERIOD_LABELS, default=LimitPeriod.NONE.value)
    if limit_count is not None and period == LimitPeriod.NONE.value:
        f.fail("limit_period", LIMIT_PERIOD_REQUIRED, "limit_period_required")
    if limit_count is None and period not in (None, LimitPeriod.NONE.value) and "limit_count" not in f.errors:
        f.fail("limit_count", LIMIT_COUNT_REQUIRED, "limit_count_required")
    values.update(
        limit_count=limit_count if period != LimitPeriod.NONE.value else None,
        limit_period=period or LimitPeriod.NONE.value,
        valid_from=f.moment("valid_from"),
        valid_until=f.moment("valid_until"),
        tier_keys=f.keys("tier_keys", tiers, message=UNKNOWN_TIER, code="unknown_tier"),
        segment_key=_segment_choice(f, session, merchant.id, row),
        store_id=_store_choice(f, session, merchant.id),
    )
    f.window("valid_until", values["valid_from"], values["valid_until"])
    params = dict(row.params or {}) if row is not None else {}
    codes_text = f.s("event_codes")
    way = WAYS_TO_EARN.get(action)
    if way is not None and "event_codes" in way.params:  # the registry says which rules take event codes
        codes = [c.strip().upper() for c in re.split(r"[,\s;]+", codes_text) if c.strip()]
        if len(codes) > 50 or any(not EVENT_CODE_RE.fullmatch(c) for c in codes):
            f.fail("event_codes", BAD_EVENT_CODES, "invalid_event_codes")
        params["event_codes"] = list(dict.fromkeys(codes))
    values["params"] = params
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_earning(session: Session, merchant_id: int, key: str, values: dict) -> EarningRule:
    return pa.upsert_earning_rule(session, merchant_id, key, **values)


def _earning_view(row: EarningRule, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(ACTION_LABELS.get(row.action, N_("Reward")), {})]
    if row.action == EarnAction.PURCHASE.value:
        facts.append((N_("{rate} points per {currency}"), {"rate": row.points_per_unit or "0", "currency": ctx.currency}))
    else:
        facts.append((N_("{points} points"), {"points": row.points}))
    if row.limit_count and row.limit_period in LIMIT_FACTS:
        facts.append((LIMIT_FACTS[row.limit_period], {"n": row.limit_count}))
    if row.tier_keys:
        facts.append((N_("Only for: {tiers}"), {"tiers": ", ".join(ctx.tier_by_key.get(k, k) for k in row.tier_keys)}))
    facts += _segment_fact(row.segment_key, ctx)
    if row.store_id:
        facts.append((N_("Only at {store}"), {"store": ctx.store_names.get(row.store_id, "")}))
    facts += _window_facts(row.valid_from, row.valid_until)
    form = {
        "id": str(row.id),
        "name": row.name,
        "action": row.action,
        "points": str(row.points or ""),
        "points_per_unit": row.points_per_unit or "",
        "limit_count": _num(row.limit_count),
        "limit_period": row.limit_period,
        "valid_from": _local_text(row.valid_from, ctx.tz),
        "valid_until": _local_text(row.valid_until, ctx.tz),
        "tier_keys": ",".join(row.tier_keys or []),
        "segment": row.segment_key or "",
        "store": _num(row.store_id),
        "event_codes": ", ".join((row.params or {}).get("event_codes", [])),
    }
    return RowView(
        row.id,
        row.key,
        row.name or ACTION_LABELS.get(row.action, row.action),
        _status(row.is_active, row.valid_from, row.valid_until, ctx.now),
        tuple(facts),
        form,
        True,
    )


EARNING = _Spec(
    "earning",
    EarningRule,
    "rule",
    _parse_earning,
    _upsert_earning,
    _earning_view,
    start=lambda r: r.valid_from,
    title_params=lambda r, lang, tz: {"name": r.name or translate(lang, ACTION_LABELS.get(r.action, r.action))},
    order=(EarningRule.id,),
)


list_earning_rules = list_function(EARNING, "list_earning_rules")
save_earning_rule = save_function(EARNING, "save_earning_rule")
retire_earning_rule = retire_function(EARNING, "retire_earning_rule")


# ---------------------------------------------------------------- tiers


def _parse_tier(f: _Form, session: Session, merchant: Merchant, row: Tier | None) -> dict:
    others = [t for t in _tiers(session, merchant.id) if row is None or t.id != row.id]
    values = dict(
        name=f.text("name", max_len=60, required=True),
        rank=f.integer("rank", lo=0, hi=20, required=True),
        threshold=f.integer("threshold", lo=0, hi=10_000_000, required=True),
        colour=f.colour("colour", default="#888888"),
        description=f.text("description", max_len=300, multiline=True),
    )
    pct = f.multiplier("purchase_multiplier", lo=Decimal(1), hi=Decimal(10), required=False)
    multipliers = dict(row.multipliers or {}) if row is not None else {}
    if pct is None or pct == 100:
        multipliers.pop(EarnAction.PURCHASE.value, None)
    else:
        multipliers[EarnAction.PURCHASE.value] = pct
    values["multipliers"] = multipliers
    rank, threshold = values["rank"], values["threshold"]
    if rank is not None and any(t.rank == rank for t in others):
        f.fail("rank", RANK_TAKEN, "rank_taken")
    elif rank is not None and threshold is not None:
        if any((t.rank < rank and t.threshold >= threshold) or (t.rank > rank and t.threshold <= threshold) for t in others):
            f.fail("threshold", THRESHOLD_ORDER, "threshold_order")
    return values


def _upsert_tier(session: Session, merchant_id: int, key: str, values: dict) -> Tier:
    return pa.upsert_tier(session, merchant_id, key, **values)


def _tier_view(row: Tier, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [
        (N_("Rank {rank}"), {"rank": row.rank}),
        (N_("From {points} points earned"), {"points": row.threshold}),
    ]
    purchase = (row.multipliers or {}).get(EarnAction.PURCHASE.value)
    if purchase and int(purchase) != 100:
        facts.append((N_("Purchases ×{multiplier}"), {"multiplier": _pct_text(int(purchase))}))
    form = {
        "id": str(row.id),
        "name": row.name,
        "rank": str(row.rank),
        "threshold": str(row.threshold),
        "colour": row.colour,
        "purchase_multiplier": _pct_text(int(purchase)) if purchase else "1",
        "description": row.description,
    }
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), tuple(facts), form, True)


def _tier_set_active(session: Session, merchant: Merchant, row: Tier, active: bool, now: datetime) -> None:
    """No member is left in a retired tier: they move to the highest active tier below it."""
    if not active:
        move_members_off_tier(session, merchant_id=merchant.id, tier_id=row.id, now=now)


TIER = _Spec("tier", Tier, "tier", _parse_tier, _upsert_tier, _tier_view, order=(Tier.rank,), on_set_active=_tier_set_active)


list_tiers = list_function(TIER, "list_tiers")
save_tier = save_function(TIER, "save_tier")
retire_tier = retire_function(
    TIER,
    "retire_tier",
    """Retire a tier: its members move at once to the highest active tier below it (a history
    row each); nobody reaches it any more. Rewards gated on it stay gated by its rank.""",
)


# ---------------------------------------------------------------- badges


def _parse_badge(f: _Form, session: Session, merchant: Merchant, row: Badge | None) -> dict:
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=60, required=True),
        description=f.text("description", max_len=200, multiline=True),
        kind=f.choice("kind", BADGE_KIND_LABELS),
        target=f.integer("target", lo=1, hi=1_000_000, required=True),
        icon=f.choice("icon", BADGE_ICONS, default="star"),
        param=None,
        sort_order=row.sort_order if row is not None else 0,
    )
    kind = values["kind"]
    if kind == BadgeKind.TIER_REACHED.value:
        tiers = {t.key for t in _tiers(session, merchant.id)}
        values["param"] = f.choice("param_tier", tiers)
    elif kind == BadgeKind.ACTION_COUNT.value:
        values["param"] = f.choice("param_action", ACTION_LABELS)
    elif kind == BadgeKind.CHALLENGE.value:
        keys = set(session.exec(select(Challenge.key).where(Challenge.merchant_id == merchant.id)).all())
        values["param"] = f.choice("param_challenge", keys)
    if kind is None:
        values["kind"] = BadgeKind.CHECK_INS.value
    return values


def _upsert_badge(session: Session, merchant_id: int, key: str, values: dict) -> Badge:
    return pa.upsert_badge(session, merchant_id, key, **values)


def _badge_view(row: Badge, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(BADGE_KIND_LABELS.get(row.kind, N_("Badges")), {}), (N_("Target: {n}"), {"n": row.target})]
    if row.kind == BadgeKind.TIER_REACHED.value and row.param:
        facts.append(("", {"text": ctx.tier_by_key.get(row.param, row.param)}))
    elif row.kind == BadgeKind.ACTION_COUNT.value and row.param:
        facts.append((ACTION_LABELS.get(row.param, N_("Reward")), {}))
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "target": str(row.target),
        "icon": row.icon,
        "param_tier": (row.param or "") if row.kind == BadgeKind.TIER_REACHED.value else "",
        "param_action": (row.param or "") if row.kind == BadgeKind.ACTION_COUNT.value else "",
        "param_challenge": (row.param or "") if row.kind == BadgeKind.CHALLENGE.value else "",
    }
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), tuple(facts), form, True)


BADGE = _Spec("badge", Badge, "badge", _parse_badge, _upsert_badge, _badge_view, order=(Badge.sort_order, Badge.id))


list_badges = list_function(BADGE, "list_badges")
save_badge = save_function(BADGE, "save_badge")
retire_badge = retire_function(
    BADGE, "retire_badge", """Retire a badge: no longer awarded (by its criterion or a challenge); members keep theirs."""
)


# ---------------------------------------------------------------- challenges


def _parse_challenge(f: _Form, session: Session, merchant: Merchant, row: Challenge | None) -> dict:
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        action=f.choice("action", CHALLENGE_ACTION_LABELS) or VISIT,
        target=f.integer("target", lo=1, hi=1000, required=True),
        recurrence=f.choice("recurrence", RECURRENCE_LABELS, default=Recurrence.ONE_OFF.value) or Recurrence.ONE_OFF.value,
        starts_at=f.moment("starts_at"),
        ends_at=f.moment("ends_at"),
        reward_points=f.integer("reward_points", lo=0, hi=100_000) or 0,
        reward_badge_key=None,
        hidden=f.flag("hidden"),
        segment_key=_segment_choice(f, session, merchant.id, row),
    )
    f.window("ends_at", values["starts_at"], values["ends_at"])
    badge_key = f.s("reward_badge")
    if badge_key:
        keys = set(session.exec(select(Badge.key).where(Badge.merchant_id == merchant.id)).all())
        if badge_key not in keys:
            f.fail("reward_badge", UNKNOWN_BADGE, "unknown_badge")
        else:
            values["reward_badge_key"] = badge_key
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_challenge(session: Session, merchant_id: int, key: str, values: dict) -> Challenge:
    return _upsert_with_segment(pa.upsert_challenge, session, merchant_id, key, values)


def _challenge_view(row: Challenge, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [
        (CHALLENGE_ACTION_LABELS.get(row.action, N_("Reward")), {}),
        (N_("Target: {n}"), {"n": row.target}),
        (RECURRENCE_LABELS.get(row.recurrence, N_("Once")), {}),
    ]
    if row.reward_points:
        facts.append((N_("{points} points"), {"points": row.reward_points}))
    if row.hidden:
        facts.append((N_("Hidden until completed"), {}))
    facts += _segment_fact(row.segment_key, ctx)
    facts += _window_facts(row.starts_at, row.ends_at)
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "action": row.action,
        "target": str(row.target),
        "recurrence": row.recurrence,
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
        "reward_points": str(row.reward_points),
        "reward_badge": ctx.badge_keys.get(row.reward_badge_id, "") if row.reward_badge_id else "",
        "hidden": "on" if row.hidden else "",
        "segment": row.segment_key or "",
    }
    return RowView(
        row.id, row.key, row.name, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


CHALLENGE = _Spec(
    "challenge",
    Challenge,
    "challenge",
    _parse_challenge,
    _upsert_challenge,
    _challenge_view,
    start=lambda r: r.starts_at,
    order=(Challenge.id,),
)


list_challenges = list_function(CHALLENGE, "list_challenges")
save_challenge = save_function(CHALLENGE, "save_challenge")
retire_challenge = retire_function(CHALLENGE, "retire_challenge")


# ---------------------------------------------------------------- quests


def _parse_quest(f: _Form, session: Session, merchant: Merchant, row: Quest | None) -> dict:
    tiers = {t.key: t.name for t in _tiers(session, merchant.id)}
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        multiplier_pct=f.multiplier("multiplier", lo=Decimal(1), hi=Decimal(10), above_lo=True),
        starts_local=f.moment("starts_at", required=True),
        ends_local=f.moment("ends_at", required=True),
        tier_keys=f.keys("tier_keys", tiers, message=UNKNOWN_TIER, code="unknown_tier"),
        actions=f.keys("actions", ACTION_LABELS, message=UNKNOWN_ACTION, code="unknown_action"),
        store_id=_store_choice(f, session, merchant.id),
        segment_key=_segment_choice(f, session, merchant.id, row),
    )
    f.window("ends_at", values["starts_local"], values["ends_local"])
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_quest(session: Session, merchant_id: int, key: str, values: dict) -> Quest:
    return pa.upsert_quest(session, merchant_id, key, **values)  # aware UTC times are taken as they are


def _quest_view(row: Quest, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(N_("×{multiplier} points"), {"multiplier": _pct_text(row.multiplier_pct)})]
    facts += _window_facts(row.starts_at, row.ends_at)
    if row.tier_keys:
        facts.append((N_("Only for: {tiers}"), {"tiers": ", ".join(ctx.tier_by_key.get(k, k) for k in row.tier_keys)}))
    if row.store_id:
        facts.append((N_("Only at {store}"), {"store": ctx.store_names.get(row.store_id, "")}))
    facts += _segment_fact(row.segment_key, ctx)
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "multiplier": _pct_text(row.multiplier_pct),
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
        "tier_keys": ",".join(row.tier_keys or []),
        "actions": ",".join(row.actions or []),
        "store": _num(row.store_id),
        "segment": row.segment_key or "",
    }
    return RowView(
        row.id, row.key, row.name, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


def _quest_title(row: Quest, lang: str, tz: str) -> dict:
    return {
        "name": row.name,
        "multiplier": _pct_text(row.multiplier_pct),
        "start": format_datetime(lang, _aware(row.starts_at), tz, START_FORMAT),
    }


QUEST = _Spec(
    "quest",
    Quest,
    "quest",
    _parse_quest,
    _upsert_quest,
    _quest_view,
    start=lambda r: r.starts_at,
    title_params=_quest_title,
    order=(Quest.starts_at.desc(), Quest.id.desc()),
)  # type: ignore[attr-defined]


list_quests = list_function(QUEST, "list_quests")
save_quest = save_function(QUEST, "save_quest", """``starts_at``/``ends_at`` are wall-clock times in the merchant's timezone.""")
retire_quest = retire_function(QUEST, "retire_quest")
