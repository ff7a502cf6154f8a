"""Referrals: a code per member, a bonus for both sides.

When each side is paid (documented choice): the REFEREE gets ``referral_referee_points`` when
they sign up with a code (``register_referral``); the REFERRER gets their bonus when the
referee makes a first purchase (``reward_first_purchase``, called by ``credit_purchase``), so
invented accounts earn nothing. The referrer's bonus goes through the earning pipeline as the
``refer_friend`` action: the best matching ``refer_friend`` earning rule sets the base points
(else the program's ``referral_referrer_points``) and tier multipliers apply (e.g. top tier ×2).
Refused: self-referral, a member already referred, and a referrer over
``referral_monthly_cap`` referrals registered in the current merchant-local month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import referrals as rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action, local_date, local_midnight_utc
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models import Account, Referral, ReferralCode, Role
from loyalty_app.services import ledger
from loyalty_app.services.earning.actions import EarnOutcome, load_context, lock_member, record_action_in_session
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action as Permission
from loyalty_app.services.platform.permissions import authorize
from loyalty_app.services.platform.tx import run_in_transaction

REFEREE_REASON = N_("Welcome bonus: invited by a friend")


def referral_code_in_session(session: Session, merchant_id: int, account_id: int) -> str:
    row = session.exec(
        select(ReferralCode).where(ReferralCode.merchant_id == merchant_id, ReferralCode.account_id == account_id)
    ).first()
    if row is not None:
        return row.code
    account = session.get(Account, account_id)
    if account is None or account.merchant_id != merchant_id or account.role != Role.MEMBER:
        raise NotFound(N_("Member not found."), code="member_not_found")
    for _ in range(10):
        code = rules.generate_referral_code()
        taken = session.exec(
            select(ReferralCode.id).where(ReferralCode.merchant_id == merchant_id, ReferralCode.code == code)
        ).first()
        if taken is None:
            session.add(ReferralCode(merchant_id=merchant_id, account_id=account_id, code=code))
            session.flush()
            return code
    raise LoyaltyError(N_("Please try again."), code="code_collision")  # pragma: no cover


def referral_code_for(engine: Engine, *, merchant_id: int, account_id: int) -> str:
    """The member's referral code, created on first request."""
    return run_in_transaction(engine, lambda session: referral_code_in_session(session, merchant_id, account_id))


@dataclass(frozen=True)
class ReferralOutcome:
    referral_id: int
    referrer_id: int
    referee_points: int


def register_referral(
    engine: Engine,
    *,
    merchant_id: int,
    referee_account_id: int,
    code: str,
    now: datetime | None = None,
) -> ReferralOutcome:
    """Link a new member to the friend whose code they entered and pay the referee's bonus."""
    now = now or utcnow()
    canonical = rules.normalise_referral_code(code)

    def run(session: Session) -> ReferralOutcome:
        ctx = load_context(session, merchant_id)
        lock_member(session, merchant_id, referee_account_id)
        owner = (
            session.exec(
                select(ReferralCode).where(ReferralCode.merchant_id == merchant_id, ReferralCode.code == canonical)
            ).first()
            if canonical
            else None
        )
        if owner is None:
            raise NotFound(N_("This referral code is not valid."), code="referral_code_not_found")
        already = session.exec(
            select(Referral.id).where(Referral.merchant_id == merchant_id, Referral.referee_id == referee_account_id)
        ).first()
        month_start = local_midnight_utc(local_date(now, ctx.tz).replace(day=1), ctx.tz)
        this_month = session.exec(
            select(func.count())
            .select_from(Referral)
            .where(
                Referral.merchant_id == merchant_id,
                Referral.referrer_id == owner.account_id,
                Referral.registered_at >= month_start,
            )
        ).one()
        rules.check_referral(
            referrer_id=owner.account_id,
            referee_id=referee_account_id,
            referee_already_referred=already is not None,
            referrer_count_this_month=this_month,
            monthly_cap=ctx.settings.referral_monthly_cap,
        )
        referral = Referral(
            merchant_id=merchant_id, referrer_id=owner.account_id, referee_id=referee_account_id, registered_at=now
        )
        session.add(referral)
        session.flush()
        points = ctx.settings.referral_referee_points
        if points > 0:
            result = ledger.credit(
                session,
                merchant_id=merchant_id,
                account_id=referee_account_id,
                points=points,
                idempotency_key=f"referral:referee:{referral.id}",
                reason=REFEREE_REASON,
                kind=EntryKind.EARN,
                source={"referral_id": referral.id, "referrer_id": owner.account_id},
                now=now,
            )
            referral.referee_entry_id = result.entry_id
            session.add(referral)
        return ReferralOutcome(referral.id, owner.account_id, points)

    return run_in_transaction(engine, run)


def register_referral_quietly(engine: Engine, merchant_id: int, account_id: int, code: str) -> None:
    """A bad referral code must not block the sign-up itself; the refusal is logged instead
    (self-referral and repeat referrals are fraud signals for the merchant)."""
    try:
        register_referral(engine, merchant_id=merchant_id, referee_account_id=account_id, code=code)
    except LoyaltyError as err:
        permissions.record_security_event(
            engine,
            merchant_id=merchant_id,
            account_id=account_id,
            action="register_referral",
            reason=err.code,
            detail={"code": code[:40]},
        )


def reward_first_purchase(session: Session, *, merchant_id: int, referee_account_id: int, now: datetime) -> Referral | None:
    """Pay the referrer once the referee made their first purchase (inside that transaction).

    Returns the referral paid, or None when the referee was not referred or it was paid already.
    """
    referral = session.exec(
        select(Referral).where(Referral.merchant_id == merchant_id, Referral.referee_id == referee_account_id).with_for_update()
    ).first()
    if referral is None or referral.referrer_rewarded_at is not None:
        return None
    referrer = session.get(Account, referral.referrer_id)
    if referrer is None or not referrer.is_active or referrer.deleted_at is not None:
        return None
    settings = ledger.get_program_settings(session, merchant_id)
    outcome: EarnOutcome | None = None
    try:
        outcome = record_action_in_session(
            session,
            merchant_id=merchant_id,
            account_id=referral.referrer_id,
            action=Action.REFER_FRIEND,
            idempotency_key=f"referral:referrer:{referral.id}",
            now=now,
            allow_service_only=True,
            detail={"referral_id": referral.id, "referee_id": referee_account_id},
            fallback_points=settings.referral_referrer_points,
        )
    except LoyaltyError as refused:
        if refused.code != "limit_reached":
            raise
    referral.referrer_rewarded_at = now
    referral.referrer_entry_id = outcome.entry_id if outcome else None
    session.add(referral)
    session.flush()
    return referral


# --------------------------------------------------------------------------- the member's invite screen


@dataclass(frozen=True)
class ReferralView:
    """One friend the member invited, as the member may see it (first name + initial only)."""

    referral_id: int
    friend_name: str
    joined_at: datetime
    # "joined": no purchase yet; "bonus_paid": first purchase made, the member's bonus credited;
    # "purchased": first purchase made but no bonus (the program's monthly limit had been reached)
    status: str
    bonus_points: int


@dataclass(frozen=True)
class MemberReferrals:
    code: str
    friend_points: int  # what a friend gets on joining with the code
    referrals: list[ReferralView]


def referral_link(slug: str, code: str, origin: str | None = None) -> str:
    """The absolute sign-up link a member shares: ``{APP_ORIGIN}/m/<slug>/signup?ref=<code>``."""
    from urllib.parse import quote

    if origin is None:
        from loyalty_app.settings import get_settings

        origin = get_settings().app_origin
    return f"{origin.rstrip('/')}/m/{quote(slug, safe='')}/signup?ref={quote(code, safe='')}"


def _short_name(first: str | None, last: str | None) -> str:
    """ "Sofía G." — enough for the member to recognise a friend, no more."""
    first, last = (first or "").strip(), (last or "").strip()
    return f"{first} {last[0]}.".strip() if last else first


def member_referrals(engine: Engine, actor, *, limit: int = 50) -> MemberReferrals:
    """The signed-in member's own code (created on first request) and the friends who joined
    with it, newest first. Authorized for the member themself only (``Actor`` from the session)."""
    from sqlalchemy.orm import aliased

    from loyalty_app.db import read_session
    from loyalty_app.models import LedgerEntry

    actor = authorize(engine, actor, Permission.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    code = referral_code_for(engine, merchant_id=actor.merchant_id, account_id=actor.account_id)
    friend = aliased(Account)
    bonus = aliased(LedgerEntry)
    with read_session(engine) as session:
        settings = ledger.get_program_settings(session, actor.merchant_id)
        rows = session.exec(
            select(Referral, friend.first_name, friend.last_name, friend.deleted_at, bonus.points)
            .join(friend, friend.id == Referral.referee_id)
            .join(bonus, bonus.id == Referral.referrer_entry_id, isouter=True)
            .where(Referral.merchant_id == actor.merchant_id, Referral.referrer_id == actor.account_id)
            .order_by(Referral.id.desc())
            .limit(max(1, min(limit, 200)))
        ).all()
    views = []
    for referral, first, last, deleted_at, points in rows:
        name = "" if deleted_at is not None else _short_name(first, last)
        if referral.referrer_rewarded_at is None:
            status = "joined"
        else:
            status = "bonus_paid" if referral.referrer_entry_id is not None else "purchased"
        registered = referral.registered_at
        views.append(ReferralView(referral.id, name, registered, status, int(points or 0)))
    return MemberReferrals(code=code, friend_points=settings.referral_referee_points, referrals=views)
