"""The audit: proves every member's counters and lots against their entries (read-only), and
its CLI (``python -m loyalty_app.cli audit``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models.accounts import Account
from loyalty_app.models.loyalty import LedgerEntry, LotMovement, MemberBalance, PointLot

# --------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class Drift:
    """One place where the stored state disagrees with the entries."""

    merchant_id: int | None
    account_id: int | None
    what: str
    expected: int | str
    actual: int | str

    def describe(self) -> str:
        return (
            f"merchant {self.merchant_id} account {self.account_id}: {self.what}: expected {self.expected}, found {self.actual}"
        )


@dataclass(frozen=True)
class AuditReport:
    members_checked: int
    entries_checked: int
    lots_checked: int
    drifts: list[Drift]

    @property
    def ok(self) -> bool:
        return not self.drifts


_COUNTERS = (
    ("available", "available_delta"),
    ("pending", "pending_delta"),
    ("lifetime_earned", "earned_delta"),
    ("spent", "spent_delta"),
    ("expired", "expired_delta"),
    ("donated", "donated_delta"),
)


def audit(engine: Engine) -> AuditReport:
    """Prove, for every member, that each balance counter equals the sum of their entries, that
    available/pending equal their lots' remainders, that every lot's remaining equals its
    original points plus its movements and stays within [0, original], and that no entry crosses
    merchants. Read-only; a few grouped queries, not one per member."""
    from loyalty_app.db import read_session

    drifts: list[Drift] = []
    with read_session(engine) as session:
        balances = {row.account_id: row for row in session.exec(select(MemberBalance))}
        entry_sums = session.exec(
            select(
                LedgerEntry.account_id,
                LedgerEntry.merchant_id,
                func.count(LedgerEntry.id),
                *[func.sum(getattr(LedgerEntry, column)) for _, column in _COUNTERS],
            ).group_by(LedgerEntry.account_id, LedgerEntry.merchant_id)
        ).all()
        seen_accounts: dict[int, int] = {}
        entries_checked = 0
        for account_id, merchant_id, count, *sums in entry_sums:
            entries_checked += count
            if account_id in seen_accounts:
                drifts.append(
                    Drift(merchant_id, account_id, "entries under two merchants", seen_accounts[account_id], merchant_id)
                )
                continue
            seen_accounts[account_id] = merchant_id
            balance = balances.get(account_id)
            if balance is None:
                drifts.append(Drift(merchant_id, account_id, "balance row", "present", "missing"))
                continue
            if balance.merchant_id != merchant_id:
                drifts.append(Drift(merchant_id, account_id, "balance merchant", merchant_id, balance.merchant_id))
            for (counter, _), total in zip(_COUNTERS, sums, strict=True):
                if getattr(balance, counter) != int(total or 0):
                    drifts.append(Drift(merchant_id, account_id, counter, int(total or 0), getattr(balance, counter)))
            if balance.entry_count != count:
                drifts.append(Drift(merchant_id, account_id, "entry_count", count, balance.entry_count))
        for account_id, balance in balances.items():
            if account_id not in seen_accounts and any(getattr(balance, c) for c, _ in _COUNTERS):
                drifts.append(Drift(balance.merchant_id, account_id, "counters without entries", 0, balance.available))

        lot_sums = session.exec(
            select(
                PointLot.account_id,
                func.sum(case((PointLot.is_pending == False, PointLot.remaining), else_=0)),  # noqa: E712
                func.sum(case((PointLot.is_pending == True, PointLot.remaining), else_=0)),  # noqa: E712
            ).group_by(PointLot.account_id)
        ).all()
        lot_accounts = set()
        for account_id, available, pending in lot_sums:
            lot_accounts.add(account_id)
            balance = balances.get(account_id)
            merchant = balance.merchant_id if balance else None
            if int(available or 0) != (balance.available if balance else 0):
                drifts.append(
                    Drift(merchant, account_id, "available vs lots", int(available or 0), balance.available if balance else 0)
                )
            if int(pending or 0) != (balance.pending if balance else 0):
                drifts.append(
                    Drift(merchant, account_id, "pending vs lots", int(pending or 0), balance.pending if balance else 0)
                )
        for account_id, balance in balances.items():
            if account_id not in lot_accounts and (balance.available or balance.pending):
                drifts.append(
                    Drift(balance.merchant_id, account_id, "points without lots", 0, balance.available + balance.pending)
                )

        moved = (
            select(LotMovement.lot_id.label("lot_id"), func.sum(LotMovement.points).label("moved"))
            .group_by(LotMovement.lot_id)
            .subquery()
        )
        bad_lots = session.exec(
            select(
                PointLot.merchant_id,
                PointLot.account_id,
                PointLot.id,
                PointLot.original_points,
                PointLot.remaining,
                moved.c.moved,
            )
            .outerjoin(moved, moved.c.lot_id == PointLot.id)
            .where(
                or_(
                    PointLot.remaining < 0,
                    PointLot.remaining > PointLot.original_points,
                    PointLot.remaining != PointLot.original_points + func.coalesce(moved.c.moved, 0),
                )
            )
        ).all()
        for merchant_id, account_id, lot_id, original, remaining, moved_points in bad_lots:
            drifts.append(
                Drift(
                    merchant_id,
                    account_id,
                    f"lot {lot_id} remaining (original {original})",
                    original + int(moved_points or 0),
                    remaining,
                )
            )
        lots_checked = session.exec(select(func.count(PointLot.id))).one()

        inconsistent_entries = session.exec(
            select(LedgerEntry.merchant_id, LedgerEntry.account_id, LedgerEntry.id, LedgerEntry.kind, LedgerEntry.points).where(
                or_(
                    and_(
                        LedgerEntry.kind == EntryKind.RELEASE.value,
                        or_(LedgerEntry.available_delta != LedgerEntry.points, LedgerEntry.pending_delta != -LedgerEntry.points),
                    ),
                    and_(
                        LedgerEntry.kind != EntryKind.RELEASE.value,
                        LedgerEntry.points != LedgerEntry.available_delta + LedgerEntry.pending_delta,
                    ),
                )
            )
        ).all()
        for merchant_id, account_id, entry_id, kind, points in inconsistent_entries:
            drifts.append(Drift(merchant_id, account_id, f"entry {entry_id} ({kind}) deltas", points, "other"))

        crossing = session.exec(
            select(LedgerEntry.merchant_id, LedgerEntry.account_id, func.count(LedgerEntry.id))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.merchant_id != LedgerEntry.merchant_id)
            .group_by(LedgerEntry.merchant_id, LedgerEntry.account_id)
        ).all()
        for merchant_id, account_id, count in crossing:
            drifts.append(Drift(merchant_id, account_id, "entries for another merchant's account", 0, count))

    return AuditReport(
        members_checked=len(set(balances) | set(seen_accounts)),
        entries_checked=entries_checked,
        lots_checked=int(lots_checked),
        drifts=drifts,
    )


def main_audit(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m loyalty_app.cli audit`` — prints each drift; exit 1 on any drift."""
    parser = argparse.ArgumentParser(prog="audit", description="Prove member balances against the ledger.")
    parser.add_argument("--database-url", help="database to audit (default: the app's DATABASE_URL)")
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    from loyalty_app.db import get_engine, make_engine

    engine = make_engine(args.database_url) if args.database_url else get_engine()
    report = audit(engine)
    for drift in report.drifts:
        print(f"DRIFT {drift.describe()}")
    status = "OK" if report.ok else f"FAILED ({len(report.drifts)} drifts)"
    print(
        f"ledger audit: {report.members_checked} members, {report.entries_checked} entries, {report.lots_checked} lots: {status}"
    )
    return 0 if report.ok else 1
