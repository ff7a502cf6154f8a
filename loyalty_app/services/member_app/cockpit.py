"""The member cockpit's home screen in one call: balance, tier and progress, expiring points,
live quests, challenges, badges and recommended rewards.

One read transaction and a handful of queries (balance, tier row, two earned-points sums,
expiring lots, quests, challenges + progress, badges + activity counters, rewards + ratings).
Quests, challenges and rewards targeted at a segment show only to its members (the segment
facts are queried only when something is targeted).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain import catalog
from loyalty_app.domain import tiers as tier_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot
from loyalty_app.models import Account, Reward, RewardRating, Role, Voucher
from loyalty_app.services import ledger
from loyalty_app.services.catalog.rewards import rating_averages, reward_spec, tier_ranks_by_id
from loyalty_app.services.earning.actions import live_quests, load_context
from loyalty_app.services.earning.badges import BadgeView, member_badges
from loyalty_app.services.earning.challenges import ChallengeView, member_challenges
from loyalty_app.services.earning.segments import MemberSegments
from loyalty_app.services.earning.tiers import current_tier, keep_points, qualifying_points


@dataclass(frozen=True)
class QuestCard:
    key: str
    name: str
    multiplier_pct: int
    ends_at: datetime


@dataclass(frozen=True)
class RewardCard:
    reward_id: int
    key: str
    name: str
    kind: str
    cost_points: int
    image_id: int | None
    affordable: bool
    rating: float | None
    reason: str  # msgid
    reason_params: dict


@dataclass(frozen=True)
class MemberSummary:
    balance: BalanceSnapshot
    tier_key: str | None
    tier_name: str | None
    tier_colour: str | None
    next_tier_name: str | None
    points_to_next_tier: int
    pct_to_next_tier: int
    points_to_keep_tier: int
    pct_to_keep_tier: int  # how far the member is towards keeping the current tier
    qualifying_points: int
    expiring_30d: int
    next_expiry_at: datetime | None
    active_quests: list[QuestCard]
    challenges: list[ChallengeView]
    newest_badges: list[BadgeView]
    locked_badges: list[BadgeView]
    recommended_rewards: list[RewardCard]
    is_birthday: bool = False


def is_birthday(birthday: date | None, now: datetime, tz_name: str) -> bool:
    """The member's birthday in their own time zone (29 February is celebrated on the 28th in
    other years)."""
    if birthday is None:
        return False
    try:
        today = now.astimezone(ZoneInfo(tz_name or "UTC")).date()
    except (KeyError, ValueError):
        today = now.date()
    month, day = birthday.month, birthday.day
    if (month, day) == (2, 29) and not calendar.isleap(today.year):
        day = 28
    return (today.month, today.day) == (month, day)


def summary_for(engine: Engine, actor) -> MemberSummary:
    """The signed-in member's own cockpit (the state has already authorized ``actor``)."""
    return member_summary(engine, merchant_id=actor.merchant_id, account_id=actor.account_id)


def member_summary(engine: Engine, *, merchant_id: int, account_id: int, now: datetime | None = None) -> MemberSummary:
    now = now or utcnow()
    with read_session(engine) as session:
        account = session.get(Account, account_id)
        if account is None or account.merchant_id != merchant_id or account.role != Role.MEMBER:
            raise NotFound(N_("Member not found."), code="member_not_found")
        ctx = load_context(session, merchant_id)
        balance = ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id)
        tier = current_tier(session, merchant_id, account_id, ctx.tiers)
        window = ctx.settings.tier_window
        q_points = qualifying_points(session, merchant_id=merchant_id, account_id=account_id, window=window, now=now, tz=ctx.tz)
        k_points = (
            q_points
            if tier_rules.TierWindow(window) is tier_rules.TierWindow.ROLLING_12M
            else keep_points(session, merchant_id=merchant_id, account_id=account_id, window=window, now=now, tz=ctx.tz)
        )
        progress = tier_rules.progress(ctx.tiers, tier, q_points, k_points)
        expiring = ledger.expiring_points(session, merchant_id=merchant_id, account_id=account_id, now=now, within_days=30)
        segments = MemberSegments(session, account, now, tz=ctx.tz, tier_key=tier.key if tier else None)
        quests = [
            QuestCard(q.key, q.name, q.multiplier_pct, q.ends_at)
            for q in live_quests(session, merchant_id, now)
            if (not q.tier_keys or (tier is not None and tier.key in q.tier_keys)) and segments.allows(q.segment_key)
        ]
        challenges = [
            c
            for c in member_challenges(
                session, merchant_id=merchant_id, account_id=account_id, tz=ctx.tz, now=now, segments=segments
            )
        ]
        badges = member_badges(
            session,
            merchant_id=merchant_id,
            account_id=account_id,
            tier_rank=tier.rank if tier else -1,
            tier_ranks=ctx.tier_ranks,
        )
        rows = [
            r
            for r in session.exec(select(Reward).where(Reward.merchant_id == merchant_id, Reward.is_active)).all()
            if segments.allows(r.segment_key)
        ]
        ranks = tier_ranks_by_id(session, merchant_id)
        by_id = {r.id: r for r in rows}
        own_ratings = dict(
            session.exec(
                select(RewardRating.reward_id, RewardRating.stars).where(
                    RewardRating.merchant_id == merchant_id, RewardRating.account_id == account_id
                )
            ).all()
        )
        redeemed_kinds = set(
            session.exec(
                select(Reward.kind)
                .join(Voucher, Voucher.reward_id == Reward.id)
                .where(Voucher.merchant_id == merchant_id, Voucher.account_id == account_id)
                .distinct()
            ).all()
        )
        recs = catalog.recommend(
            [reward_spec(r, ranks) for r in rows],
            now=now,
            tier_rank=tier.rank if tier else -1,
            available_points=balance.available,
            ratings=rating_averages(session, merchant_id),
            own_ratings=own_ratings,
            redeemed_kinds=_kinds(redeemed_kinds),
        )
        return MemberSummary(
            balance=balance,
            tier_key=tier.key if tier else None,
            tier_name=tier.name if tier else None,
            tier_colour=tier.colour if tier else None,
            next_tier_name=progress.next.name if progress.next else None,
            points_to_next_tier=progress.points_to_next,
            pct_to_next_tier=progress.pct_to_next,
            points_to_keep_tier=progress.points_to_keep,
            pct_to_keep_tier=_pct_to_keep(tier.threshold if tier else 0, progress.points_to_keep),
            qualifying_points=q_points,
            expiring_30d=sum(points for _at, points in expiring),
            next_expiry_at=expiring[0][0] if expiring else None,
            active_quests=sorted(quests, key=lambda q: q.ends_at),
            challenges=[c for c in challenges if not c.completed] + [c for c in challenges if c.completed],
            newest_badges=[b for b in badges if b.earned][:3],
            locked_badges=[b for b in badges if not b.earned][:3],
            recommended_rewards=[
                RewardCard(
                    r.reward.id,
                    r.reward.key,
                    r.reward.name,
                    r.reward.kind.value,
                    r.reward.cost_points,
                    by_id[r.reward.id].image_id,
                    r.affordable,
                    r.rating,
                    r.reason,
                    r.reason_params,
                )
                for r in recs
            ],
            is_birthday=is_birthday(account.birthday, now, account.timezone),
        )


def _kinds(values) -> frozenset:
    known = {k.value: k for k in catalog.RewardKind}
    return frozenset(known[v] for v in values if v in known)


def _pct_to_keep(threshold: int, points_to_keep: int) -> int:
    if threshold <= 0 or points_to_keep <= 0:
        return 100
    return max(0, min(100, round(100 * (threshold - points_to_keep) / threshold)))
