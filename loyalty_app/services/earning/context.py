"""What one earning transaction needs first: the program's context (merchant, settings, rules,
tiers, loaded once) and the member, store and staff checks, each under the member's lock. Shared
by earning, the catalog (redemptions, donations) and the engagement flows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from loyalty_app.domain.errors import N_, NotAllowed, NotFound
from loyalty_app.domain.tiers import TierSpec
from loyalty_app.models import (
    Account,
    Merchant,
    ProgramRules,
    ProgramSettings,
    Role,
    StaffStore,
    Store,
)
from loyalty_app.services import ledger
from loyalty_app.services.earning.tiers import load_tiers


@dataclass
class ProgramContext:
    """What every rule decision in one transaction needs about the program (loaded once)."""

    merchant: Merchant
    settings: ProgramSettings
    rules: ProgramRules
    tiers: list[TierSpec]

    @property
    def tz(self) -> str:
        return self.merchant.timezone or "UTC"

    @property
    def tier_ranks(self) -> dict:
        return {t.key: t.rank for t in self.tiers}


def program_rules(session: Session, merchant_id: int) -> ProgramRules:
    """The engine settings of a program (defaults when never saved; not written by reading)."""
    return session.get(ProgramRules, merchant_id) or ProgramRules(merchant_id=merchant_id)


def load_context(session: Session, merchant_id: int) -> ProgramContext:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(N_("Program not found."), code="merchant_not_found")
    return ProgramContext(
        merchant=merchant,
        settings=ledger.get_program_settings(session, merchant_id),
        rules=program_rules(session, merchant_id),
        tiers=load_tiers(session, merchant_id),
    )


def lock_member(session: Session, merchant_id: int, account_id: int) -> Account:
    """Lock the member's account row for this transaction; another merchant's id is NotFound."""
    account = session.exec(select(Account).where(Account.id == account_id).with_for_update()).first()
    if account is None or account.merchant_id != merchant_id or account.role != Role.MEMBER:
        raise NotFound(N_("Member not found."), code="member_not_found")
    if not account.is_active or account.deleted_at is not None:
        raise NotAllowed(N_("This membership is not active."), code="member_inactive")
    return account


def require_spending_allowed(account: Account) -> None:
    """The merchant's fraud view can put a member's spending on hold (earning goes on)."""
    if account.spending_suspended_at is not None:
        raise NotAllowed(
            N_("Spending points is on hold for this membership. Please contact the shop."), code="spending_suspended"
        )


def require_store(session: Session, merchant_id: int, store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    store = session.get(Store, store_id)
    if store is None or store.merchant_id != merchant_id or not store.is_active:
        raise NotFound(N_("Store not found."), code="store_not_found")
    return store


def require_staff(session: Session, merchant_id: int, staff_account_id: int, store_id: int | None) -> Account:
    """Staff of this merchant; a staff role (not admin) must also be assigned to the store."""
    staff = session.get(Account, staff_account_id)
    if staff is None or staff.merchant_id != merchant_id or staff.role not in (Role.STAFF, Role.ADMIN) or not staff.is_active:
        raise NotAllowed(N_("You are not allowed to do this."), code="not_staff")
    if staff.role == Role.STAFF and store_id is not None:
        assigned = session.get(StaffStore, (staff.id, store_id))
        if assigned is None:
            raise NotAllowed(N_("You are not assigned to this store."), code="not_store_staff")
    return staff
