"""What the ledger's modules share: ownership checks, the member's write lock, and the one
place an entry is written (counters, the entry row, lot movements, new lots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotAllowed, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind, compute_expiry, to_json_safe
from loyalty_app.models.accounts import Account, Role
from loyalty_app.models.loyalty import LedgerEntry, LotMovement, MemberBalance, PointLot, ProgramSettings

# --------------------------------------------------------------------------- checks and locks


def _member_not_found() -> NotFound:
    return NotFound(N_("Member not found."), code="member_not_found")


def _entry_not_found() -> NotFound:
    return NotFound(N_("Ledger entry not found."), code="entry_not_found")


def _require_member(session: Session, merchant_id: int, account_id: int) -> None:
    """The account must exist in this merchant's program; another program's id is 'not found'."""
    owner = session.exec(select(Account.merchant_id).where(Account.id == account_id)).first()
    if owner is None or owner != merchant_id:
        raise _member_not_found()


def _require_author(session: Session, merchant_id: int, author_id: int, *, staff_only: bool) -> None:
    row = session.exec(select(Account.merchant_id, Account.role).where(Account.id == author_id)).first()
    if row is None or row[0] != merchant_id:
        raise NotFound(N_("Author not found."), code="author_not_found")
    if staff_only and Role(row[1]) == Role.MEMBER:
        raise NotAllowed(N_("Only staff can adjust points."), code="not_staff")


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def _lock_balance(session: Session, merchant_id: int, account_id: int) -> MemberBalance:
    """Lock (creating if needed) the member's balance row: the member's write lock."""
    stmt = (
        select(MemberBalance)
        .where(MemberBalance.account_id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    balance = session.exec(stmt).first()
    if balance is None:
        values = dict(
            account_id=account_id,
            merchant_id=merchant_id,
            available=0,
            pending=0,
            lifetime_earned=0,
            spent=0,
            expired=0,
            donated=0,
            entry_count=0,
            updated_at=utcnow(),
        )
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(MemberBalance.__table__).values(**values).on_conflict_do_nothing(index_elements=["account_id"]))
        balance = session.exec(stmt).one()
    if balance.merchant_id != merchant_id:
        raise _member_not_found()
    return balance


def _snapshot(balance: MemberBalance) -> BalanceSnapshot:
    return BalanceSnapshot(
        available=balance.available,
        pending=balance.pending,
        lifetime_earned=balance.lifetime_earned,
        spent=balance.spent,
        expired=balance.expired,
        donated=balance.donated,
    )


# --------------------------------------------------------------------------- writing entries


@dataclass(frozen=True)
class _Deltas:
    available: int = 0
    pending: int = 0
    earned: int = 0
    spent: int = 0
    expired: int = 0
    donated: int = 0


@dataclass
class _EntryDraft:
    kind: EntryKind
    points: int
    deltas: _Deltas
    reason: str
    idempotency_key: str
    request_hash: str
    reason_params: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    rule_id: int | None = None
    author_id: int | None = None
    reverses_entry_id: int | None = None
    lot_id: int | None = None


def _write_entry(session: Session, balance: MemberBalance, draft: _EntryDraft, now: datetime) -> LedgerEntry:
    """Apply ``draft`` to the counters and append its entry (flushed, so it has an id)."""
    d = draft.deltas
    balance.available += d.available
    balance.pending += d.pending
    balance.lifetime_earned += d.earned
    balance.spent += d.spent
    balance.expired += d.expired
    balance.donated += d.donated
    balance.entry_count += 1
    balance.updated_at = now
    if balance.available < 0 or balance.pending < 0:
        # Allocation checks make this impossible; refuse to write rather than corrupt.
        raise RuntimeError(f"ledger invariant broken for account {balance.account_id}")
    entry = LedgerEntry(
        merchant_id=balance.merchant_id,
        account_id=balance.account_id,
        kind=draft.kind.value,
        points=draft.points,
        available_delta=d.available,
        pending_delta=d.pending,
        earned_delta=d.earned,
        spent_delta=d.spent,
        expired_delta=d.expired,
        donated_delta=d.donated,
        reason=draft.reason,
        reason_params=to_json_safe(draft.reason_params),
        rule_id=draft.rule_id,
        source=to_json_safe(draft.source),
        idempotency_key=draft.idempotency_key,
        request_hash=draft.request_hash,
        author_id=draft.author_id,
        reverses_entry_id=draft.reverses_entry_id,
        lot_id=draft.lot_id,
        balance_after=_snapshot(balance).as_dict(),
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def _move(session: Session, entry: LedgerEntry, lot: PointLot, points: int) -> None:
    lot.remaining += points
    session.add(LotMovement(merchant_id=entry.merchant_id, entry_id=entry.id, lot_id=lot.id, points=points))


def _new_lot(
    session: Session,
    entry: LedgerEntry,
    settings: ProgramSettings,
    points: int,
    *,
    available_at: datetime,
    now: datetime,
) -> PointLot:
    is_pending = available_at > now
    lot = PointLot(
        merchant_id=entry.merchant_id,
        account_id=entry.account_id,
        source_entry_id=entry.id,
        original_points=points,
        remaining=points,
        is_pending=is_pending,
        available_at=available_at,
        expires_at=compute_expiry(available_at, settings.expiry_policy, settings.expiry_days, settings.timezone),
        created_at=now,
    )
    session.add(lot)
    return lot
