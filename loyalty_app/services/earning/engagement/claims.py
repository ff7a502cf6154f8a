"""Points a member claims without review: the newsletter opt-in (``subscribe_newsletter``), an
event's code (``enter_event_code``, throttled) and the claim buttons (``claim_action``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import earning as rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN, Claim
from loyalty_app.models import MemberActivity, SecurityEvent
from loyalty_app.services import ledger
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning.actions import load_context, lock_member
from loyalty_app.services.earning.engagement.common import EarnResult, _member, _result
from loyalty_app.services.members.profile import set_consent
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.tx import run_in_transaction

MAX_EVENT_CODE_LENGTH = 40
EVENT_CODE_ATTEMPTS = 10  # wrong codes per member per hour before entry is paused
EVENT_CODE_WINDOW = timedelta(hours=1)

EVENT_CODE_REQUIRED = N_("Enter the code from the event.")
EVENT_CODE_USED = N_("You already used this event code.")
EVENT_CODE_THROTTLED = N_("Too many wrong codes. Please try again in an hour.")
NOT_CLAIMABLE = N_("This action cannot be claimed here.")
ALREADY_CLAIMED = N_("You already claimed these points.")


def clean_event_code(code: object) -> str:
    value = re.sub(r"\s+", "", str(code or "")).upper()
    if not value:
        raise LoyaltyError(EVENT_CODE_REQUIRED, code="event_code_required")
    if len(value) > MAX_EVENT_CODE_LENGTH or not re.fullmatch(r"[A-Z0-9_-]+", value):
        raise LoyaltyError(N_("This event code is not valid."), code="invalid_event_code")
    return value


def subscribe_newsletter(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> EarnResult:
    """Opt the member in to e-mail news (``services.members.profile.set_consent``) and pay
    ``subscribe_newsletter`` once ever (key ``newsletter:<member>``).

    The consent is always recorded; the points only when a rule applies and they were never
    paid before (otherwise 0 points and ``already=True``)."""

    now = now or utcnow()
    member = _member(engine, actor)
    set_consent(engine, member, "email", True, now=now)

    def run(session: Session) -> EarnResult:
        lock_member(session, member.merchant_id, member.account_id)
        paid_before = session.exec(
            select(MemberActivity.id).where(
                MemberActivity.merchant_id == member.merchant_id,
                MemberActivity.account_id == member.account_id,
                MemberActivity.action == EarnAction.SUBSCRIBE_NEWSLETTER.value,
            )
        ).first()
        if paid_before is not None:
            raise LoyaltyError(ALREADY_CLAIMED, code="already_claimed")
        outcome = earning.record_action_in_session(
            session,
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            action=EarnAction.SUBSCRIBE_NEWSLETTER,
            idempotency_key=f"newsletter:{member.account_id}",
            now=now,
        )
        return _result(outcome)

    try:
        return run_in_transaction(engine, run)
    except LoyaltyError:  # paid before, no rule, limit: subscribed all the same, without points
        with read_session(engine) as s:
            balance = ledger.get_balance(s, merchant_id=member.merchant_id, account_id=member.account_id)
        return EarnResult(EarnAction.SUBSCRIBE_NEWSLETTER.value, 0, 0, balance.available, already=True)


def event_key(account_id: int, code: str) -> str:
    return f"event:{account_id}:{code}"


def enter_event_code(engine: Engine, actor: Actor | None, code: str, *, now: datetime | None = None, ip: str = "") -> EarnResult:
    """``attend_event`` for a code given out at the event, once per member and code. Wrong codes
    are logged as security events; after ``EVENT_CODE_ATTEMPTS`` in an hour entry pauses."""
    now = now or utcnow()
    member = _member(engine, actor)
    value = clean_event_code(code)
    with read_session(engine) as s:
        wrong = s.exec(
            select(func.count())
            .select_from(SecurityEvent)
            .where(
                SecurityEvent.merchant_id == member.merchant_id,
                SecurityEvent.account_id == member.account_id,
                SecurityEvent.action == "event_code",
                SecurityEvent.at >= now - EVENT_CODE_WINDOW,
            )
        ).one()
    if wrong >= EVENT_CODE_ATTEMPTS:
        raise LoyaltyError(EVENT_CODE_THROTTLED, code="event_code_throttled")
    try:
        outcome = earning.record_action(
            engine,
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            action=EarnAction.ATTEND_EVENT,
            idempotency_key=event_key(member.account_id, value),
            detail={"event_code": value},
            now=now,
        )
    except LoyaltyError as err:
        if err.code == "invalid_event_code":
            detail = {"code": value[:MAX_EVENT_CODE_LENGTH]}
            permissions.record_actor_event(engine, member, "event_code", "invalid_event_code", detail, ip=ip, now=now)
        raise
    if outcome.replayed:
        raise LoyaltyError(EVENT_CODE_USED, code="event_code_used")
    return _result(outcome)


# The ways a member claims with a button on the Challenges tab (the registry's claim buttons).
CLAIMABLE = frozenset(WAYS_TO_EARN.claimed(Claim.CLAIM_BUTTON))


def claim_action(engine: Engine, actor: Actor | None, action: str, *, now: datetime | None = None) -> EarnResult:
    """Profile-completion points (once) or birthday points (once a year, birthday month), or any
    other way the registry marks as claimed with a button (once per member); the engine checks
    the condition and the rule's limit."""
    now = now or utcnow()
    member = _member(engine, actor)
    if action not in CLAIMABLE:
        raise LoyaltyError(NOT_CLAIMABLE, code="not_claimable")
    with read_session(engine) as s:
        ctx = load_context(s, member.merchant_id)
    if action == EarnAction.COMPLETE_PROFILE.value:
        key = f"profile:{member.account_id}"
    elif action == EarnAction.BIRTHDAY.value:
        key = f"birthday:{member.account_id}:{rules.local_date(now, ctx.tz).year}"
    else:  # another claimable way: once per member
        key = f"claim:{action}:{member.account_id}"
    outcome = earning.record_action(
        engine,
        merchant_id=member.merchant_id,
        account_id=member.account_id,
        action=action,
        idempotency_key=key,
        now=now,
    )
    if outcome.replayed:
        raise LoyaltyError(ALREADY_CLAIMED, code="already_claimed")
    return _result(outcome)
