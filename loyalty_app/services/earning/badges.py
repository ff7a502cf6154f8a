"""Badge awards and progress. Awards happen inside the earn/redeem/rate transaction; the
``(account_id, badge_id)`` unique constraint makes each badge a once-only award.

A retired badge (``Badge.is_active`` false, from the merchant's console) is no longer awarded,
by its criterion or by a challenge; members who earned it keep it and still see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from loyalty_app.domain.badges import ActivityFacts, BadgeKind, BadgeSpec, badge_progress, newly_earned
from loyalty_app.domain.earning import VISIT_ACTIONS
from loyalty_app.models import Badge, Challenge, ChallengeProgress, MemberActivity, MemberBadge, Voucher
from loyalty_app.services import ledger

_VISITS = [a.value for a in VISIT_ACTIONS]


@dataclass(frozen=True)
class AwardedBadge:
    key: str
    name: str
    icon: str
    description: str = ""


@dataclass(frozen=True)
class BadgeView:
    key: str
    name: str
    icon: str
    description: str
    earned: bool
    awarded_at: datetime | None
    current: int
    target: int

    @property
    def pct(self) -> int:
        return min(100, self.current * 100 // max(self.target, 1))


def load_badges(session: Session, merchant_id: int) -> list[Badge]:
    return list(session.exec(select(Badge).where(Badge.merchant_id == merchant_id).order_by(Badge.sort_order, Badge.id)).all())


def to_spec(row: Badge) -> BadgeSpec:
    return BadgeSpec(
        key=row.key,
        name=row.name,
        kind=BadgeKind(row.kind),
        target=row.target,
        param=row.param,
        description=row.description,
        icon=row.icon,
        id=row.id,
    )


def activity_facts(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    tier_rank: int,
    tier_ranks: dict,
    kinds: set[BadgeKind] | None = None,
) -> ActivityFacts:
    """Counters for badge criteria; ``kinds`` limits the queries to what open badges need."""
    want = kinds or set(BadgeKind)
    counts = dict(
        session.exec(
            select(MemberActivity.action, func.count())
            .where(MemberActivity.merchant_id == merchant_id, MemberActivity.account_id == account_id)
            .group_by(MemberActivity.action)
        ).all()
    )
    distinct_stores = 0
    if BadgeKind.DISTINCT_STORES in want:
        distinct_stores = session.exec(
            select(func.count(func.distinct(MemberActivity.store_id))).where(
                MemberActivity.merchant_id == merchant_id,
                MemberActivity.account_id == account_id,
                MemberActivity.action.in_(_VISITS),
                MemberActivity.store_id.is_not(None),
            )
        ).one()
    visit_days: tuple = ()
    if BadgeKind.WEEKLY_STREAK in want:
        visit_days = tuple(
            session.exec(
                select(MemberActivity.local_day)
                .where(
                    MemberActivity.merchant_id == merchant_id,
                    MemberActivity.account_id == account_id,
                    MemberActivity.action.in_(_VISITS),
                )
                .distinct()
            ).all()
        )
    redemptions = 0
    if BadgeKind.FIRST_REDEMPTION in want:
        redemptions = session.exec(
            select(func.count())
            .select_from(Voucher)
            .where(Voucher.merchant_id == merchant_id, Voucher.account_id == account_id, Voucher.status != "cancelled")
        ).one()
    lifetime = 0
    if BadgeKind.POINTS_EARNED in want:
        lifetime = ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id).lifetime_earned
    completed: frozenset = frozenset()
    if BadgeKind.CHALLENGE in want:
        completed = frozenset(
            session.exec(
                select(Challenge.key)
                .join(ChallengeProgress, ChallengeProgress.challenge_id == Challenge.id)
                .where(
                    ChallengeProgress.merchant_id == merchant_id,
                    ChallengeProgress.account_id == account_id,
                    ChallengeProgress.completed_at.is_not(None),
                )
            ).all()
        )
    return ActivityFacts(
        action_counts=counts,
        distinct_stores=int(distinct_stores or 0),
        visit_days=visit_days,
        redemptions=int(redemptions or 0),
        tier_rank=tier_rank,
        tier_ranks=tier_ranks,
        lifetime_earned=lifetime,
        completed_challenges=completed,
    )


def owned_badges(session: Session, merchant_id: int, account_id: int) -> dict[int, datetime]:
    return dict(
        session.exec(
            select(MemberBadge.badge_id, MemberBadge.awarded_at).where(
                MemberBadge.merchant_id == merchant_id, MemberBadge.account_id == account_id
            )
        ).all()
    )


def award_badge(session: Session, *, merchant_id: int, account_id: int, badge: Badge, now: datetime) -> AwardedBadge | None:
    """Award one badge unless already owned (the unique constraint backs this up) or retired."""
    if not badge.is_active:
        return None
    exists = session.exec(
        select(MemberBadge.id).where(MemberBadge.account_id == account_id, MemberBadge.badge_id == badge.id)
    ).first()
    if exists is not None:
        return None
    session.add(MemberBadge(merchant_id=merchant_id, account_id=account_id, badge_id=badge.id, awarded_at=now))
    session.flush()
    return AwardedBadge(badge.key, badge.name, badge.icon, badge.description)


def award_earned_badges(
    session: Session, *, merchant_id: int, account_id: int, tier_rank: int, tier_ranks: dict, now: datetime
) -> list[AwardedBadge]:
    """Award every badge whose criterion the member now meets (challenge badges come from
    their challenge)."""
    rows = [b for b in load_badges(session, merchant_id) if b.kind != BadgeKind.CHALLENGE.value and b.is_active]
    owned = owned_badges(session, merchant_id, account_id)
    open_rows = [b for b in rows if b.id not in owned]
    if not open_rows:
        return []
    specs = [to_spec(b) for b in open_rows]
    facts = activity_facts(
        session,
        merchant_id=merchant_id,
        account_id=account_id,
        tier_rank=tier_rank,
        tier_ranks=tier_ranks,
        kinds={s.kind for s in specs},
    )
    by_key = {b.key: b for b in open_rows}
    awarded = []
    for spec in newly_earned(specs, facts, ()):
        badge = award_badge(session, merchant_id=merchant_id, account_id=account_id, badge=by_key[spec.key], now=now)
        if badge:
            awarded.append(badge)
    return awarded


def member_badges(session: Session, *, merchant_id: int, account_id: int, tier_rank: int, tier_ranks: dict) -> list[BadgeView]:
    """Every badge of the program with the member's progress: earned newest first, then locked
    ones closest to completion first. A retired badge shows only to members who earned it."""
    owned = owned_badges(session, merchant_id, account_id)
    rows = [b for b in load_badges(session, merchant_id) if b.is_active or b.id in owned]
    specs = [to_spec(b) for b in rows]
    facts = activity_facts(
        session,
        merchant_id=merchant_id,
        account_id=account_id,
        tier_rank=tier_rank,
        tier_ranks=tier_ranks,
        kinds={s.kind for s, b in zip(specs, rows) if b.id not in owned},
    )
    views = []
    for spec, row in zip(specs, rows):
        current, target = badge_progress(spec, facts)
        earned = row.id in owned
        views.append(
            BadgeView(
                row.key, row.name, row.icon, row.description, earned, owned.get(row.id), target if earned else current, target
            )
        )
    earned = sorted((v for v in views if v.earned), key=lambda v: v.awarded_at, reverse=True)
    locked = sorted((v for v in views if not v.earned), key=lambda v: -v.pct)
    return earned + locked
