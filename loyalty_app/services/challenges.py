"""Challenge progress, advanced inside the earn transaction; completion pays points (through
the ledger, idempotent per challenge, member and period) and/or awards a badge.

A challenge with a ``segment_key`` is only for the members of that segment: others neither see
it nor progress in it (``services.segments.MemberSegments``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from loyalty_app.domain import challenges as rules
from loyalty_app.domain.challenges import ChallengeSpec, Recurrence
from loyalty_app.domain.errors import N_
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models import Badge, Challenge, ChallengeProgress
from loyalty_app.services import ledger
from loyalty_app.services.badges import AwardedBadge, award_badge

CHALLENGE_REASON = N_("Challenge completed: {challenge}")


@dataclass(frozen=True)
class CompletedChallenge:
    key: str
    name: str
    reward_points: int
    badge: AwardedBadge | None


@dataclass(frozen=True)
class ChallengeView:
    key: str
    name: str
    description: str
    action: str
    count: int
    target: int
    pct: int
    completed: bool
    recurrence: str
    period_key: str
    ends_at: datetime | None
    reward_points: int
    hidden: bool


def to_spec(row: Challenge) -> ChallengeSpec:
    return ChallengeSpec(
        key=row.key, name=row.name, action=row.action, target=row.target, recurrence=Recurrence(row.recurrence),
        starts_at=row.starts_at, ends_at=row.ends_at, reward_points=row.reward_points, hidden=row.hidden, id=row.id,
    )


def open_challenges(session: Session, merchant_id: int, now: datetime) -> list[Challenge]:
    rows = session.exec(select(Challenge).where(Challenge.merchant_id == merchant_id, Challenge.is_active)).all()
    return [c for c in rows if rules.is_open(to_spec(c), now)]


def _for_member(session: Session, rows: list[Challenge], account_id: int, tz: str, now: datetime, segments=None) -> list[Challenge]:
    """The challenges offered to this member (segment-targeted ones only to their segment)."""
    if not any(r.segment_key for r in rows):
        return rows
    if segments is None:
        from loyalty_app.services.segments import MemberSegments

        segments = MemberSegments(session, account_id, now, tz=tz)
    return [r for r in rows if segments.allows(r.segment_key)]


def advance_challenges(
    session: Session, *, merchant_id: int, account_id: int, action: str, tz: str, now: datetime, segments=None
) -> tuple[list[CompletedChallenge], int]:
    """Count one ``action`` toward every open matching challenge offered to this member; pay
    completed ones. ``segments``: the member's ``MemberSegments`` when the caller has one.

    Returns the completed challenges and the points they credited.
    """
    completed: list[CompletedChallenge] = []
    bonus = 0
    rows = [r for r in open_challenges(session, merchant_id, now) if rules.counts_action(to_spec(r), action)]
    for row in _for_member(session, rows, account_id, tz, now, segments):
        spec = to_spec(row)
        period = rules.period_key(spec.recurrence, now, tz)
        progress = session.exec(
            select(ChallengeProgress).where(
                ChallengeProgress.challenge_id == row.id,
                ChallengeProgress.account_id == account_id,
                ChallengeProgress.period_key == period,
            )
        ).first()
        if progress is None:
            progress = ChallengeProgress(merchant_id=merchant_id, account_id=account_id, challenge_id=row.id, period_key=period)
        count, just_done = rules.advance(spec, progress.count, progress.completed_at is not None)
        if count == progress.count and not just_done:
            continue
        progress.count = count
        progress.updated_at = now
        if just_done:
            progress.completed_at = now
        session.add(progress)
        session.flush()
        if not just_done:
            continue
        if row.reward_points > 0:
            ledger.credit(
                session,
                merchant_id=merchant_id,
                account_id=account_id,
                points=row.reward_points,
                idempotency_key=f"challenge:{row.id}:{account_id}:{period}",
                reason=CHALLENGE_REASON,
                reason_params={"challenge": row.name},
                kind=EntryKind.EARN,
                source={"challenge": row.key, "period": period},
                now=now,
            )
            bonus += row.reward_points
        badge = None
        if row.reward_badge_id is not None:
            badge_row = session.get(Badge, row.reward_badge_id)
            if badge_row is not None and badge_row.merchant_id == merchant_id:
                badge = award_badge(session, merchant_id=merchant_id, account_id=account_id, badge=badge_row, now=now)
        completed.append(CompletedChallenge(row.key, row.name, row.reward_points, badge))
    return completed, bonus


def member_challenges(session: Session, *, merchant_id: int, account_id: int, tz: str, now: datetime,
                      segments=None) -> list[ChallengeView]:
    """Open challenges offered to this member with this period's progress; hidden ones only once
    completed."""
    rows = _for_member(session, open_challenges(session, merchant_id, now), account_id, tz, now, segments)
    if not rows:
        return []
    progress_rows = session.exec(
        select(ChallengeProgress).where(
            ChallengeProgress.merchant_id == merchant_id,
            ChallengeProgress.account_id == account_id,
            ChallengeProgress.challenge_id.in_([r.id for r in rows]),
        )
    ).all()
    by_key = {(p.challenge_id, p.period_key): p for p in progress_rows}
    views = []
    for row in rows:
        spec = to_spec(row)
        period = rules.period_key(spec.recurrence, now, tz)
        progress = by_key.get((row.id, period))
        count = progress.count if progress else 0
        done = bool(progress and progress.completed_at)
        if not rules.is_listed(spec, done):
            continue
        views.append(
            ChallengeView(row.key, row.name, row.description, row.action, count, row.target,
                          rules.progress_pct(count, row.target), done, row.recurrence, period, row.ends_at,
                          row.reward_points, row.hidden)
        )
    return sorted(views, key=lambda v: (v.completed, -v.pct, v.key))
