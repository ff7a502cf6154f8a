"""Donating points to one of the program's charities, with a daily cap per member.

The cap (``ProgramSettings.donation_daily_limit``) counts points donated since the merchant's
midnight; the member row is locked first so two donations at once cannot both pass the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import donations as rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind
from loyalty_app.models import Charity, Donation
from loyalty_app.services import ledger
from loyalty_app.services.earning.actions import load_context, lock_member, require_spending_allowed
from loyalty_app.services.platform.tx import run_in_transaction

DONATION_REASON = N_("Donation to {charity}")


@dataclass(frozen=True)
class DonationOutcome:
    donation_id: int
    charity_name: str
    points: int
    balance: BalanceSnapshot
    donated_today: int
    replayed: bool = False


def donated_between(session: Session, *, merchant_id: int, account_id: int, start: datetime, end: datetime) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(Donation.points), 0)).where(
            Donation.merchant_id == merchant_id, Donation.account_id == account_id, Donation.at >= start, Donation.at < end
        )
    ).one()
    return int(total or 0)


def donate(
    engine: Engine,
    *,
    merchant_id: int,
    account_id: int,
    charity_id: int,
    points: int,
    idempotency_key: str,
    now: datetime | None = None,
) -> DonationOutcome:
    """Give points to a charity of this program (refused over the daily limit or the balance)."""
    now = now or utcnow()
    if isinstance(points, bool) or not isinstance(points, int):
        raise LoyaltyError(N_("Points must be a whole number."), code="invalid_points")
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 120:
        raise LoyaltyError(N_("A request key is required."), code="invalid_idempotency_key")

    def run(session: Session) -> DonationOutcome:
        ctx = load_context(session, merchant_id)
        require_spending_allowed(lock_member(session, merchant_id, account_id))
        start, end = rules.day_bounds(now, ctx.tz)
        previous = session.exec(
            select(Donation).where(Donation.merchant_id == merchant_id, Donation.idempotency_key == idempotency_key)
        ).first()
        if previous is not None:
            if (previous.account_id, previous.charity_id, previous.points) != (account_id, charity_id, points):
                raise Conflict(N_("This request was already processed with different details."), code="idempotency_conflict")
            charity = session.get(Charity, previous.charity_id)
            return DonationOutcome(
                previous.id,
                charity.name,
                previous.points,
                ledger.get_balance(session, merchant_id=merchant_id, account_id=account_id),
                donated_between(session, merchant_id=merchant_id, account_id=account_id, start=start, end=end),
                replayed=True,
            )
        charity = session.get(Charity, charity_id)
        if charity is None or charity.merchant_id != merchant_id or not charity.is_active:
            raise NotFound(N_("Charity not found."), code="charity_not_found")
        today = donated_between(session, merchant_id=merchant_id, account_id=account_id, start=start, end=end)
        rules.check_donation(points, donated_today=today, daily_limit=ctx.settings.donation_daily_limit)
        result = ledger.debit(
            session,
            merchant_id=merchant_id,
            account_id=account_id,
            points=points,
            idempotency_key=f"donate:{idempotency_key}",
            reason=DONATION_REASON,
            reason_params={"charity": charity.name},
            kind=EntryKind.DONATE,
            source={"charity_id": charity.id, "charity": charity.key},
            now=now,
        )
        donation = Donation(
            merchant_id=merchant_id,
            account_id=account_id,
            charity_id=charity.id,
            points=points,
            entry_id=result.entry_id,
            at=now,
            idempotency_key=idempotency_key,
        )
        session.add(donation)
        session.flush()
        return DonationOutcome(donation.id, charity.name, points, result.balance, today + points)

    return run_in_transaction(engine, run)


@dataclass(frozen=True)
class CharityTotal:
    charity_id: int
    key: str
    name: str
    points: int
    donors: int


def charity_totals(session: Session, merchant_id: int) -> list[CharityTotal]:
    """Points given to each charity of the program (all charities, most supported first)."""
    rows = session.exec(
        select(Charity, func.coalesce(func.sum(Donation.points), 0), func.count(func.distinct(Donation.account_id)))
        .join(Donation, Donation.charity_id == Charity.id, isouter=True)
        .where(Charity.merchant_id == merchant_id)
        .group_by(Charity.id)
    ).all()
    totals = [CharityTotal(c.id, c.key, c.name, int(points), int(donors)) for c, points, donors in rows]
    return sorted(totals, key=lambda t: (-t.points, t.name))


def list_charities(session: Session, merchant_id: int) -> list[Charity]:
    return list(
        session.exec(select(Charity).where(Charity.merchant_id == merchant_id, Charity.is_active).order_by(Charity.name)).all()
    )
