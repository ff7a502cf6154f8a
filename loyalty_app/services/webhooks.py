"""CRM webhooks: the endpoints an admin manages, events written to an outbox in the business
transaction, and their delivery.

Outbox: ``enqueue`` adds one ``WebhookDelivery`` row per subscribed, active endpoint in the
caller's transaction (member sign-up, ledger post, release and expiry of points, voucher use,
consent change, account deletion); the ledger's entries arrive as ``services.events.PointsPosted``,
which this module subscribes to at import. A crash loses no event and a rolled-back change sends
nothing. When the merchant has no active endpoint, the only cost is one indexed query
(``webhookendpoint.merchant_id``) per event.

Delivery (``deliver_due``): claim one due row at a time in a short write transaction
(SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, then a conditional UPDATE that counts the
attempt and pushes ``next_attempt_at`` forward by a lease; on SQLite the conditional UPDATE
alone, under BEGIN IMMEDIATE), then POST outside any transaction, then record the outcome only if
the row is still at that attempt. Two workers therefore never send the same attempt; a worker
that dies mid-send leaves the row due again when the lease ends (at-least-once: receivers
deduplicate on ``X-Loyalty-Delivery``). 2xx = delivered; anything else is retried after
1 min, 5 min, 30 min, 2 h, then every 12 h (each +-20 % jitter), and failed after 8 attempts.

Signature: ``X-Loyalty-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` with
``X-Loyalty-Timestamp`` in Unix seconds (README "CRM webhooks" has the receiver's check).

SSRF: endpoints must be ``https://`` on a public address. Saving refuses IP literals and names
resolving to loopback, private, link-local, shared or reserved ranges; every send resolves the
name again, refuses the same ranges and connects to the address it checked (TLS still verifies
the certificate for the name), so a DNS answer that changes after the check cannot redirect the
request inside the network. Redirects are not followed and proxies from the environment are not
used. ``WEBHOOK_ALLOW_HTTP_LOCALHOST=1`` (tests, development) additionally allows
``http(s)://localhost`` / ``127.0.0.1`` / ``[::1]`` and nothing else private.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import re
import secrets
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import bindparam, update
from sqlalchemy import event as sa_event
from sqlalchemy import select as sa_select
from sqlalchemy import true as sa_true
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import get_engine, read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.domain.text import one_line
from loyalty_app.models import Account, LedgerEntry, PointLot, Reward, Voucher
from loyalty_app.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from loyalty_app.services import admin_audit, events, permissions
from loyalty_app.services.permissions import Action, Actor
from loyalty_app.settings import Settings, get_settings

log = logging.getLogger("loyalty_app.webhooks")

TEST_EVENT = "webhook.test"
EVENT_LABELS = {
    "member.enrolled": N_("A member joins"),
    "points.credited": N_("Points credited"),
    "points.debited": N_("Points debited"),
    "points.released": N_("Pending points released"),
    "points.expired": N_("Points expired"),
    "voucher.redeemed": N_("Voucher used in store"),
    "consent.changed": N_("Marketing consent changed"),
    "member.deleted": N_("A member deletes their account"),
}
assert tuple(EVENT_LABELS) == WEBHOOK_EVENTS  # the console lists the labels in this order

MAX_ATTEMPTS = 8
# Wait after attempt n (index n-1) before attempt n+1; the last value repeats.
RETRY_SCHEDULE_S = (60, 300, 1800, 7200, 43200)
JITTER = 0.2
TIMEOUT_S = 5.0
CLAIM_LEASE = timedelta(seconds=60)  # longer than a send can take (TIMEOUT_S per phase)
MAX_ENDPOINTS = 10
URL_MAX = 500
DESCRIPTION_MAX = 120
ERROR_MAX = 300
POLL_SECONDS = int(os.environ.get("WEBHOOK_POLL_SECONDS", "30"))
USER_AGENT = "LoyaltyWebhooks/1"
# Kick a delivery run in a background thread right after a transaction that enqueued events
# commits (tests switch it off to drive delivery themselves).
KICK_AFTER_COMMIT = True
# Keys of a ledger entry's ``source`` a CRM may see: ids and the merchant's own references.
_SOURCE_FIELDS = ("store_id", "reward_id", "charity_id", "receipt", "amount_cents", "action")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Resolver = Callable[[str, int], list[str]]
Sender = Callable[..., int]


# =============================================================================== errors


class WebhookFormInvalid(LoyaltyError):
    """Refused fields of the endpoint form, each with its own translatable error (nothing saved)."""

    def __init__(self, errors: dict[str, LoyaltyError]):
        first = next(iter(errors.values()))
        super().__init__(first.message, code=first.code, **first.params)
        self.errors = dict(errors)


def _not_found() -> NotFound:
    return NotFound(N_("Webhook not found."), code="webhook_not_found")


# =============================================================================== signatures


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Loyalty-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance_s: int = 300) -> bool:
    """What a receiver does: constant-time compare, and refuse stale timestamps (replays)."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance_s
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def body_bytes(payload: dict) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


# =============================================================================== URL checks


def _resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _field_error(message: str, code: str, **params) -> WebhookFormInvalid:
    return WebhookFormInvalid({"url": LoyaltyError(message, code=code, field="url", **params)})


PRIVATE_ADDRESS = N_("This address is on this machine or a private network. Use your CRM's public https:// address.")


def validate_url(url: str, *, settings: Settings | None = None, resolve: Resolver | None = None) -> str:
    """The cleaned endpoint URL, or WebhookFormInvalid with the ``url`` field's reason."""
    settings = settings or get_settings()
    raw = (url or "").strip()
    if not raw:
        raise _field_error(N_("Enter the web address of your CRM's webhook."), "url_required")
    if len(raw) > URL_MAX:
        raise _field_error(N_("A web address can have at most {maximum} characters."), "url_too_long", maximum=URL_MAX)
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme.lower() not in ("http", "https") or not host or port == -1 or any(c.isspace() for c in raw):
        raise _field_error(N_("Enter a full web address, like https://crm.example.com/hooks/loyalty."), "url_invalid")
    if parts.username or parts.password:
        raise _field_error(
            N_("Leave the user name and password out of the address: the signature proves who is sending."), "url_credentials"
        )
    if parts.fragment:
        raise _field_error(N_("Enter a full web address, like https://crm.example.com/hooks/loyalty."), "url_invalid")
    if host in _LOOPBACK_NAMES:
        if settings.webhook_allow_http_localhost:
            return raw
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    if parts.scheme.lower() != "https":
        raise _field_error(N_("Use an https:// address: events carry member data."), "url_not_https")
    literal = _ip_literal(host)
    if literal is not None:
        if not _is_public(literal):
            raise _field_error(PRIVATE_ADDRESS, "url_private")
        return raw
    if "." not in host or host.endswith((".localhost", ".local", ".internal", ".lan", ".home.arpa")):
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    try:
        addresses = (resolve or _resolve)(host, port or 443)
    except OSError:
        addresses = []  # not resolvable now: every send checks again
    if any(not _is_public(a) for a in addresses):
        raise _field_error(PRIVATE_ADDRESS, "url_private")
    return raw


# Why an attempt failed. The delivery row keeps the English text (logs, support, the API); the
# console shows it translated (``failure_parts`` reads it back with the same templates, so the
# two cannot drift apart). Technical details ({reason}: the HTTP library's error) stay as they are.
FAILURES = {
    "not_public": N_("refused: {host} is not a public address"),
    "not_https": N_("refused: not https"),
    "unresolved": N_("could not resolve {host}"),
    "resolves_private": N_("refused: {host} resolves to a non-public address ({address})"),
    "timeout": N_("timeout after {seconds} s"),
    "connection": N_("connection failed: {reason}"),
    "http": N_("HTTP {code}"),
}
_FAILURE_PATTERNS = [
    (
        msgid,
        re.compile(
            "".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(re.split(r"\{(\w+)\}", msgid)))
        ),
    )
    for msgid in FAILURES.values()
]


def _failure(key: str, **params) -> str:
    return FAILURES[key].format(**params)[:ERROR_MAX]


def failure_parts(error: str) -> tuple[str, dict] | None:
    """(msgid, params) of a stored failure text, for showing it in the admin's language."""
    for msgid, pattern in _FAILURE_PATTERNS:
        if match := pattern.fullmatch(error or ""):
            return msgid, match.groupdict()
    return None


class _Refused(Exception):
    """A send that must not happen (the destination is not public any more)."""


@dataclass(frozen=True)
class _Destination:
    url: str
    headers: dict[str, str]
    extensions: dict


def destination(url: str, *, settings: Settings, resolve: Resolver | None = None) -> _Destination:
    """Where to connect for ``url``: checked again at send time and pinned to the checked address
    (the Host header and TLS name stay the URL's), so DNS cannot change it after the check."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    scheme = parts.scheme.lower()
    if host in _LOOPBACK_NAMES:
        if settings.webhook_allow_http_localhost:
            return _Destination(url, {}, {})
        raise _Refused(_failure("not_public", host=host))
    if scheme != "https":
        raise _Refused(_failure("not_https"))
    port = parts.port or 443
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = (resolve or _resolve)(host, port)
        except OSError:
            raise _Refused(_failure("unresolved", host=host)) from None
    if not addresses:
        raise _Refused(_failure("unresolved", host=host))
    bad = [a for a in addresses if not _is_public(a)]
    if bad:
        raise _Refused(_failure("resolves_private", host=host, address=bad[0]))
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    pinned = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    host_header = parts.hostname if not parts.port else f"{parts.hostname}:{parts.port}"
    return _Destination(pinned, {"Host": host_header}, {"sni_hostname": host})


# =============================================================================== the outbox


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
    points.debited (negative). The ledger's own settlement (``ledger._catch_up``: at the start of
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
    """Subscriber of the ledger's ``PointsPosted`` (registered below, at import; ``services.events``
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
    """Hook of profile.delete_account, in the transaction that anonymises the account. Only the
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


# =============================================================================== delivery


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    results: list[tuple[int, str, int | None, str]] = field(default_factory=list)  # (delivery id, status, code, error)

    @property
    def sent(self) -> int:
        return self.delivered + self.retried + self.failed


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    endpoint_id: int
    attempt: int
    event_type: str
    event_id: str
    payload: dict
    url: str
    secret: str


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long after failed attempt ``attempt`` (1-based) the next one is due, with jitter."""
    base = RETRY_SCHEDULE_S[min(attempt, len(RETRY_SCHEDULE_S)) - 1]
    return timedelta(seconds=base * (rng or random).uniform(1 - JITTER, 1 + JITTER))


def _due(stmt, now: datetime, merchant_id: int | None, delivery_id: int | None):
    stmt = stmt.join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, WebhookEndpoint.is_active.is_(True)
    )
    if merchant_id is not None:
        stmt = stmt.where(WebhookDelivery.merchant_id == merchant_id)
    if delivery_id is not None:
        stmt = stmt.where(WebhookDelivery.id == delivery_id)
    return stmt


def _any_due(engine: Engine, now: datetime, *, merchant_id: int | None, delivery_id: int | None) -> bool:
    with read_session(engine) as s:
        return s.exec(_due(select(WebhookDelivery.id), now, merchant_id, delivery_id).limit(1)).first() is not None


def _claim_next(
    engine: Engine, now: datetime, *, merchant_id: int | None, delivery_id: int | None, skip_endpoints: set[int]
) -> _Claim | None:
    """Take the next due delivery for this worker, counting the attempt; None when none is due."""
    with write_session(engine) as s:
        stmt = _due(select(WebhookDelivery.id, WebhookDelivery.attempts), now, merchant_id, delivery_id)
        stmt = stmt.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1)
        if skip_endpoints:
            stmt = stmt.where(WebhookDelivery.endpoint_id.not_in(sorted(skip_endpoints)))  # type: ignore[attr-defined]
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
        row = s.exec(stmt).first()
        if row is None:
            return None
        found_id, seen = row
        claimed = s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == found_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.attempts == seen,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(attempts=seen + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now)
        )
        if claimed.rowcount != 1:
            return None  # another worker took it between our read and write (not reachable under our locks)
        delivery = s.get(WebhookDelivery, found_id)
        endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
        return _Claim(
            found_id,
            endpoint.id,
            seen + 1,
            delivery.event_type,
            delivery.event_id,
            dict(delivery.payload),
            endpoint.url,
            endpoint.secret,
        )


def _record(engine: Engine, claim: _Claim, now: datetime, *, code: int | None, error: str, rng: random.Random | None) -> str:
    """Write the outcome of this attempt, unless the row moved on meanwhile; returns the status."""
    ok = code is not None and 200 <= code < 300
    values: dict = {"last_status_code": code, "last_error": error[:ERROR_MAX], "updated_at": now}
    if ok:
        status = "delivered"
        values.update(status=status, delivered_at=now, last_error="")
    elif claim.attempt >= MAX_ATTEMPTS:
        status = "failed"
        values.update(status=status)
    else:
        status = "pending"
        values.update(next_attempt_at=now + retry_delay(claim.attempt, rng))
    with write_session(engine) as s:
        s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,
                WebhookDelivery.attempts == claim.attempt,
                WebhookDelivery.status == "pending",
            )
            .values(**values)
        )
    return status


def http_send(client, dest: _Destination, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; the response body is never read (it could be huge)."""
    with client.stream(
        "POST", dest.url, content=body, headers={**headers, **dest.headers}, extensions=dest.extensions or None
    ) as response:
        return response.status_code


def _attempt(
    client, claim: _Claim, now: datetime, *, settings: Settings, resolve: Resolver | None, send: Sender
) -> tuple[int | None, str, bool]:
    """Send one claimed attempt: (status code or None, error text, endpoint unreachable)."""
    import httpx

    body = body_bytes(claim.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Loyalty-Event": claim.event_type,
        "X-Loyalty-Delivery": claim.event_id,
        "X-Loyalty-Timestamp": timestamp,
        "X-Loyalty-Signature": sign(claim.secret, timestamp, body),
    }
    try:
        dest = destination(claim.url, settings=settings, resolve=resolve)
        code = send(client, dest, body, headers)
    except _Refused as err:
        return None, str(err), True
    except httpx.TimeoutException:
        return None, _failure("timeout", seconds=f"{TIMEOUT_S:g}"), True
    except httpx.HTTPError as err:
        return None, _failure("connection", reason=f"{type(err).__name__}: {err}"), True
    if 200 <= code < 300:
        return code, "", False
    return code, _failure("http", code=code), False


def deliver_due(
    engine: Engine | None = None,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    merchant_id: int | None = None,
    delivery_id: int | None = None,
    limit: int = 100,
    settings: Settings | None = None,
    resolve: Resolver | None = None,
    send: Sender = http_send,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send what is due, one claimed attempt at a time, up to ``limit`` attempts.

    ``now``/``clock``: the time (tests inject it; ``now`` fixes it for the whole run). An
    endpoint that does not answer is skipped for the rest of the run (its other deliveries wait
    for their next round instead of each waiting for a timeout).
    """
    import httpx

    engine = engine or get_engine()
    settings = settings or get_settings()
    tick = clock or ((lambda: now) if now is not None else utcnow)
    report = DeliveryReport()
    unreachable: set[int] = set()
    client = None  # made on the first claim: an idle round costs one read query, no write lock
    if not _any_due(engine, tick(), merchant_id=merchant_id, delivery_id=delivery_id):
        return report
    try:
        for _ in range(max(0, limit)):
            at = tick()
            claim = _claim_next(engine, at, merchant_id=merchant_id, delivery_id=delivery_id, skip_endpoints=unreachable)
            if claim is None:
                break
            if client is None:
                client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False)
            code, error, down = _attempt(client, claim, at, settings=settings, resolve=resolve, send=send)
            if down:
                unreachable.add(claim.endpoint_id)
            status = _record(engine, claim, at, code=code, error=error, rng=rng)
            counter = {"delivered": "delivered", "pending": "retried", "failed": "failed"}[status]
            setattr(report, counter, getattr(report, counter) + 1)
            report.results.append((claim.delivery_id, status, code, error))
    finally:
        if client is not None:
            client.close()
    if report.sent:
        log.info("webhooks: %d delivered, %d to retry, %d failed", report.delivered, report.retried, report.failed)
    return report


# --------------------------------------------------------------------- kicks and the poll loop

_kick_lock = threading.Lock()
_kicking: dict[int, bool] = {}  # merchant id -> another run was asked for while one runs


def _kick_after_commit(session: Session, merchant_id: int) -> None:
    if not KICK_AFTER_COMMIT:
        return
    pending: set[int] = session.info.setdefault("webhook_kicks", set())
    if not pending:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine

        def _after_commit(_session) -> None:
            for merchant in sorted(pending):
                kick(engine, merchant)
            pending.clear()

        sa_event.listen(session, "after_commit", _after_commit, once=True)
        sa_event.listen(session, "after_rollback", lambda _s: pending.clear(), once=True)
    pending.add(merchant_id)


def kick(engine: Engine, merchant_id: int) -> None:
    """Deliver this merchant's due events now, in a background thread (one per merchant)."""
    with _kick_lock:
        if merchant_id in _kicking:
            _kicking[merchant_id] = True
            return
        _kicking[merchant_id] = False
    threading.Thread(target=_kick_loop, args=(engine, merchant_id), daemon=True, name=f"webhooks-{merchant_id}").start()


def _kick_loop(engine: Engine, merchant_id: int) -> None:
    try:
        while True:
            deliver_due(engine, merchant_id=merchant_id, limit=50)
            with _kick_lock:
                if not _kicking.get(merchant_id):
                    _kicking.pop(merchant_id, None)
                    return
                _kicking[merchant_id] = False
    except Exception:
        log.exception("webhook delivery after commit failed")
        with _kick_lock:
            _kicking.pop(merchant_id, None)


async def webhook_delivery_task() -> None:
    """Lifespan task of every backend worker: deliver due events (retries) every POLL_SECONDS.
    Workers share the work safely through the claim; an idle round is one indexed query. Its
    own thread, not asyncio's shared pool: a slow CRM must not hold threads members' events need."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks")
    try:
        while True:
            try:
                await loop.run_in_executor(executor, functools.partial(deliver_due, get_engine()))
            except Exception:
                log.exception("webhook delivery round failed")
            await asyncio.sleep(POLL_SECONDS)
    finally:
        executor.shutdown(wait=False)  # never block the event loop on a send in flight


# =============================================================================== the console


@dataclass(frozen=True)
class EndpointView:
    endpoint_id: int
    url: str
    description: str
    events: tuple[str, ...]
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: int
    created_at: datetime
    event_type: str
    event_id: str
    endpoint_url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None  # pending only
    last_status_code: int | None
    last_error: str


def _admin(engine: Engine, actor: Actor | None) -> Actor:
    return permissions.authorize(engine, actor, Action.ADMIN_EXPORT, merchant_id=actor.merchant_id if actor else 0)


def _view(row: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        row.id,
        row.url,
        row.description,
        tuple(e for e in WEBHOOK_EVENTS if e in (row.events or ())),
        row.is_active,
        row.created_at,
        row.updated_at,
    )


def _own_endpoint(s: Session, admin: Actor, endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    row = s.exec(stmt).first()
    if row is None or row.merchant_id != admin.merchant_id:
        raise _not_found()
    return row


def list_endpoints(engine: Engine, actor: Actor | None) -> list[EndpointView]:
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        rows = s.exec(
            select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == admin.merchant_id).order_by(WebhookEndpoint.id)
        ).all()
        return [_view(r) for r in rows]


def recent_deliveries(engine: Engine, actor: Actor | None, *, limit: int = 50) -> list[DeliveryView]:
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        rows = s.exec(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.merchant_id == admin.merchant_id)
            .order_by(WebhookDelivery.id.desc())  # type: ignore[union-attr]
            .limit(max(1, min(limit, 200)))
        ).all()
    return [
        DeliveryView(
            d.id,
            d.created_at,
            d.event_type,
            d.event_id,
            url,
            d.status,
            d.attempts,
            d.next_attempt_at if d.status == "pending" else None,
            d.last_status_code,
            d.last_error,
        )
        for d, url in rows
    ]


def _clean_form(data: dict, *, settings: Settings, resolve: Resolver | None) -> tuple[str, str, list[str], bool]:
    """Check every field before anything is written; all refusals come back at once."""
    errors: dict[str, LoyaltyError] = {}
    url = ""
    try:
        url = validate_url(str(data.get("url", "") or ""), settings=settings, resolve=resolve)
    except WebhookFormInvalid as err:
        errors.update(err.errors)
    description = one_line(data.get("description", "") or "")
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = LoyaltyError(
            N_("The description can have at most {maximum} characters."),
            code="description_too_long",
            field="description",
            maximum=DESCRIPTION_MAX,
        )
    raw_events = data.get("events")
    if isinstance(raw_events, str):
        wanted = [e for e in raw_events.split(",") if e]
    elif isinstance(raw_events, (list, tuple, set)):
        wanted = [str(e) for e in raw_events]
    else:  # checkboxes named "event:<type>"
        wanted = [
            k.split(":", 1)[1] for k, v in data.items() if str(k).startswith("event:") and v not in (False, "", None, "off")
        ]
    if any(e not in WEBHOOK_EVENTS for e in wanted):
        errors["events"] = LoyaltyError(N_("Choose events from the list."), code="unknown_event", field="events")
    elif not wanted:
        errors["events"] = LoyaltyError(N_("Choose at least one event to send."), code="events_required", field="events")
    active = str(data.get("is_active", "on")).lower() not in ("", "0", "false", "off", "no")
    if errors:
        raise WebhookFormInvalid(errors)
    return url, description, [e for e in WEBHOOK_EVENTS if e in wanted], active


def save_endpoint(
    engine: Engine,
    actor: Actor | None,
    data: dict,
    *,
    endpoint_id: int | None = None,
    settings: Settings | None = None,
    resolve: Resolver | None = None,
    now: datetime | None = None,
) -> tuple[EndpointView, str | None]:
    """Create (``endpoint_id`` None) or edit an endpoint. Returns its view and, on creation only,
    the new secret (shown once; "reveal" shows it again). Refused fields raise
    WebhookFormInvalid; nothing is half-saved."""
    admin = _admin(engine, actor)
    url, description, events, active = _clean_form(data, settings=settings or get_settings(), resolve=resolve)
    now = now or utcnow()
    with write_session(engine) as s:
        secret = None
        if endpoint_id:
            row = _own_endpoint(s, admin, endpoint_id, lock=True)
            changed = {
                k
                for k, v in (("url", url), ("description", description), ("events", events), ("is_active", active))
                if getattr(row, k) != v
            }
            row.url, row.description, row.events, row.is_active, row.updated_at = url, description, events, active, now
            action = "webhook.update"
        else:
            count = len(s.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.merchant_id == admin.merchant_id)).all())
            if count >= MAX_ENDPOINTS:
                raise LoyaltyError(
                    N_("A program can have at most {maximum} webhooks."), code="too_many_webhooks", maximum=MAX_ENDPOINTS
                )
            secret = new_secret()
            row = WebhookEndpoint(
                merchant_id=admin.merchant_id,
                url=url,
                description=description,
                secret=secret,
                events=events,
                is_active=active,
                created_at=now,
                updated_at=now,
            )
            changed = {"url", "events"}
            action = "webhook.create"
        s.add(row)
        s.flush()
        admin_audit.record(
            s,
            admin,
            action,
            target=url[:120],
            detail={"endpoint_id": row.id, "events": events, "active": active, "changed": sorted(changed)},
            now=now,
        )
        return _view(row), secret


def set_active(
    engine: Engine, actor: Actor | None, endpoint_id: int, active: bool, *, now: datetime | None = None
) -> EndpointView:
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id, lock=True)
        if row.is_active != active:
            row.is_active, row.updated_at = active, now
            s.add(row)
            admin_audit.record(
                s,
                admin,
                "webhook.enable" if active else "webhook.disable",
                target=row.url[:120],
                detail={"endpoint_id": row.id},
                now=now,
            )
        return _view(row)


def reveal_secret(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> str:
    """The endpoint's signing secret, for the admin to paste into the CRM (audited)."""
    admin = _admin(engine, actor)
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id)
        admin_audit.record(s, admin, "webhook.reveal_secret", target=row.url[:120], detail={"endpoint_id": row.id}, now=now)
        return row.secret


def rotate_secret(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> str:
    """A new secret at once: attempts from now on (retries included) are signed with it."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id, lock=True)
        row.secret, row.updated_at = new_secret(), now
        s.add(row)
        admin_audit.record(s, admin, "webhook.rotate_secret", target=row.url[:120], detail={"endpoint_id": row.id}, now=now)
        return row.secret


def send_test_event(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> int:
    """Queue a ``webhook.test`` event for this endpoint; returns the delivery id (the console
    then delivers it at once with ``deliver_due(delivery_id=...)``)."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id)
        if not row.is_active:
            raise LoyaltyError(N_("Turn this webhook on before sending a test event."), code="webhook_inactive")
        delivery = _add_delivery(
            s,
            admin.merchant_id,
            row.id,
            TEST_EVENT,
            {"message": "Test event from the loyalty console", "endpoint_id": row.id},
            now,
        )
        s.flush()
        admin_audit.record(s, admin, "webhook.test", target=row.url[:120], detail={"endpoint_id": row.id}, now=now)
        return delivery.id


def retry_now(engine: Engine, actor: Actor | None, delivery_id: int, *, now: datetime | None = None) -> None:
    """Make a failed (or waiting) delivery due now: one more attempt, even after the last one."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = s.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()).first()
        if row is None or row.merchant_id != admin.merchant_id:
            raise NotFound(N_("Delivery not found."), code="delivery_not_found")
        if row.status == "delivered":
            raise LoyaltyError(N_("This event was already delivered."), code="already_delivered")
        # Attempts keep counting: past MAX_ATTEMPTS a failure marks it failed again at once.
        row.status, row.next_attempt_at, row.updated_at = "pending", now, now
        s.add(row)
        admin_audit.record(s, admin, "webhook.retry", target=row.event_id, detail={"delivery_id": row.id}, now=now)
