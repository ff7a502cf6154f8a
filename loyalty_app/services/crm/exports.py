"""CSV exports for the merchant: members, ledger, redemptions, donations.

- Members: only what they agreed to share. Everyone's member number, first name, tier, points
  and join date (needed to run the program); last name and email only when the member gave
  email marketing consent; never passwords, birthdays, pictures or sessions.
- Voucher codes are masked (a leaked CSV must not be spendable).
- Cells that a spreadsheet would run as a formula (=, +, -, @, tab, CR) are prefixed with '.
- Rows stream from the database in batches, so a 10M-entry ledger does not sit in memory.
Every export is authorized (ADMIN_EXPORT) and written to the admin audit log."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.models import (
    Account,
    Charity,
    Donation,
    LedgerEntry,
    MemberBalance,
    MemberTier,
    Merchant,
    Reward,
    Role,
    Store,
    Tier,
    Voucher,
)
from loyalty_app.services.member_app.activity import reason_text
from loyalty_app.services.platform import admin_audit, permissions
from loyalty_app.services.platform.permissions import Action, Actor

BATCH = 2000
COLUMNS = {
    "members": [
        "member_number",
        "first_name",
        "last_name",
        "email",
        "email_consent_at",
        "tier",
        "available_points",
        "pending_points",
        "lifetime_earned",
        "joined_at",
        "language",
        "spending_on_hold",
    ],
    "ledger": ["entry_id", "created_at", "member_number", "kind", "points", "reason", "store", "author", "idempotency_key"],
    "redemptions": [
        "voucher_id",
        "issued_at",
        "member_number",
        "reward",
        "cost_points",
        "status",
        "used_at",
        "used_store",
        "code_last4",
    ],
    "donations": ["donation_id", "at", "member_number", "charity", "points"],
}
KINDS = tuple(COLUMNS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvExport:
    filename: str
    rows: Iterator[str]  # CSV text chunks, header first


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text (CSV injection guard); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _line(values) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow([safe_cell(v) for v in values])
    return buf.getvalue()


def export_csv(engine: Engine, actor: Actor | None, kind: str, *, now: datetime | None = None) -> CsvExport:
    admin = permissions.authorize(engine, actor, Action.ADMIN_EXPORT, merchant_id=actor.merchant_id if actor else 0)
    if kind not in COLUMNS:
        raise NotFound(N_("This export does not exist."), code="export_not_found")
    now = now or utcnow()
    with write_session(engine) as s:
        slug = s.get(Merchant, admin.merchant_id).slug
        admin_audit.record(s, admin, "export.csv", target=kind, now=now)
    producer = {"members": _members, "ledger": _ledger, "redemptions": _redemptions, "donations": _donations}[kind]

    def rows() -> Iterator[str]:
        yield _line(COLUMNS[kind])
        with read_session(engine) as s:
            for values in producer(s, admin.merchant_id):
                yield _line(values)

    return CsvExport(f"{slug}-{kind}-{now:%Y%m%d-%H%M}.csv", rows())


def _member_numbers(s: Session, merchant_id: int) -> dict[int, str]:
    return dict(s.exec(select(Account.id, Account.member_number).where(Account.merchant_id == merchant_id)).all())


def _members(s: Session, merchant_id: int):
    tiers = dict(s.exec(select(Tier.id, Tier.name).where(Tier.merchant_id == merchant_id)).all())
    member_tier = dict(
        s.exec(select(MemberTier.account_id, MemberTier.tier_id).where(MemberTier.merchant_id == merchant_id)).all()
    )
    query = (
        select(Account, MemberBalance)
        .join(
            MemberBalance,
            (MemberBalance.account_id == Account.id) & (MemberBalance.merchant_id == Account.merchant_id),
            isouter=True,
        )
        .where(Account.merchant_id == merchant_id, Account.role == Role.MEMBER, Account.deleted_at.is_(None))  # type: ignore[union-attr]
        .order_by(Account.id)
        .execution_options(yield_per=BATCH)
    )
    for account, balance in s.exec(query):
        consent = (account.consents or {}).get("email")
        granted = consent.get("granted") if isinstance(consent, dict) else bool(consent)
        consent_at = (consent.get("at") if isinstance(consent, dict) else consent) if granted else ""
        yield [
            account.member_number,
            account.first_name,
            account.last_name if granted else "",
            account.email if granted else "",
            consent_at,
            tiers.get(member_tier.get(account.id), ""),
            balance.available if balance else 0,
            balance.pending if balance else 0,
            balance.lifetime_earned if balance else 0,
            account.created_at,
            account.language,
            account.spending_suspended_at is not None,
        ]


def _ledger(s: Session, merchant_id: int):
    numbers = _member_numbers(s, merchant_id)
    stores = dict(s.exec(select(Store.id, Store.name).where(Store.merchant_id == merchant_id)).all())
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.merchant_id == merchant_id)
        .order_by(LedgerEntry.id)
        .execution_options(yield_per=BATCH)
    )
    for e in s.exec(query):
        store_id = (e.source or {}).get("store_id")
        yield [
            e.id,
            e.created_at,
            numbers.get(e.account_id, ""),
            e.kind,
            e.points,
            reason_text("en", e.reason, e.reason_params),
            stores.get(store_id, "") if isinstance(store_id, int) else "",
            numbers.get(e.author_id, e.author_id or ""),
            e.idempotency_key,
        ]


def _redemptions(s: Session, merchant_id: int):
    numbers = _member_numbers(s, merchant_id)
    rewards = {r.id: r for r in s.exec(select(Reward).where(Reward.merchant_id == merchant_id)).all()}
    stores = dict(s.exec(select(Store.id, Store.name).where(Store.merchant_id == merchant_id)).all())
    query = select(Voucher).where(Voucher.merchant_id == merchant_id).order_by(Voucher.id).execution_options(yield_per=BATCH)
    for v in s.exec(query):
        reward = rewards.get(v.reward_id)
        yield [
            v.id,
            v.issued_at,
            numbers.get(v.account_id, ""),
            reward.name if reward else "",
            reward.cost_points if reward else "",
            v.status,
            v.used_at,
            stores.get(v.used_store_id, ""),
            v.code[-4:],
        ]


def _donations(s: Session, merchant_id: int):
    numbers = _member_numbers(s, merchant_id)
    charities = dict(s.exec(select(Charity.id, Charity.name).where(Charity.merchant_id == merchant_id)).all())
    query = select(Donation).where(Donation.merchant_id == merchant_id).order_by(Donation.id).execution_options(yield_per=BATCH)
    for d in s.exec(query):
        yield [d.id, d.at, numbers.get(d.account_id, ""), charities.get(d.charity_id, ""), d.points]
