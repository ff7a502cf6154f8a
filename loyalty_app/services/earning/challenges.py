"""Challenge progress, advanced inside the earn transaction; completion pays points (through
the ledger, idempotent per challenge, member and period) and/or awards a badge.

Every activity remembers which challenges it counted toward (``ChallengeStep``), so undoing it
(a purchase undone at the till) takes its step back: the count goes down and, when the
challenge is no longer complete, the bonus it paid is reversed. Completing it again later pays
again (a new key in the chain ``challenge:...``, ``challenge:...#2``).

A challenge with a ``segment_key`` is only for the members of that segment: others neither see
it nor progress in it (``services.earning.segments.MemberSegments``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from loyalty_app.domain import challenges as rules
from loyalty_app.domain.challenges import ChallengeSpec, Recurrence
from loyalty_app.domain.errors import N_
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models import Badge, Challenge, ChallengeProgress, LedgerEntry
from loyalty_app.services import ledger
from loyalty_app.services.earning.badges import AwardedBadge, award_badge
from loyalty_app.services.earning.segments import MemberSegments

CHALLENGE_REASON = N_("Challenge completed: {challenge}")
CHALLENGE_TAKEN_BACK_REASON = N_("Challenge no longer complete: {challenge}")


@dataclass(frozen=True)
class CompletedChallenge:
    key: str
    name: str
    reward_points: int
    badge: AwardedBadge | None


@dataclass(frozen=True)
class ChallengeStep:
    """One challenge an activity counted toward, in that activity's period; ``bonus_entry_id``
    is the ledger entry that paid the completion when this step completed it (kept for support
    and audits; an undo finds the standing completion by its key chain)."""

    challenge_id: int
    period: str
    bonus_entry_id: int | None = None

    def as_dict(self) -> dict:
        return {"id": self.challenge_id, "period": self.period, "bonus_entry_id": self.bonus_entry_id}

    @classmethod
    def from_dict(cls, data: dict) -> ChallengeStep:
        entry = data.get("bonus_entry_id")
        return cls(int(data["id"]), str(data["period"]), int(entry) if entry else None)


@dataclass(frozen=True)
class ChallengeAdvance:
    """What one activity did to the member's challenges."""

    completed: list[CompletedChallenge]
    bonus: int
    steps: list[ChallengeStep]


@dataclass(frozen=True)
class TakenBackBonus:
    name: str
    points: int


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
        key=row.key,
        name=row.name,
        action=row.action,
        target=row.target,
        recurrence=Recurrence(row.recurrence),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        reward_points=row.reward_points,
        hidden=row.hidden,
        id=row.id,
    )


def open_challenges(session: Session, merchant_id: int, now: datetime) -> list[Challenge]:
    rows = session.exec(select(Challenge).where(Challenge.merchant_id == merchant_id, Challenge.is_active)).all()
    return [c for c in rows if rules.is_open(to_spec(c), now)]


def _for_member(
    session: Session, rows: list[Challenge], account_id: int, tz: str, now: datetime, segments=None
) -> list[Challenge]:
    """The challenges offered to this member (segment-targeted ones only to their segment)."""
    if not any(r.segment_key for r in rows):
        return rows
    if segments is None:
        segments = MemberSegments(session, account_id, now, tz=tz)
    return [r for r in rows if segments.allows(r.segment_key)]


def _key_chain(base: str):
    """``base`` and its chain ``base#2``, ``base#3``... (callers also filter on the member, so the
    member's index bounds the scan; a key range would depend on the database's collation)."""
    key = LedgerEntry.idempotency_key
    return (key == base) | key.startswith(base + "#")  # type: ignore[attr-defined]


def _bonus_key(session: Session, merchant_id: int, challenge_id: int, account_id: int, period: str) -> str:
    """The completion's idempotency key: ``challenge:<id>:<member>:<period>``, or the next one in
    its chain (``#2``, ``#3``...) when the earlier completions' bonuses were taken back."""
    base = f"challenge:{challenge_id}:{account_id}:{period}"
    rows = session.exec(
        select(LedgerEntry.idempotency_key, LedgerEntry.id).where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.account_id == account_id,
            _key_chain(base),
        )
    ).all()
    by_key = dict(rows)
    reversed_ids = (
        set(
            session.exec(
                select(LedgerEntry.reverses_entry_id).where(LedgerEntry.reverses_entry_id.in_(list(by_key.values())))  # type: ignore[union-attr]
            ).all()
        )
        if by_key
        else set()
    )
    key, n = base, 1
    while key in by_key and by_key[key] in reversed_ids:
        n += 1
        key = f"{base}#{n}"
    return key


def advance_challenges(
    session: Session, *, merchant_id: int, account_id: int, action: str, tz: str, now: datetime, segments=None
) -> ChallengeAdvance:
    """Count one ``action`` toward every open matching challenge offered to this member; pay
    completed ones. ``segments``: the member's ``MemberSegments`` when the caller has one.

    Returns the completed challenges, the points they credited and every step counted (kept
    with the activity, so that undoing it can take the steps back).
    """
    completed: list[CompletedChallenge] = []
    steps: list[ChallengeStep] = []
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
            if progress.completed_at is not None:  # complete already: a surplus action, kept for undo
                progress.surplus += 1
                progress.updated_at = now
                session.add(progress)
                steps.append(ChallengeStep(row.id, period))
            continue
        progress.count = count
        progress.updated_at = now
        if just_done:
            progress.completed_at = now
        session.add(progress)
        session.flush()
        if not just_done:
            steps.append(ChallengeStep(row.id, period))
            continue
        bonus_entry_id = None
        if row.reward_points > 0:
            paid = ledger.credit(
                session,
                merchant_id=merchant_id,
                account_id=account_id,
                points=row.reward_points,
                idempotency_key=_bonus_key(session, merchant_id, row.id, account_id, period),
                reason=CHALLENGE_REASON,
                reason_params={"challenge": row.name},
                kind=EntryKind.EARN,
                source={"challenge": row.key, "period": period},
                now=now,
            )
            bonus_entry_id = paid.entry_id
            bonus += row.reward_points
        steps.append(ChallengeStep(row.id, period, bonus_entry_id))
        badge = None
        if row.reward_badge_id is not None:
            badge_row = session.get(Badge, row.reward_badge_id)
            if badge_row is not None and badge_row.merchant_id == merchant_id:
                badge = award_badge(session, merchant_id=merchant_id, account_id=account_id, badge=badge_row, now=now)
        completed.append(CompletedChallenge(row.key, row.name, row.reward_points, badge))
    return ChallengeAdvance(completed, bonus, steps)


def take_back_steps(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    steps: list[ChallengeStep],
    idempotency_prefix: str,
    author_id: int | None,
    now: datetime,
    source: dict | None = None,
) -> list[TakenBackBonus]:
    """Undo what one activity counted: a surplus action (one counted after completion) takes the
    undone one's place, else the count goes down by one and a challenge that is no longer
    complete loses its completion and the bonus it paid (a reversal entry through
    the ledger; refused as a whole, like any reversal, if the member no longer has the points).
    The caller holds the member's lock and owns the transaction."""
    taken: list[TakenBackBonus] = []
    for step in steps:
        row = session.get(Challenge, step.challenge_id)
        progress = session.exec(
            select(ChallengeProgress).where(
                ChallengeProgress.challenge_id == step.challenge_id,
                ChallengeProgress.account_id == account_id,
                ChallengeProgress.period_key == step.period,
            )
        ).first()
        if row is None or row.merchant_id != merchant_id or progress is None or progress.count + progress.surplus <= 0:
            continue
        progress.updated_at = now
        if progress.surplus > 0:  # an action counted after completion takes this one's place
            progress.surplus -= 1
            session.add(progress)
            continue
        progress.count -= 1
        if progress.completed_at is not None and progress.count < row.target:
            progress.completed_at = None
            bonus = _completion_entry(session, merchant_id, account_id, step, row)
            if bonus is not None:
                result = ledger.reverse(
                    session,
                    merchant_id=merchant_id,
                    entry_id=bonus.id,
                    idempotency_key=f"{idempotency_prefix}:challenge:{bonus.id}",
                    reason=CHALLENGE_TAKEN_BACK_REASON,
                    reason_params={"challenge": row.name},
                    author_id=author_id,
                    now=now,
                    source={**(source or {}), "challenge": row.key, "period": step.period},
                )
                taken.append(TakenBackBonus(row.name, abs(result.points)))
        session.add(progress)
    session.flush()
    return taken


def _completion_entry(
    session: Session, merchant_id: int, account_id: int, step: ChallengeStep, row: Challenge
) -> LedgerEntry | None:
    """The bonus entry of the period's standing completion: the newest of its key chain that
    has not been reversed yet."""
    base = f"challenge:{row.id}:{account_id}:{step.period}"
    entries = session.exec(
        select(LedgerEntry)
        .where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.account_id == account_id,
            _key_chain(base),
        )
        .order_by(LedgerEntry.id.desc())  # type: ignore[union-attr]
    ).all()
    if not entries:
        return None
    reversed_ids = set(
        session.exec(
            select(LedgerEntry.reverses_entry_id).where(LedgerEntry.reverses_entry_id.in_([e.id for e in entries]))  # type: ignore[union-attr]
        ).all()
    )
    standing = [e for e in entries if e.id not in reversed_ids]
    return standing[0] if standing else None


def member_challenges(
    session: Session, *, merchant_id: int, account_id: int, tz: str, now: datetime, segments=None
) -> list[ChallengeView]:
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
            ChallengeView(
                row.key,
                row.name,
                row.description,
                row.action,
                count,
                row.target,
                rules.progress_pct(count, row.target),
                done,
                row.recurrence,
                period,
                row.ends_at,
                row.reward_points,
                row.hidden,
            )
        )
    return sorted(views, key=lambda v: (v.completed, -v.pct, v.key))
