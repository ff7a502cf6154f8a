"""What an earn answers: ``EarnOutcome`` (points, reason, breakdown, side effects), rebuilt the
same from its stored activity when a request is replayed, and the activity lookup by key."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from loyalty_app.domain.earning import AppliedMultiplier, EarnBreakdown
from loyalty_app.domain.ledger import BalanceSnapshot
from loyalty_app.models import (
    MemberActivity,
)
from loyalty_app.services import ledger
from loyalty_app.services.earning.badges import AwardedBadge
from loyalty_app.services.earning.challenges import ChallengeStep, CompletedChallenge
from loyalty_app.services.earning.tiers import TierChange


@dataclass(frozen=True)
class EarnOutcome:
    """Everything one earn did, for the member's toast and the staff screen."""

    action: str
    points: int  # credited for the action itself (after multipliers)
    breakdown: EarnBreakdown
    reason: str  # msgid of the ledger entry
    reason_params: dict
    entry_id: int | None
    balance: BalanceSnapshot
    replayed: bool = False
    bonus_points: int = 0  # from challenges completed by this earn
    badges_awarded: tuple[AwardedBadge, ...] = ()
    challenges_completed: tuple[CompletedChallenge, ...] = ()
    tier_change: TierChange | None = None
    extra: dict = field(default_factory=dict)
    bonus_parts: tuple[tuple[str, int], ...] = ()  # (challenge name, points) for each bonus, in order

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


def _breakdown_from_dict(data: dict) -> EarnBreakdown:
    return EarnBreakdown(
        base_points=int(data.get("base", 0)),
        tier_pct=int(data.get("tier_pct", 100)),
        quest_pct=int(data.get("quest_pct", 100)),
        total_pct=int(data.get("total_pct", 100)),
        capped=bool(data.get("capped", False)),
        points=int(data.get("points", 0)),
        multipliers=tuple(
            AppliedMultiplier(m["label"], int(m["pct"]), m["source"], m["key"]) for m in data.get("multipliers", [])
        ),
    )


def _replay(session: Session, activity: MemberActivity) -> EarnOutcome:
    """The first outcome again (the same total, bonuses included), without writing anything."""
    balance = ledger.get_balance(session, merchant_id=activity.merchant_id, account_id=activity.account_id)
    parts = tuple((str(name), int(points)) for name, points in activity.detail.get("bonus_parts", []))
    return EarnOutcome(
        action=activity.action,
        points=activity.points,
        breakdown=_breakdown_from_dict(activity.breakdown),
        reason=activity.detail.get("reason", ""),
        reason_params=activity.detail.get("reason_params", {}),
        entry_id=activity.entry_id,
        balance=balance,
        replayed=True,
        bonus_points=sum(points for _name, points in parts),
        bonus_parts=parts,
    )


def challenge_steps(activity: MemberActivity) -> list[ChallengeStep]:
    """The challenge steps this activity counted (what undoing it must take back)."""
    return [ChallengeStep.from_dict(d) for d in activity.detail.get("challenge_steps", [])]


def find_activity(session: Session, merchant_id: int, idempotency_key: str) -> MemberActivity | None:
    return session.exec(
        select(MemberActivity).where(MemberActivity.merchant_id == merchant_id, MemberActivity.idempotency_key == idempotency_key)
    ).first()
