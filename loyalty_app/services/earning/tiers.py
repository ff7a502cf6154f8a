"""Tier state: upgrades on earn, periodic evaluation with grace, progress for the cockpit.

Qualification reads points EARNED from the ledger (``lifetime_earned_between``) in the
program's window (see ``loyalty_app.domain.tiers``), never the balance.

Retired tiers (``Tier.is_active`` false) are left out of ``load_tiers``: nobody qualifies for
them. Retiring one moves its members at once to the highest active tier below it
(``move_members_off_tier``, a ``tier_retired`` change in their history, which keeps the old
tier); a holding that still points at a retired tier (an earn that raced the retirement) reads
as that fallback tier and is rewritten by the next earn or evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, literal, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import tiers as tier_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.tiers import TierSpec, fallback_tier
from loyalty_app.models import Account, MemberTier, MemberTierChange, Merchant, Role, Tier
from loyalty_app.services import ledger
from loyalty_app.services.platform.tx import run_in_transaction

TIER_RETIRED = "tier_retired"  # MemberTierChange.reason when a retired tier's members move down


def load_tiers(session: Session, merchant_id: int) -> list[TierSpec]:
    """The program's active tiers, by rank (retired tiers are out of the ladder)."""
    rows = session.exec(select(Tier).where(Tier.merchant_id == merchant_id, Tier.is_active).order_by(Tier.rank)).all()
    return [
        TierSpec(
            key=t.key,
            name=t.name,
            colour=t.colour,
            rank=t.rank,
            threshold=t.threshold,
            multipliers=dict(t.multipliers or {}),
            id=t.id,
        )
        for t in rows
    ]


def tier_by_id(tiers: list[TierSpec], tier_id: int | None) -> TierSpec | None:
    return next((t for t in tiers if t.id == tier_id), None) if tier_id is not None else None


@dataclass(frozen=True)
class TierChange:
    from_key: str | None
    from_name: str | None
    to_key: str | None
    to_name: str | None
    to_colour: str | None
    upgraded: bool
    qualifying_points: int


def qualifying_points(session: Session, *, merchant_id: int, account_id: int, window: str, now: datetime, tz: str) -> int:
    """Best of the program's qualification windows (one ledger query per window)."""
    return max(
        ledger.lifetime_earned_between(
            session, merchant_id=merchant_id, account_id=account_id, start=start, end=_through(end, now)
        )
        for start, end in tier_rules.qualification_windows(window, now, tz)
    )


def _through(end: datetime, now: datetime) -> datetime:
    """Windows end at ``now`` exclusive; an entry written at ``now`` (this very earn) counts."""
    return end + timedelta(microseconds=1) if end == now else end


def keep_points(session: Session, *, merchant_id: int, account_id: int, window: str, now: datetime, tz: str) -> int:
    start, end = tier_rules.keep_window(window, now, tz)
    return ledger.lifetime_earned_between(
        session, merchant_id=merchant_id, account_id=account_id, start=start, end=_through(end, now)
    )


def _held(session: Session, tiers: list[TierSpec], row: MemberTier | None) -> tuple[TierSpec | None, bool]:
    """(the tier a member holds, whether the row still points at a retired tier)."""
    if row is None:
        return entry_tier(tiers), False
    if row.tier_id is None:
        return None, False
    held = tier_by_id(tiers, row.tier_id)
    if held is not None:
        return held, False
    retired = session.get(Tier, row.tier_id)
    return (fallback_tier(tiers, retired.rank) if retired is not None else None), True


def _column_type(name: str):
    return MemberTierChange.__table__.c[name].type  # type: ignore[attr-defined]


def move_members_off_tier(session: Session, *, merchant_id: int, tier_id: int, now: datetime) -> int:
    """Move every member holding ``tier_id`` (being retired) to the highest ACTIVE tier below it,
    in two statements (history rows, then the holdings); returns how many moved. Call it after
    the tier is marked retired, in the same transaction."""
    retired = session.get(Tier, tier_id)
    if retired is None or retired.merchant_id != merchant_id:
        return 0
    target = fallback_tier(load_tiers(session, merchant_id), retired.rank)
    holders = select(MemberTier.account_id).where(MemberTier.merchant_id == merchant_id, MemberTier.tier_id == tier_id)
    moved = len(session.exec(holders).all())
    if not moved:
        return 0
    session.execute(
        insert(MemberTierChange).from_select(
            ["merchant_id", "account_id", "from_tier_id", "to_tier_id", "reason", "qualifying_points", "at"],
            select(
                MemberTier.merchant_id,
                MemberTier.account_id,
                MemberTier.tier_id,
                literal(target.id if target else None, type_=_column_type("to_tier_id")),
                literal(TIER_RETIRED, type_=_column_type("reason")),
                MemberTier.qualifying_points,
                literal(now, type_=_column_type("at")),
            ).where(MemberTier.merchant_id == merchant_id, MemberTier.tier_id == tier_id),
        )
    )
    session.execute(
        update(MemberTier)
        .where(MemberTier.merchant_id == merchant_id, MemberTier.tier_id == tier_id)
        .values(tier_id=target.id if target else None, since=now, grace_until=None)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return moved


def _rewrite_retired(session: Session, row: MemberTier, new: TierSpec | None, points: int, now: datetime) -> MemberTier:
    session.add(
        MemberTierChange(
            merchant_id=row.merchant_id,
            account_id=row.account_id,
            from_tier_id=row.tier_id,
            to_tier_id=new.id if new else None,
            reason=TIER_RETIRED,
            qualifying_points=points,
            at=now,
        )
    )
    row.tier_id, row.since, row.grace_until = (new.id if new else None), now, None
    session.add(row)
    session.flush()
    return row


def member_tier_row(session: Session, merchant_id: int, account_id: int) -> MemberTier | None:
    return session.exec(
        select(MemberTier).where(MemberTier.merchant_id == merchant_id, MemberTier.account_id == account_id)
    ).first()


def _set_tier(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    row: MemberTier | None,
    old: TierSpec | None,
    new: TierSpec | None,
    points: int,
    reason: str,
    now: datetime,
    flush: bool = True,
) -> tuple[MemberTier, TierChange]:
    """Write the member's new tier and its history row (``flush=False``: the caller flushes a
    whole batch at once)."""
    if row is None:
        row = MemberTier(merchant_id=merchant_id, account_id=account_id)
    row.tier_id = new.id if new else None
    row.since = now
    row.grace_until = None
    row.qualifying_points = points
    session.add(row)
    session.add(
        MemberTierChange(
            merchant_id=merchant_id,
            account_id=account_id,
            from_tier_id=old.id if old else None,
            to_tier_id=new.id if new else None,
            reason=reason,
            qualifying_points=points,
            at=now,
        )
    )
    if flush:
        session.flush()
    change = TierChange(
        from_key=old.key if old else None,
        from_name=old.name if old else None,
        to_key=new.key if new else None,
        to_name=new.name if new else None,
        to_colour=new.colour if new else None,
        upgraded=tier_rules.rank_of(new) > tier_rules.rank_of(old),
        qualifying_points=points,
    )
    return row, change


def upgrade_after_earn(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    tiers: list[TierSpec],
    window: str,
    tz: str,
    now: datetime,
) -> TierChange | None:
    """Upgrade at once when the earned points reach a higher tier; never downgrade here."""
    if not tiers:
        return None
    row = member_tier_row(session, merchant_id, account_id)
    current, stale = _held(session, tiers, row)
    points = qualifying_points(session, merchant_id=merchant_id, account_id=account_id, window=window, now=now, tz=tz)
    if stale:
        row = _rewrite_retired(session, row, current, points, now)
    new = tier_rules.upgrade_on_earn(current, tier_rules.qualifying_tier(tiers, points))
    if new is None:
        if row is not None and row.qualifying_points != points:
            row.qualifying_points = points
            session.add(row)
        return None
    _row, change = _set_tier(
        session,
        merchant_id=merchant_id,
        account_id=account_id,
        row=row,
        old=current,
        new=new,
        points=points,
        reason="earn",
        now=now,
    )
    return change


def current_tier(session: Session, merchant_id: int, account_id: int, tiers: list[TierSpec]) -> TierSpec | None:
    """The member's tier; a member never evaluated holds the entry tier if its threshold is 0."""
    return _held(session, tiers, member_tier_row(session, merchant_id, account_id))[0]


def entry_tier(tiers: list[TierSpec]) -> TierSpec | None:
    """The tier every member holds before any change: the lowest one, if it needs 0 points."""
    entry = tier_rules.sorted_tiers(tiers)[0] if tiers else None
    return entry if entry is not None and entry.threshold == 0 else None


@dataclass(frozen=True)
class EvaluationReport:
    evaluated: int
    upgraded: int
    downgraded: int
    grace_started: int
    changes: tuple[tuple[int, TierChange], ...]


def _qualifying_points_of(session: Session, account_ids: list[int], *, window: str, now: datetime, tz: str) -> dict[int, int]:
    """``qualifying_points`` for a batch of members: one grouped ledger query per window."""
    best = dict.fromkeys(account_ids, 0)
    for start, end in tier_rules.qualification_windows(window, now, tz):
        earned = ledger.earned_between_by_member(session, account_ids=account_ids, start=start, end=_through(end, now))
        for account_id, points in earned.items():
            best[account_id] = max(best[account_id], points)
    return best


def evaluate_tiers(engine: Engine, merchant_id: int, now: datetime | None = None, *, batch_size: int = 1000) -> EvaluationReport:
    """Periodic evaluation of every member of one program: upgrades, grace, downgrades.

    Each batch of members is its own transaction (short locks) and is read set-based: the
    members' tier rows in one query (locked), their qualifying points in one grouped query per
    window; the decisions are the domain's, member by member, as on earn. A member whose state
    does not change is not written, so running it twice at the same ``now`` writes nothing the
    second time.
    """
    now = now or utcnow()
    counts = {"evaluated": 0, "upgraded": 0, "downgraded": 0, "grace_started": 0}
    changes: list[tuple[int, TierChange]] = []
    last_id = 0
    while True:

        def run_batch(session: Session, last_id: int = last_id) -> tuple[int, dict, list]:
            merchant = session.get(Merchant, merchant_id)
            settings = ledger.get_program_settings(session, merchant_id)
            tiers = load_tiers(session, merchant_id)
            ids = list(
                session.exec(
                    select(Account.id)
                    .where(Account.merchant_id == merchant_id, Account.role == Role.MEMBER, Account.id > last_id)
                    .order_by(Account.id)
                    .limit(batch_size)
                ).all()
            )
            local = {"evaluated": len(ids), "upgraded": 0, "downgraded": 0, "grace_started": 0}
            local_changes: list = []
            if not tiers or not ids:
                return (ids[-1] if ids else last_id), local, local_changes
            rows = {
                row.account_id: row
                for row in session.exec(
                    select(MemberTier)
                    .where(MemberTier.merchant_id == merchant_id, MemberTier.account_id.in_(ids))  # type: ignore[attr-defined]
                    .order_by(MemberTier.account_id)
                    .with_for_update()
                )
            }
            qualifying = _qualifying_points_of(session, ids, window=settings.tier_window, now=now, tz=merchant.timezone)
            for account_id in ids:
                row = rows.get(account_id)
                current, stale = _held(session, tiers, row)
                points = qualifying[account_id]
                if stale:  # still pointing at a retired tier: write the move it already reads as
                    row = _rewrite_retired(session, row, current, points, now)
                qualified = tier_rules.qualifying_tier(tiers, points)
                decision = tier_rules.evaluate(
                    current, qualified, grace_until=row.grace_until if row else None, now=now, grace_days=settings.tier_grace_days
                )
                outcome = decision.outcome
                if outcome in (tier_rules.EvaluationOutcome.UPGRADE, tier_rules.EvaluationOutcome.DOWNGRADE):
                    _row, change = _set_tier(
                        session,
                        merchant_id=merchant_id,
                        account_id=account_id,
                        row=row,
                        old=current,
                        new=decision.tier,
                        points=points,
                        reason="evaluation" if outcome is tier_rules.EvaluationOutcome.UPGRADE else "grace_expired",
                        now=now,
                        flush=False,
                    )
                    local["upgraded" if change.upgraded else "downgraded"] += 1
                    local_changes.append((account_id, change))
                elif row is not None and (row.grace_until != decision.grace_until or row.qualifying_points != points):
                    if outcome is tier_rules.EvaluationOutcome.GRACE_STARTED:
                        local["grace_started"] += 1
                    row.grace_until = decision.grace_until
                    row.qualifying_points = points
                    row.evaluated_at = now
                    session.add(row)
            return (ids[-1] if ids else last_id), local, local_changes

        new_last, local, local_changes = run_in_transaction(engine, run_batch)
        for key, value in local.items():
            counts[key] += value
        changes.extend(local_changes)
        if new_last == last_id or local["evaluated"] < batch_size:
            break
        last_id = new_last
    return EvaluationReport(changes=tuple(changes), **counts)
