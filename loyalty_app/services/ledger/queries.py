"""Reads: the program's settings (created on first use), a member's balance, expiring points,
history and points earned in a window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind, ExpiryPolicy, Rounding
from loyalty_app.models.accounts import Merchant
from loyalty_app.models.loyalty import LedgerEntry, MemberBalance, PointLot, ProgramSettings
from loyalty_app.services.ledger.entries import _aware, _member_not_found, _require_member, _snapshot

# --------------------------------------------------------------------------- program settings


def get_program_settings(session: Session, merchant_id: int) -> ProgramSettings:
    """The merchant's ProgramSettings row, created with defaults on first use.

    Two transactions creating it at once are safe: the loser's insert fails inside a SAVEPOINT
    and it re-reads the winner's row.
    """
    stmt = select(ProgramSettings).where(ProgramSettings.merchant_id == merchant_id)
    row = session.exec(stmt).first()
    if row is not None:
        return row
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(N_("Program not found."), code="merchant_not_found")
    try:
        with session.begin_nested():
            row = ProgramSettings(merchant_id=merchant_id, updated_at=utcnow())
            session.add(row)
    except IntegrityError:
        row = session.exec(stmt).one()
    return row


def validate_program_settings(row: ProgramSettings) -> None:
    """Refuse settings the ledger cannot apply (called by whoever edits them)."""
    ExpiryPolicy(row.expiry_policy)
    Rounding(row.purchase_rounding)
    if row.tier_window not in ("rolling_12m", "calendar_year"):
        raise LoyaltyError(N_("Unknown tier window."), code="invalid_settings")
    if row.expiry_policy == ExpiryPolicy.AFTER_DAYS.value and row.expiry_days < 1:
        raise LoyaltyError(N_("Points must live at least one day."), code="invalid_settings")
    if row.expiry_days < 0 or row.pending_days < 0 or row.pending_days > 366:
        raise LoyaltyError(N_("Invalid number of days."), code="invalid_settings")


# --------------------------------------------------------------------------- reads


def get_balance(session: Session, *, merchant_id: int, account_id: int) -> BalanceSnapshot:
    """The member's counters as last written (jobs settle due expiries/releases)."""
    balance = session.exec(select(MemberBalance).where(MemberBalance.account_id == account_id)).first()
    if balance is None:
        _require_member(session, merchant_id, account_id)
        return BalanceSnapshot()
    if balance.merchant_id != merchant_id:
        raise _member_not_found()
    return _snapshot(balance)


def expiring_points(
    session: Session, *, merchant_id: int, account_id: int, now: datetime, within_days: int = 30
) -> list[tuple[datetime, int]]:
    """``[(expires_at, points)]`` of the member's points expiring within ``within_days``, soonest
    first, in one grouped query over the open lots."""
    _require_member(session, merchant_id, account_id)
    now = _aware(now)
    stmt = (
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .where(
            PointLot.merchant_id == merchant_id,
            PointLot.account_id == account_id,
            PointLot.remaining > 0,
            PointLot.expires_at > now,
            PointLot.expires_at <= now + timedelta(days=within_days),
        )
        .group_by(PointLot.expires_at)
        .order_by(PointLot.expires_at)
    )
    return [(expires_at, int(points)) for expires_at, points in session.exec(stmt)]


def history(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    kinds: Iterable[EntryKind | str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[LedgerEntry]:
    """The member's entries, newest first (each carries its reason, params and source).

    The returned entries are detached from ``session`` (usable after it closes).
    """
    _require_member(session, merchant_id, account_id)
    stmt = select(LedgerEntry).where(LedgerEntry.merchant_id == merchant_id, LedgerEntry.account_id == account_id)
    if kinds is not None:
        stmt = stmt.where(LedgerEntry.kind.in_([EntryKind(kind).value for kind in kinds]))
    stmt = stmt.order_by(LedgerEntry.id.desc()).limit(max(0, min(limit, 500))).offset(max(0, offset))
    entries = list(session.exec(stmt))
    for entry in entries:
        # Entries never change: detach them so callers can read them after the session ends.
        session.expunge(entry)
    return entries


def _earned_in_window(start: datetime, end: datetime, *by: ColumnElement):
    """Points earned in [start, end) per member: earn entries minus their reversals (whenever
    reversed). The member is the caller's predicate; there is deliberately no merchant predicate
    here (callers have already checked each member belongs to the merchant): with one, planners
    pick the merchant-wide analytics index and read the merchant's whole window, while
    ``ix_ledgerentry_member_kind_time`` (account, kind, time) reads only the member's entries."""
    reversal = aliased(LedgerEntry)
    # The reversal of each entry, looked up by its unique ``reverses_entry_id`` (a correlated
    # subquery: a join lets PostgreSQL hash the whole ledger once its statistics are known).
    reversed_points = (
        sa_select(reversal.earned_delta)
        .where(reversal.reverses_entry_id == LedgerEntry.id)
        .correlate(LedgerEntry)
        .scalar_subquery()
    )
    return (
        sa_select(func.coalesce(func.sum(LedgerEntry.earned_delta + func.coalesce(reversed_points, 0)), 0), *by)
        .select_from(LedgerEntry)
        .where(
            LedgerEntry.kind == EntryKind.EARN.value,
            LedgerEntry.created_at >= _aware(start),
            LedgerEntry.created_at < _aware(end),
        )
    )


def lifetime_earned_between(session: Session, *, merchant_id: int, account_id: int, start: datetime, end: datetime) -> int:
    """Points EARNED in [start, end): earn entries in the window minus their reversals (whenever
    reversed), so a returned purchase never counts towards a tier. Adjustments do not count."""
    _require_member(session, merchant_id, account_id)
    return int(session.exec(_earned_in_window(start, end).where(LedgerEntry.account_id == account_id)).scalar_one())


def earned_between_by_member(session: Session, *, account_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, int]:
    """``lifetime_earned_between`` for many members in one grouped query: {account id: points}
    (members who earned nothing in the window are absent). The caller passes members of one
    merchant it has already selected (the periodic tier evaluation)."""
    if not account_ids:
        return {}
    stmt = (
        _earned_in_window(start, end, LedgerEntry.account_id)  # type: ignore[arg-type]
        .where(LedgerEntry.account_id.in_(list(account_ids)))  # type: ignore[attr-defined]
        .group_by(LedgerEntry.account_id)
    )
    return {int(account_id): int(points) for points, account_id in session.exec(stmt)}
