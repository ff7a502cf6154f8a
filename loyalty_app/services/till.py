"""At the till, by hand: staff find a member by number and credit a purchase.

The camera scanner and signed QR codes build on the same two functions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.domain.money import parse_amount_cents
from loyalty_app.models import Account, Role, Store
from loyalty_app.services import earning, ledger, permissions
from loyalty_app.domain.member_codes import looks_like_member_code
from loyalty_app.services.earning import EarnOutcome
from loyalty_app.services.member_codes import consume_member_code
from loyalty_app.services.permissions import Action, Actor
from loyalty_app.services.tiers import current_tier, load_tiers


@dataclass(frozen=True)
class MemberAtTill:
    account_id: int
    name: str
    member_number: str
    tier_name: str
    available: int


def staff_stores(engine: Engine, actor: Actor) -> list[tuple[int, str]]:
    """The stores this person may act for (admins: every active store of the merchant)."""
    with read_session(engine) as s:
        query = select(Store).where(Store.merchant_id == actor.merchant_id, Store.is_active)
        stores = s.exec(query.order_by(Store.name)).all()
    if actor.role == Role.ADMIN:
        return [(st.id, st.name) for st in stores]
    return [(st.id, st.name) for st in stores if st.id in actor.store_ids]


def _normalise_number(member_number: str) -> str:
    return "".join(ch for ch in (member_number or "") if ch.isdigit())


def find_member(engine: Engine, actor: Actor | None, *, store_id: int, member_number: str) -> MemberAtTill:
    """Look a member up by the live QR code on their card or the number printed under it;
    unknown numbers get one clear message."""
    staff = permissions.authorize(
        engine, actor, Action.STAFF_SCAN_MEMBER, merchant_id=actor.merchant_id if actor else 0, store_id=store_id
    )
    if looks_like_member_code(member_number):
        # A scanned QR (camera or a USB scanner typing into the field): signed, live, single use.
        account_id = consume_member_code(
            engine, merchant_id=staff.merchant_id, code=member_number, staff_account_id=staff.account_id
        )
        with read_session(engine) as s:
            account = s.get(Account, account_id)
    else:
        number = _normalise_number(member_number)
        with read_session(engine) as s:
            account = s.exec(
                select(Account).where(
                    Account.merchant_id == staff.merchant_id,
                    Account.member_number == number,
                    Account.role == Role.MEMBER,
                    Account.deleted_at.is_(None),  # type: ignore[union-attr]
                )
            ).first() if number else None
    if account is None:
        raise NotFound(N_("No member has this number. Check the card and try again."), code="member_not_found")
    # Checked again with the member: staff never serve their own member account.
    permissions.authorize(
        engine, staff, Action.STAFF_SCAN_MEMBER, merchant_id=staff.merchant_id, target_account_id=account.id, store_id=store_id
    )
    with read_session(engine) as s:
        balance = ledger.get_balance(s, merchant_id=staff.merchant_id, account_id=account.id)
        tier = current_tier(s, staff.merchant_id, account.id, load_tiers(s, staff.merchant_id))
    return MemberAtTill(
        account_id=account.id,
        name=f"{account.first_name} {account.last_name}".strip(),
        member_number=account.member_number,
        tier_name=tier.name if tier else "",
        available=balance.available,
    )


def credit_purchase_at_till(
    engine: Engine,
    actor: Actor | None,
    *,
    store_id: int,
    member_account_id: int,
    amount_text: str,
    receipt: str,
) -> EarnOutcome:
    """Parse what the cashier typed, check who is asking, then credit once per receipt."""
    staff = permissions.authorize(
        engine,
        actor,
        Action.STAFF_CREDIT_PURCHASE,
        merchant_id=actor.merchant_id if actor else 0,
        target_account_id=member_account_id,
        store_id=store_id,
    )
    amount_cents = parse_amount_cents(amount_text)
    return earning.credit_purchase(
        engine,
        merchant_id=staff.merchant_id,
        account_id=member_account_id,
        store_id=store_id,
        amount_cents=amount_cents,
        receipt=receipt,
        staff_account_id=staff.account_id,
    )
