"""What the editor page dispatches on: the kind -> spec / list / save tables, ``set_active`` for
any retirable kind, the create form's defaults and the selects' options (``program_options``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain import segments as segment_rules
from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.catalog import RewardKind
from loyalty_app.domain.challenges import VISIT, Recurrence
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.earning import LimitPeriod
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.domain.quests import utc_to_local
from loyalty_app.models import Badge, Challenge, Segment
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program.program_console.catalog import (
    CHARITY,
    REWARD,
    list_charities,
    list_rewards,
    save_charity,
    save_reward,
)
from loyalty_app.services.program.program_console.earning import (
    BADGE,
    CHALLENGE,
    EARNING,
    QUEST,
    TIER,
    list_badges,
    list_challenges,
    list_earning_rules,
    list_quests,
    list_tiers,
    save_badge,
    save_challenge,
    save_earning_rule,
    save_quest,
    save_tier,
)
from loyalty_app.services.program.program_console.editor import _set_active, _Spec
from loyalty_app.services.program.program_console.forms import FORM_DATETIME, UNKNOWN_OPTION
from loyalty_app.services.program.program_console.labels import RETIRABLE
from loyalty_app.services.program.program_console.rows import RowView, _admin, _merchant, _stores, _tiers
from loyalty_app.services.program.program_console.segments import SEGMENT, list_segments, save_segment
from loyalty_app.services.program.program_console.surveys import SURVEY, list_surveys, save_survey


@dataclass(frozen=True)
class ProgramOptions:
    """What the editor's selects and checkboxes offer (all of this merchant only)."""

    timezone: str
    currency: str
    tiers: list[tuple[str, str]]  # (key, name) by rank
    stores: list[tuple[int, str]]
    badges: list[tuple[str, str]]
    challenges: list[tuple[str, str]]
    segments: list[tuple[str, str]] = field(default_factory=list)  # ("seg:<id>", name) of active merchant segments
    retired_tiers: frozenset[str] = frozenset()  # keys of retired tiers (still listed: old rows may point at them)
    retired_badges: frozenset[str] = frozenset()


SPECS: dict[str, _Spec] = {s.kind: s for s in (REWARD, EARNING, TIER, BADGE, CHALLENGE, QUEST, CHARITY, SURVEY, SEGMENT)}
LISTS = {
    "reward": list_rewards,
    "earning": list_earning_rules,
    "tier": list_tiers,
    "badge": list_badges,
    "challenge": list_challenges,
    "quest": list_quests,
    "charity": list_charities,
    "survey": list_surveys,
    "segment": list_segments,
}
SAVES = {
    "reward": save_reward,
    "earning": save_earning_rule,
    "tier": save_tier,
    "badge": save_badge,
    "challenge": save_challenge,
    "quest": save_quest,
    "charity": save_charity,
    "survey": save_survey,
    "segment": save_segment,
}


def set_active(
    engine: Engine,
    admin: Actor | None,
    kind: str,
    row_id: int | str,
    active: bool,
    *,
    publish_note: str = "",
    now: datetime | None = None,
) -> RowView:
    """Retire (``active=False``) or bring back a row of a retirable kind."""
    if kind not in RETIRABLE or kind not in SPECS:
        raise LoyaltyError(UNKNOWN_OPTION, code="not_retirable")
    return _set_active(engine, admin, SPECS[kind], row_id, active, publish_note, now)


def new_form(kind: str, *, now: datetime | None = None, tz: str = "UTC") -> dict[str, str]:
    """The create form's starting values."""
    now = now or utcnow()
    start = utc_to_local(now, tz).replace(second=0, microsecond=0)
    defaults: dict[str, dict[str, str]] = {
        "reward": {"kind": RewardKind.FREE_PRODUCT.value},
        "earning": {"action": EarnAction.CHECK_IN.value, "limit_period": LimitPeriod.NONE.value},
        "tier": {"colour": "#888888", "purchase_multiplier": "1"},
        "badge": {"kind": BadgeKind.CHECK_INS.value, "target": "1", "icon": "star"},
        "challenge": {"action": VISIT, "target": "1", "recurrence": Recurrence.ONE_OFF.value, "reward_points": "0"},
        "quest": {
            "multiplier": "2",
            "starts_at": start.strftime(FORM_DATETIME),
            "ends_at": (start + timedelta(hours=2)).strftime(FORM_DATETIME),
        },
        "charity": {},
        "survey": {"questions": "stars: How do you rate us?"},
        "segment": {"spend_measure": "amount"},
    }
    return {"id": "", **defaults.get(kind, {})}


def program_options(engine: Engine, actor: Actor | None) -> ProgramOptions:
    admin = _admin(engine, actor)
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        tiers = _tiers(session, merchant.id)
        badge_rows = session.exec(
            select(Badge.key, Badge.name, Badge.is_active)
            .where(Badge.merchant_id == merchant.id)
            .order_by(Badge.sort_order, Badge.id)
        ).all()
        return ProgramOptions(
            timezone=merchant.timezone or "UTC",
            currency=merchant.currency,
            tiers=[(t.key, t.name) for t in tiers],
            stores=[(s.id, s.name) for s in _stores(session, merchant.id)],
            badges=[(k, n) for k, n, _a in badge_rows],
            challenges=[
                (k, n)
                for k, n in session.exec(
                    select(Challenge.key, Challenge.name).where(Challenge.merchant_id == merchant.id).order_by(Challenge.id)
                ).all()
            ],
            segments=[
                (segment_rules.segment_ref(i), n)
                for i, n in session.exec(
                    select(Segment.id, Segment.name)
                    .where(Segment.merchant_id == merchant.id, Segment.is_active)
                    .order_by(Segment.id)
                ).all()
            ],
            retired_tiers=frozenset(t.key for t in tiers if not t.is_active),
            retired_badges=frozenset(k for k, _n, active in badge_rows if not active),
        )
