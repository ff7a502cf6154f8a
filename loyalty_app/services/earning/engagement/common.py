"""What every engagement flow shares: the member's permission, what one earn gave them
(``EarnResult``), and the earning rule that pays an action for a member now, with its use so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyalty_app.domain import earning as rules
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.earning import LimitPeriod, RuleSpec
from loyalty_app.models import Account
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning.actions import EarnOutcome, ProgramContext, matching_rule
from loyalty_app.services.earning.tiers import current_tier
from loyalty_app.services.platform.permissions import Action, Actor, authorize

# Members act on their own account here (answer, opt in, send a link or photo). The permission
# matrix has no separate "earn" action yet; EDIT_OWN_PROFILE has exactly the needed rule
# (member role, own account only), and services.members.member_media uses it for uploads as well.
MEMBER_ENGAGE = Action.EDIT_OWN_PROFILE


@dataclass(frozen=True)
class EarnResult:
    """What one way to earn gave the member, for the success message."""

    action: str
    points: int
    bonus_points: int
    available: int
    badges: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    tier_reached: str | None = None
    already: bool = False  # nothing new: done before (newsletter already paid, ...)

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


def _result(outcome: EarnOutcome) -> EarnResult:
    change = outcome.tier_change
    return EarnResult(
        action=outcome.action,
        points=0 if outcome.replayed else outcome.points,
        bonus_points=0 if outcome.replayed else outcome.bonus_points,
        available=outcome.balance.available,
        badges=tuple(b.name for b in outcome.badges_awarded),
        challenges=tuple(c.name for c in outcome.challenges_completed),
        tier_reached=change.to_name if change is not None and change.upgraded else None,
        already=outcome.replayed,
    )


def _member(engine: Engine, actor: Actor | None) -> Actor:
    return authorize(engine, actor, MEMBER_ENGAGE, merchant_id=actor.merchant_id if actor else 0)


class _RuleFinder:
    """The best rule paying each action for this member now (tier and segments loaded once)."""

    def __init__(self, session: Session, ctx: ProgramContext, account: Account, now: datetime):
        self._args = (session, ctx, now)
        self._tier = current_tier(session, ctx.merchant.id, account.id, ctx.tiers)
        self._segments = earning._Segments(session, account, ctx, now)

    def __call__(self, action: str) -> RuleSpec | None:
        session, ctx, now = self._args
        return matching_rule(
            session, ctx, action=EarnAction(action), tier=self._tier, segments=self._segments, store_id=None, now=now
        )


def _rule_for(session: Session, ctx: ProgramContext, account: Account, action: str, now: datetime) -> RuleSpec | None:
    return _RuleFinder(session, ctx, account, now)(action)


def _used(session: Session, ctx: ProgramContext, account_id: int, rule: RuleSpec, now: datetime) -> int:
    period = rule.limit_period if rule.limit_period is not LimitPeriod.NONE else LimitPeriod.DAY
    return earning.used_in_period(
        session,
        merchant_id=ctx.merchant.id,
        account_id=account_id,
        action=rule.action.value,
        period=period,
        today=rules.local_date(now, ctx.tz),
    )


def _limit_reached(rule: RuleSpec, used: int) -> bool:
    return rule.limit_period is not LimitPeriod.NONE and rule.limit_count is not None and used >= rule.limit_count
