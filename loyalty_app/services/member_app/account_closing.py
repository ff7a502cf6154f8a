"""Closing a member's account: vouchers still open are cancelled (their points returned) through
the catalog, then the account is anonymised in one transaction. It spans the members and catalog
contexts, so it lives above both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.models import Account, LiveClient, LoginAttempt, ReferralCode, RewardRating, Voucher
from loyalty_app.services.catalog import rewards as rewards_service
from loyalty_app.services.members import passwords, sessions
from loyalty_app.services.members.member_media import drop_blob_if_unused
from loyalty_app.services.members.profile import _own_account
from loyalty_app.services.platform import events, throttle
from loyalty_app.services.platform.permissions import Action, Actor, authorize, record_actor_event
from loyalty_app.services.platform.tx import run_in_transaction
from loyalty_app.settings import Settings, get_settings

WRONG_PASSWORD = N_("This password is not right. Try again.")
TOO_MANY_PASSWORD_TRIES = N_("Too many wrong passwords. Try again in {minutes} minutes.")
UNUSABLE_PASSWORD_HASH = "!deleted"  # never a valid argon2 hash: no password matches it


class _VouchersStillOpen(Exception):
    """A voucher was issued while the open ones were being cancelled: cancel again."""


@dataclass(frozen=True)
class DeletionOutcome:
    account_id: int
    vouchers_cancelled: int
    points_returned: int  # given back by the cancelled vouchers (they stay on the closed account)
    sessions_revoked: int


def delete_account(
    engine: Engine,
    actor: Actor,
    *,
    password: str,
    ip: str = "",
    now: datetime | None = None,
    settings: Settings | None = None,
) -> DeletionOutcome:
    """Delete the member's own account after re-checking the password.

    What happens (documented choices):
    - the password check counts like a sign-in attempt (same throttle per account and IP), so a
      stolen session cannot be used to guess the password;
    - open vouchers are cancelled through ``rewards.cancel_voucher``: the stock goes back on the
      shelf and the redeemed points are returned by a reversal entry. The points then stay on
      the closed account, which nobody can sign in to: they are forfeited in effect, and the
      ledger stays complete and auditable (no entry is ever edited or removed);
    - the account row is anonymised, not removed (ledger entries keep pointing at it): email
      ``deleted-<id>@invalid``, names, birthday, consents, pictures and the referral code are
      cleared, review texts are emptied (star ratings stay in the averages), the password hash
      becomes unusable, ``is_active`` False and ``deleted_at`` set;
    - every session of the account is revoked in the same transaction;
    - a ``member.deleted`` CRM event (member id and number, time; no personal data) is queued
      in the same transaction.
    The email address is free again: the person can join again as a new member.
    """
    authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0, ip=ip)
    if not isinstance(password, str) or not password:
        raise LoyaltyError(N_("Enter your password to confirm."), code="password_required")
    now = now or utcnow()
    settings = settings or get_settings()
    ip = (ip or "")[:64]
    with write_session(engine) as s:
        account = _own_account(s, actor)
        email, password_hash = account.email, account.password_hash
        lockout = throttle.check_lockout(s, merchant_id=actor.merchant_id, email=email, ip=ip, now=now, settings=settings)
        attempt_id = throttle.record_attempt(
            s, merchant_id=actor.merchant_id, email=email, ip=ip, success=False, throttled=lockout is not None, now=now
        ).id
    if lockout is not None:
        record_actor_event(engine, actor, "delete_account", f"throttled_{lockout.scope}", ip=ip, now=now)
        raise LoyaltyError(TOO_MANY_PASSWORD_TRIES, code="throttled", minutes=lockout.minutes)
    if not passwords.verify_password(password, password_hash):
        record_actor_event(engine, actor, "delete_account", "wrong_password", ip=ip, now=now)
        raise LoyaltyError(WRONG_PASSWORD, code="wrong_password")
    with write_session(engine) as s:
        s.exec(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=True))

    cancelled = returned = 0
    for _ in range(3):
        for voucher_id in _open_voucher_ids(engine, actor, now):
            try:
                outcome = rewards_service.cancel_voucher(
                    engine, merchant_id=actor.merchant_id, account_id=actor.account_id, voucher_id=voucher_id, now=now
                )
            except LoyaltyError:
                continue  # used or expired in the meantime
            cancelled += 1
            returned += outcome.points_returned

        def anonymise(s: Session) -> int:
            account = s.exec(select(Account).where(Account.id == actor.account_id).with_for_update()).first()
            if account is None or account.merchant_id != actor.merchant_id or account.deleted_at is not None:
                raise NotFound(N_("Account not found."), code="account_not_found")
            if _open_vouchers_query(s, actor, now).first() is not None:
                raise _VouchersStillOpen()
            pictures = (account.avatar_id, account.background_id)
            account.email = f"deleted-{account.id}@invalid"
            account.first_name = account.last_name = ""
            account.birthday = None
            account.consents = {}
            account.avatar_id = account.background_id = None
            account.personal_account_id = None
            account.password_hash = UNUSABLE_PASSWORD_HASH
            account.is_active = False
            account.deleted_at = now
            s.add(account)
            s.flush()
            for blob_id in pictures:
                drop_blob_if_unused(s, blob_id)
            s.exec(delete(ReferralCode).where(ReferralCode.account_id == account.id))
            s.exec(delete(LiveClient).where(LiveClient.account_id == account.id))
            s.exec(update(RewardRating).where(RewardRating.account_id == account.id).values(review_text=""))
            events.publish(s, events.MemberDeleted(account, now))  # CRM outbox, same transaction: ids and time only
            return sessions.revoke_all_in(s, account.id, now=now)

        try:
            revoked = run_in_transaction(engine, anonymise)
        except _VouchersStillOpen:
            continue
        detail = {"vouchers_cancelled": cancelled, "sessions_revoked": revoked}
        record_actor_event(engine, actor, "delete_account", "deleted_by_member", detail, ip=ip, now=now)
        return DeletionOutcome(actor.account_id, cancelled, returned, revoked)
    raise Conflict(N_("Something went wrong. Please try again."), code="vouchers_still_open")


def _open_vouchers_query(session: Session, actor: Actor, now: datetime):
    return session.exec(
        select(Voucher.id).where(
            Voucher.merchant_id == actor.merchant_id,
            Voucher.account_id == actor.account_id,
            Voucher.status == "issued",
            Voucher.expires_at > now,
        )
    )


def _open_voucher_ids(engine: Engine, actor: Actor, now: datetime) -> list[int]:
    with read_session(engine) as s:
        return list(_open_vouchers_query(s, actor, now).all())
