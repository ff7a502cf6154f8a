"""At the till: staff scan a member's card (camera, USB scanner or typed number) or a voucher,
credit purchases once per receipt, undo a mistaken credit for a few minutes, redeem vouchers.

Guards kept here (with the one permission check): staff act only for their stores, never for
their own member account, and at most N credits per member per hour; going over is refused
and raised as a fraud flag for the merchant. Every refusal is logged with who, what and why.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import vouchers as voucher_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind
from loyalty_app.domain.member_codes import looks_like_member_code
from loyalty_app.domain.money import parse_amount_cents
from loyalty_app.models import (
    Account,
    FraudFlag,
    LedgerEntry,
    MediaBlob,
    MemberActivity,
    ProgramRules,
    Reward,
    Role,
    Store,
    Voucher,
)
from loyalty_app.services import ledger
from loyalty_app.services.catalog import rewards
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import challenges
from loyalty_app.services.earning.actions import EarnOutcome
from loyalty_app.services.earning.tiers import current_tier, load_tiers
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.platform.tx import run_in_transaction
from loyalty_app.services.store.member_codes import consume_member_code

UNDO_REASON = N_("Purchase undone at the till")
DEFAULT_CREDITS_PER_HOUR = 4
DEFAULT_UNDO_MINUTES = 10


@dataclass(frozen=True)
class MemberAtTill:
    account_id: int
    name: str
    member_number: str
    tier_name: str
    available: int
    avatar_src: str = ""  # the member's own photo as a data: URI, so the cashier knows who to serve


@dataclass(frozen=True)
class VoucherAtTill:
    """A scanned voucher that can be redeemed now (unusable ones are refused at the scan)."""

    code: str
    reward_name: str
    reward_kind: str
    member_name: str
    expires_at: datetime


@dataclass(frozen=True)
class TillCredit:
    outcome: EarnOutcome
    entry_id: int | None
    undo_until: datetime | None  # None: nothing to undo (a replay of an undone credit)


@dataclass(frozen=True)
class TillUndo:
    points: int  # taken back in all: the purchase and every challenge bonus it had completed
    balance: BalanceSnapshot
    member_account_id: int
    purchase_points: int = 0
    bonus_parts: tuple[tuple[str, int], ...] = ()  # (challenge name, points taken back)
    replayed: bool = False  # undone before: nothing new was written (the member is not told again)


class VelocityLimit(LoyaltyError):
    """More credits for one member in an hour than the program allows."""


def staff_stores(engine: Engine, actor: Actor) -> list[tuple[int, str]]:
    """The stores this person may act for (admins: every active store of the merchant)."""
    with read_session(engine) as s:
        query = select(Store).where(Store.merchant_id == actor.merchant_id, Store.is_active)
        stores = s.exec(query.order_by(Store.name)).all()
    if actor.role == Role.ADMIN:
        return [(st.id, st.name) for st in stores]
    return [(st.id, st.name) for st in stores if st.id in actor.store_ids]


def _program_rules(session: Session, merchant_id: int) -> ProgramRules:
    return session.get(ProgramRules, merchant_id) or ProgramRules(
        merchant_id=merchant_id, till_credits_per_member_hour=DEFAULT_CREDITS_PER_HOUR, till_undo_minutes=DEFAULT_UNDO_MINUTES
    )


def _normalise_number(member_number: str) -> str:
    return "".join(ch for ch in (member_number or "") if ch.isdigit())


def _authorize_staff(engine: Engine, actor: Actor | None, action: Action, *, store_id: int, target: int | None = None) -> Actor:
    """The one permission check; an attempt on the cashier's own member account is also a fraud flag."""
    merchant_id = actor.merchant_id if actor else 0
    try:
        return permissions.authorize(engine, actor, action, merchant_id=merchant_id, target_account_id=target, store_id=store_id)
    except NotAllowed as refusal:
        if refusal.code == "own_member_account" and actor is not None:
            raise_flag(
                engine,
                merchant_id=merchant_id,
                kind="own_account",
                member_account_id=target,
                staff_account_id=actor.account_id,
                store_id=store_id,
                detail={"action": action.value},
            )
        raise


def raise_flag(
    engine: Engine,
    *,
    merchant_id: int,
    kind: str,
    member_account_id: int | None,
    staff_account_id: int | None,
    store_id: int | None,
    detail: dict,
    now: datetime | None = None,
) -> None:
    """Write a fraud flag in its own transaction (it must survive the refused operation)."""
    with write_session(engine) as s:
        s.add(
            FraudFlag(
                merchant_id=merchant_id,
                kind=kind,
                member_account_id=member_account_id,
                staff_account_id=staff_account_id,
                store_id=store_id,
                detail=detail,
                at=now or utcnow(),
            )
        )


def scanned_into_credit_form(amount_text: str, receipt_text: str) -> str:
    """The code a keyboard-wedge scanner typed into the credit form instead of the scan field
    ("" when the form holds a purchase). A scanner types wherever the focus is: a card or voucher
    scanned while one member is on screen must start the next customer, never become an amount
    or a receipt of the previous one. A live card code (``LM1.``...) is recognised in either
    field; a voucher code or a printed member number (8 digits, no decimal separator: 10 million
    or more is no till amount) only in Amount, since receipt numbers may look like either."""
    amount, receipt = (amount_text or "").strip(), (receipt_text or "").strip()
    for text in (amount, receipt):
        if looks_like_member_code(text):
            return text
    if voucher_rules.normalise_code(amount):  # 20 characters of the voucher alphabet: no amount
        return amount
    digits = amount.replace(" ", "")
    if len(digits) == 8 and digits.isdigit():
        return amount
    return ""


def scan(engine: Engine, actor: Actor | None, *, store_id: int, text: str) -> MemberAtTill | VoucherAtTill:
    """Whatever the cashier scanned or typed: a member's live card code, a voucher code, or a
    member number."""
    text = (text or "").strip()
    if not looks_like_member_code(text) and voucher_rules.normalise_code(text):
        return find_voucher(engine, actor, store_id=store_id, code=text)
    return find_member(engine, actor, store_id=store_id, member_number=text)


def find_member(engine: Engine, actor: Actor | None, *, store_id: int, member_number: str) -> MemberAtTill:
    """Look a member up by the live QR code on their card or the number printed under it;
    unknown numbers get one clear message."""
    staff = _authorize_staff(engine, actor, Action.STAFF_SCAN_MEMBER, store_id=store_id)
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
            account = (
                s.exec(
                    select(Account).where(
                        Account.merchant_id == staff.merchant_id,
                        Account.member_number == number,
                        Account.role == Role.MEMBER,
                        Account.deleted_at.is_(None),  # type: ignore[union-attr]
                    )
                ).first()
                if number
                else None
            )
    if account is None:
        detail = {"store_id": store_id, "typed": _normalise_number(member_number)[:16]}
        permissions.record_actor_event(engine, staff, "till_find_member", "member_not_found", detail)
        raise NotFound(N_("No member has this number. Check the card and try again."), code="member_not_found")
    # Checked again with the member: staff never serve their own member account.
    _authorize_staff(engine, staff, Action.STAFF_SCAN_MEMBER, store_id=store_id, target=account.id)
    with read_session(engine) as s:
        balance = ledger.get_balance(s, merchant_id=staff.merchant_id, account_id=account.id)
        tier = current_tier(s, staff.merchant_id, account.id, load_tiers(s, staff.merchant_id))
        avatar = s.get(MediaBlob, account.avatar_id) if account.avatar_id else None
        avatar_src = ""
        if avatar is not None and avatar.kind == "avatar" and avatar.merchant_id == staff.merchant_id:
            avatar_src = f"data:{avatar.content_type};base64,{base64.b64encode(avatar.data).decode()}"
    return MemberAtTill(
        account_id=account.id,
        name=f"{account.first_name} {account.last_name}".strip(),
        member_number=account.member_number,
        tier_name=tier.name if tier else "",
        available=balance.available,
        avatar_src=avatar_src,
    )


def find_voucher(engine: Engine, actor: Actor | None, *, store_id: int, code: str, now: datetime | None = None) -> VoucherAtTill:
    """A scanned voucher with its reward; used, expired or cancelled ones are refused with the
    reason, unknown or another program's codes are "not found"."""
    staff = _authorize_staff(engine, actor, Action.STAFF_REDEEM_VOUCHER, store_id=store_id)
    now = now or utcnow()
    canonical = voucher_rules.normalise_code(code)
    with read_session(engine) as s:
        voucher = s.exec(select(Voucher).where(Voucher.code == canonical)).first() if canonical else None
        reward = s.get(Reward, voucher.reward_id) if voucher else None
        member = s.get(Account, voucher.account_id) if voucher else None
    try:
        if voucher is None or voucher.merchant_id != staff.merchant_id or reward is None or member is None:
            raise NotFound(N_("Voucher not found."), code="voucher_not_found")
        voucher_rules.check_usable(voucher.status, voucher.expires_at, now)
    except LoyaltyError as refusal:
        detail = {"store_id": store_id, "code_prefix": (canonical or code or "")[:6]}
        permissions.record_actor_event(engine, staff, "till_scan_voucher", refusal.code, detail)
        raise
    _authorize_staff(engine, staff, Action.STAFF_REDEEM_VOUCHER, store_id=store_id, target=member.id)
    return VoucherAtTill(
        code=voucher.code,
        reward_name=reward.name,
        reward_kind=reward.kind,
        member_name=f"{member.first_name} {member.last_name}".strip(),
        expires_at=voucher.expires_at,
    )


def redeem_voucher_at_till(
    engine: Engine, actor: Actor | None, *, store_id: int, code: str, now: datetime | None = None
) -> rewards.VoucherUse:
    """Hand over the reward: the voucher is marked used once (a second scan is refused)."""
    preview = find_voucher(engine, actor, store_id=store_id, code=code, now=now)
    staff = actor  # authorized by find_voucher, with the member as target
    try:
        return rewards.use_voucher(
            engine,
            merchant_id=staff.merchant_id,
            code=preview.code,
            store_id=store_id,
            staff_account_id=staff.account_id,
            now=now,
        )
    except LoyaltyError as refusal:  # lost a race with another till
        detail = {"store_id": store_id, "code_prefix": preview.code[:6]}
        permissions.record_actor_event(engine, staff, "till_redeem_voucher", refusal.code, detail)
        raise


def _reversed_entry_ids(session: Session, entry_ids: list[int]) -> set[int]:
    if not entry_ids:
        return set()
    return set(session.exec(select(LedgerEntry.reverses_entry_id).where(LedgerEntry.reverses_entry_id.in_(entry_ids))).all())  # type: ignore[union-attr]


def _receipt_key(engine: Engine, merchant_id: int, store_id: int, receipt: str) -> str:
    """The receipt's idempotency key. A credit undone at the till frees its receipt: the next
    credit for it gets the next key in the chain (receipt, receipt#2, ...)."""
    base = earning.purchase_key(store_id, receipt.strip())
    with read_session(engine) as s:
        rows = s.exec(
            select(MemberActivity.idempotency_key, MemberActivity.entry_id).where(
                MemberActivity.merchant_id == merchant_id,
                (MemberActivity.idempotency_key == base) | MemberActivity.idempotency_key.startswith(base + "#"),  # type: ignore[attr-defined]
            )
        ).all()
        undone = _reversed_entry_ids(s, [entry_id for _key, entry_id in rows if entry_id])
    by_key = dict(rows)
    key, n = base, 1
    while key in by_key and by_key[key] in undone:
        n += 1
        key = f"{base}#{n}"
    return key


def _velocity_guard(limit: int, store_id: int, staff_id: int):
    def guard(session: Session, account: Account, now: datetime) -> None:
        recent = session.exec(
            select(func.count())
            .select_from(MemberActivity)
            .where(
                MemberActivity.merchant_id == account.merchant_id,
                MemberActivity.account_id == account.id,
                MemberActivity.action == EarnAction.PURCHASE.value,
                MemberActivity.at >= now - timedelta(hours=1),
            )
        ).one()
        if recent >= limit:
            raise VelocityLimit(
                N_("This member already had {count} purchases credited in the last hour. A manager must check this one."),
                code="velocity_limit",
                count=recent,
            )

    return guard


def credit_purchase_at_till(
    engine: Engine,
    actor: Actor | None,
    *,
    store_id: int,
    member_account_id: int,
    amount_text: str,
    receipt: str,
    now: datetime | None = None,
) -> TillCredit:
    """Parse what the cashier typed, check who is asking, then credit once per receipt, within
    the program's credits-per-hour limit."""
    staff = _authorize_staff(engine, actor, Action.STAFF_CREDIT_PURCHASE, store_id=store_id, target=member_account_id)
    now = now or utcnow()
    amount_cents = parse_amount_cents(amount_text)
    receipt = (receipt or "").strip()
    with read_session(engine) as s:
        rules = _program_rules(s, staff.merchant_id)
    key = _receipt_key(engine, staff.merchant_id, store_id, receipt) if receipt else None
    try:
        outcome = earning.credit_purchase(
            engine,
            merchant_id=staff.merchant_id,
            account_id=member_account_id,
            store_id=store_id,
            amount_cents=amount_cents,
            receipt=receipt,
            staff_account_id=staff.account_id,
            now=now,
            idempotency_key=key,
            guard=_velocity_guard(rules.till_credits_per_member_hour, store_id, staff.account_id),
        )
    except VelocityLimit as refusal:
        detail = {
            "count": refusal.params.get("count"),
            "limit": rules.till_credits_per_member_hour,
            "amount_cents": amount_cents,
            "receipt": receipt[:64],
        }
        raise_flag(
            engine,
            merchant_id=staff.merchant_id,
            kind="velocity",
            member_account_id=member_account_id,
            staff_account_id=staff.account_id,
            store_id=store_id,
            detail=detail,
            now=now,
        )
        logged = {"member_account_id": member_account_id, **detail}
        permissions.record_actor_event(engine, staff, "till_credit_purchase", "velocity_limit", logged, now=now)
        raise
    except LoyaltyError as refusal:
        detail = {"member_account_id": member_account_id, "store_id": store_id, "receipt": receipt[:64]}
        permissions.record_actor_event(engine, staff, "till_credit_purchase", refusal.code, detail, now=now)
        raise
    with read_session(engine) as s:
        entry = s.get(LedgerEntry, outcome.entry_id) if outcome.entry_id else None
        undone = bool(entry and _reversed_entry_ids(s, [entry.id]))
    undo_until = None
    if entry is not None and not undone:
        undo_until = _aware(entry.created_at) + timedelta(minutes=rules.till_undo_minutes)
    return TillCredit(outcome=outcome, entry_id=outcome.entry_id, undo_until=undo_until)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bonuses_taken_back(session: Session, merchant_id: int, entry: LedgerEntry) -> list[challenges.TakenBackBonus]:
    """The challenge bonuses an earlier undo of ``entry`` reversed (keys ``till-undo:<id>:challenge:...``)."""
    prefix = f"till-undo:{entry.id}:challenge:"
    rows = session.exec(
        select(LedgerEntry)
        .where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.account_id == entry.account_id,
            LedgerEntry.idempotency_key.startswith(prefix),  # type: ignore[attr-defined]
        )
        .order_by(LedgerEntry.id)  # type: ignore[arg-type]
    ).all()
    return [challenges.TakenBackBonus(str((r.reason_params or {}).get("challenge", "")), abs(r.points)) for r in rows]


def undo_credit(engine: Engine, actor: Actor | None, *, store_id: int, entry_id: int, now: datetime | None = None) -> TillUndo:
    """Take back a purchase credited at this store a few minutes ago (a typo in the amount, the
    wrong member). Writes a reversal entry and takes back what the purchase caused: its step in
    each challenge, and the bonus of a challenge that is no longer complete. The receipt can
    then be credited again. All in one transaction: refused as a whole or done as a whole."""
    staff = _authorize_staff(engine, actor, Action.STAFF_CREDIT_PURCHASE, store_id=store_id)
    now = now or utcnow()

    def run(session: Session) -> TillUndo:
        entry = session.get(LedgerEntry, entry_id)
        if (
            entry is None
            or entry.merchant_id != staff.merchant_id
            or entry.kind != EntryKind.EARN.value
            or (entry.source or {}).get("store_id") != store_id
            or "receipt" not in (entry.source or {})
        ):
            raise NotFound(N_("This credit cannot be found at this store."), code="credit_not_found")
        permissions.authorize(
            session,
            staff,
            Action.STAFF_CREDIT_PURCHASE,
            merchant_id=staff.merchant_id,
            target_account_id=entry.account_id,
            store_id=store_id,
        )
        rules = _program_rules(session, staff.merchant_id)
        if now - _aware(entry.created_at) > timedelta(minutes=rules.till_undo_minutes):
            raise LoyaltyError(
                N_("A credit can only be undone within {minutes} minutes. Ask a manager."),
                code="undo_too_late",
                minutes=rules.till_undo_minutes,
            )
        # The member's row first, as every earn does (challenge progress changes too); a membership
        # closed since the credit can still have its mistaken credit undone.
        session.exec(select(Account.id).where(Account.id == entry.account_id).with_for_update()).first()
        source = {"store_id": store_id, "staff_id": staff.account_id, "undoes": entry.id}
        result = ledger.reverse(
            session,
            merchant_id=staff.merchant_id,
            entry_id=entry.id,
            idempotency_key=f"till-undo:{entry.id}",
            reason=UNDO_REASON,
            author_id=staff.account_id,
            now=now,
            source=source,
        )
        taken: list[challenges.TakenBackBonus] = []
        activity = session.exec(
            select(MemberActivity).where(MemberActivity.merchant_id == staff.merchant_id, MemberActivity.entry_id == entry.id)
        ).first()
        if result.replayed:  # undone already: the same answer again, from what that undo wrote
            taken = _bonuses_taken_back(session, staff.merchant_id, entry)
        elif activity is not None:
            taken = challenges.take_back_steps(
                session,
                merchant_id=staff.merchant_id,
                account_id=entry.account_id,
                steps=earning.challenge_steps(activity),
                idempotency_prefix=f"till-undo:{entry.id}",
                author_id=staff.account_id,
                now=now,
                source=source,
            )
        balance = ledger.get_balance(session, merchant_id=staff.merchant_id, account_id=entry.account_id)
        purchase = abs(result.points)
        return TillUndo(
            points=purchase + sum(t.points for t in taken),
            balance=balance,
            member_account_id=entry.account_id,
            purchase_points=purchase,
            bonus_parts=tuple((t.name, t.points) for t in taken),
            replayed=result.replayed,
        )

    try:
        return run_in_transaction(engine, run)
    except LoyaltyError as refusal:
        detail = {"entry_id": entry_id, "store_id": store_id}
        permissions.record_actor_event(engine, staff, "till_undo_credit", refusal.code, detail, now=now)
        raise
