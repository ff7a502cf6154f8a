"""The outbox: ``enqueue`` writes one delivery row per subscribed endpoint in the caller's
transaction; the hooks of each event (members, points via ``events.PointsPosted``, vouchers,
consent) and what their payloads carry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy import true as sa_true
from sqlmodel import Session

from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models import Account, LedgerEntry, PointLot, Reward, Voucher
from loyalty_app.models.webhooks import WebhookDelivery, WebhookEndpoint
from loyalty_app.services.crm.webhooks.delivery import _kick_after_commit
from loyalty_app.services.crm.webhooks.signing import new_event_id
from loyalty_app.services.platform import events

# Keys of a ledger entry's ``source`` a CRM may see: ids and the merchant's own references.
_SOURCE_FIELDS = ("store_id", "reward_id", "charity_id", "receipt", "amount_cents", "action")

_ENDPOINTS = WebhookEndpoint.__table__
# Every ledger post runs this: a prepared Core select on the connection costs ~40 us on SQLite,
# an ORM select built per call ~180 us (measured here; a service credit is ~3 ms).
_ACTIVE_ENDPOINTS = sa_select(_ENDPOINTS.c.id, _ENDPOINTS.c.events).where(
    _ENDPOINTS.c.merchant_id == bindparam("merchant_id"), _ENDPOINTS.c.is_active == sa_true()
)


def enqueue(
    session: Session, *, merchant_id: int, event_type: str, data: Callable[[], dict] | dict, now: datetime | None = None
) -> int:
    """Add this event to the outbox of every active endpoint subscribed to it, in the caller's
    transaction; returns how many deliveries were written. ``data`` may be a function: it is
    only called (and its queries run) when someone is subscribed."""
    rows = session.connection().execute(_ACTIVE_ENDPOINTS, {"merchant_id": merchant_id}).all()
    targets = [endpoint_id for endpoint_id, events in rows if event_type in (events or ())]
    if not targets:
        return 0
    body = data() if callable(data) else data
    now = now or utcnow()
    for endpoint_id in targets:
        _add_delivery(session, merchant_id, endpoint_id, event_type, body, now)
    _kick_after_commit(session, merchant_id)
    return len(targets)


def _add_delivery(
    session: Session, merchant_id: int, endpoint_id: int, event_type: str, data: dict, now: datetime
) -> WebhookDelivery:
    event_id = new_event_id()
    payload = {"id": event_id, "type": event_type, "created_at": now.isoformat(), "merchant_id": merchant_id, "data": data}
    row = WebhookDelivery(
        merchant_id=merchant_id,
        endpoint_id=endpoint_id,
        event_type=event_type,
        event_id=event_id,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row


def member_fields(account: Account) -> dict:
    """What a CRM may know about a member, by the same rule as the members CSV: ids, member
    number and first name always (needed to run the program); last name and email only while
    the member agrees to marketing emails. Never birthday, pictures, password or sessions."""
    consent = (account.consents or {}).get("email")
    granted = bool(consent.get("granted")) if isinstance(consent, dict) else bool(consent)
    fields = {
        "id": account.id,
        "member_number": account.member_number,
        "first_name": account.first_name,
        "email_consent": granted,
    }
    if granted:
        fields.update(last_name=account.last_name, email=account.email)
    return fields


def _member(session: Session, account_id: int) -> dict:
    account = session.get(Account, account_id)
    return member_fields(account) if account is not None else {"id": account_id}


def member_enrolled(session: Session, account: Account, now: datetime | None = None) -> int:
    """Hook of accounts: a member joined (in the sign-up transaction)."""
    return enqueue(
        session,
        merchant_id=account.merchant_id,
        event_type="member.enrolled",
        now=now,
        data=lambda: {"member": member_fields(account), "joined_at": account.created_at.isoformat()},
    )


def ledger_posted(session: Session, entry: LedgerEntry) -> int:
    """One event per new ledger entry, in the transaction that writes it (called for each
    ``events.PointsPosted`` the ledger publishes, see ``on_points_posted``).

    ``ledger.post`` publishes the entry it was asked for: points.credited (positive points) or
    points.debited (negative). The ledger's own settlement (``ledger.settlement._catch_up``: at the start of
    every write for the member, and the ``release_pending``/``expire_due`` jobs) publishes each
    release entry (points.released) and each expire entry (points.expired). The entry's kind
    decides before its sign does, so an expiry is sent once, as points.expired, never also as
    points.debited (and reversing a credit whose lot partly expired takes back, and reports, only
    the points that had not expired)."""
    if not entry.points:
        return 0
    settled = {EntryKind.RELEASE.value: "points.released", EntryKind.EXPIRE.value: "points.expired"}
    event_type = settled.get(entry.kind) or ("points.credited" if entry.points > 0 else "points.debited")
    return enqueue(
        session,
        merchant_id=entry.merchant_id,
        event_type=event_type,
        now=entry.created_at,
        data=lambda: _entry_payload(session, entry, event_type),
    )


def on_points_posted(session: Session, event: events.PointsPosted) -> None:
    """Subscriber of the ledger's ``PointsPosted`` (registered below, at import; ``services.platform.events``
    imports this module before delivering the first event)."""
    ledger_posted(session, event.entry)


events.subscribe(events.PointsPosted, on_points_posted)


def _entry_payload(session: Session, entry: LedgerEntry, event_type: str) -> dict:
    """The member, the entry and the balance right after it. Credits and debits add what caused
    them (store, reward, receipt...). Releases and expiries add their lot and the entry that created
    those points (sent then as points.credited); ``points`` is the amount (released: positive;
    expired: negative, like a debit), and an expiry adds when it was due and the expired total."""
    balance = entry.balance_after or {}
    fields = {"id": entry.id, "kind": entry.kind, "points": entry.points, "created_at": entry.created_at.isoformat()}
    keys: tuple[str, ...] = ("available", "pending", "lifetime_earned")
    if event_type in ("points.released", "points.expired"):
        lot = session.get(PointLot, entry.lot_id) if entry.lot_id is not None else None  # in the session already
        fields |= {"lot_id": entry.lot_id, "source_entry_id": lot.source_entry_id if lot is not None else None}
        if event_type == "points.expired":
            fields["expires_at"] = lot.expires_at.isoformat() if lot is not None and lot.expires_at else None
            keys += ("expired",)
    else:
        source = {k: v for k, v in (entry.source or {}).items() if k in _SOURCE_FIELDS and v is not None}
        fields |= {"reverses_entry_id": entry.reverses_entry_id, **source}
    return {"member": _member(session, entry.account_id), "entry": fields, "balance": {k: balance.get(k, 0) for k in keys}}


def voucher_redeemed(session: Session, voucher: Voucher, reward: Reward) -> int:
    """Hook of rewards.use_voucher: a voucher was used at a store."""
    return enqueue(
        session,
        merchant_id=voucher.merchant_id,
        event_type="voucher.redeemed",
        now=voucher.used_at,
        data=lambda: {
            "member": _member(session, voucher.account_id),
            "voucher": {
                "id": voucher.id,
                "reward_id": reward.id,
                "reward_key": reward.key,
                "reward_name": reward.name,
                "store_id": voucher.used_store_id,
                "issued_at": voucher.issued_at.isoformat(),
                "used_at": voucher.used_at.isoformat() if voucher.used_at else None,
            },
        },
    )


def consent_changed(session: Session, account: Account, channel: str, granted: bool, now: datetime) -> int:
    """Hook of profile.set_consent: the member gave or withdrew marketing consent."""
    return enqueue(
        session,
        merchant_id=account.merchant_id,
        event_type="consent.changed",
        now=now,
        data=lambda: {
            "member": member_fields(account),
            "consent": {"channel": channel, "granted": bool(granted), "at": now.isoformat()},
        },
    )


def member_deleted(session: Session, account: Account, now: datetime) -> int:
    """Hook of member_app.account_closing.delete_account, in the transaction that anonymises the account. Only the
    member's id and number and the time: none of the erased personal data (names, email,
    consents, pictures) is sent, not even as it was before the deletion."""
    return enqueue(
        session,
        merchant_id=account.merchant_id,
        event_type="member.deleted",
        now=now,
        data={
            "member": {"id": account.id, "member_number": account.member_number},
            "deleted_at": now.isoformat(),
        },
    )


def on_member_enrolled(session: Session, event: events.MemberEnrolled) -> None:
    member_enrolled(session, event.account, event.now)


def on_consent_changed(session: Session, event: events.ConsentChanged) -> None:
    consent_changed(session, event.account, event.channel, event.granted, event.now)


def on_member_deleted(session: Session, event: events.MemberDeleted) -> None:
    member_deleted(session, event.account, event.now)


def on_voucher_redeemed(session: Session, event: events.VoucherRedeemed) -> None:
    voucher_redeemed(session, event.voucher, event.reward)


events.subscribe(events.MemberEnrolled, on_member_enrolled)
events.subscribe(events.ConsentChanged, on_consent_changed)
events.subscribe(events.MemberDeleted, on_member_deleted)
events.subscribe(events.VoucherRedeemed, on_voucher_redeemed)
