"""In-transaction events: a service publishes what it wrote; subscribers react in the same
transaction.

``publish(session, event)`` calls every handler subscribed to the event's type, in the order
they subscribed, synchronously, with the publisher's session. Whatever a handler writes is
therefore part of the publisher's transaction: a rollback discards it with the change itself,
and a handler's exception propagates to the publisher's caller exactly as if the publisher had
raised it (so the caller's transaction rolls back). Nothing is queued, retried or run later.

Subscribers register once, at import of their module (``subscribe(PointsPosted, handler)`` at
module level). So that no subscriber is ever missing, whoever publishes, the hub imports the
modules listed in ``SUBSCRIBER_MODULES`` before the first event is delivered (and before
``subscribers`` answers); the publishers themselves never import their subscribers, so there
is no import cycle. A module that subscribes must be listed there.

Events published today:

- ``PointsPosted`` (``services.ledger``): one per new ledger entry, after it is written and
  flushed: the entry asked for by ``ledger.post`` (never a replay), and each release/expire
  entry of the ledger's settlement (``settlement=True``). Subscribers: ``services.crm.webhooks``
  (the CRM outbox: points.credited/debited/released/expired).
- ``MemberEnrolled`` (``members.accounts``: sign-up), ``ConsentChanged`` (``members.profile``),
  ``MemberDeleted`` (``member_app.account_closing``, in the anonymising transaction) and
  ``VoucherRedeemed`` (``catalog.rewards.use_voucher``). Subscriber: ``crm.webhooks`` (the
  matching CRM events). The members and catalog contexts sit below the CRM one and never import it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

    from loyalty_app.models import Account, Reward, Voucher
    from loyalty_app.models.loyalty import LedgerEntry

__all__ = [
    "SUBSCRIBER_MODULES",
    "ConsentChanged",
    "MemberDeleted",
    "MemberEnrolled",
    "PointsPosted",
    "VoucherRedeemed",
    "publish",
    "subscribe",
    "subscribers",
    "unsubscribe",
]

# Every module that subscribes at import time (imported by the hub before the first delivery).
SUBSCRIBER_MODULES: tuple[str, ...] = ("loyalty_app.services.crm.webhooks.outbox",)


@dataclass(frozen=True)
class PointsPosted:
    """The ledger wrote ``entry`` (flushed: it has its id) for a member, in the caller's session."""

    entry: LedgerEntry
    merchant_id: int
    account_id: int
    kind: EntryKind
    points: int  # signed, as in the entry
    balance: BalanceSnapshot  # the member's counters right after the entry
    settlement: bool = False  # True: a release/expire entry written by the ledger's own catch-up

    @classmethod
    def of(cls, entry: LedgerEntry, *, settlement: bool = False) -> PointsPosted:
        return cls(
            entry=entry,
            merchant_id=entry.merchant_id,
            account_id=entry.account_id,
            kind=EntryKind(entry.kind),
            points=entry.points,
            balance=BalanceSnapshot.from_dict(entry.balance_after or {}),
            settlement=settlement,
        )


@dataclass(frozen=True)
class MemberEnrolled:
    """A member joined (in the sign-up transaction)."""

    account: Account
    now: datetime | None = None


@dataclass(frozen=True)
class ConsentChanged:
    """The member gave or withdrew marketing consent on ``channel``."""

    account: Account
    channel: str
    granted: bool
    now: datetime


@dataclass(frozen=True)
class MemberDeleted:
    """The member's account was anonymised (the row keeps only its id and number)."""

    account: Account
    now: datetime


@dataclass(frozen=True)
class VoucherRedeemed:
    """A voucher was used at a store."""

    voucher: Voucher
    reward: Reward


E = TypeVar("E")
Handler = Callable[["Session", Any], object]

_lock = threading.Lock()
_handlers: dict[type, tuple[Handler, ...]] = {}  # replaced, never mutated: publish reads without the lock
_loaded = False


def _key(handler: Handler) -> tuple[str, str]:
    return (getattr(handler, "__module__", ""), getattr(handler, "__qualname__", repr(handler)))


def subscribe(event_type: type[E], handler: Callable[[Session, E], object]) -> Callable[[Session, E], object]:
    """Call ``handler(session, event)`` for every ``event_type`` published; returns the handler.

    Subscribing the same function again (same module and name, e.g. a reloaded module)
    replaces it in place instead of calling it twice."""
    with _lock:
        current = _handlers.get(event_type, ())
        key = _key(handler)
        if any(_key(h) == key for h in current):
            _handlers[event_type] = tuple(handler if _key(h) == key else h for h in current)
        else:
            _handlers[event_type] = (*current, handler)
    return handler


def unsubscribe(event_type: type, handler: Handler) -> None:
    """Stop calling ``handler`` (tests); unknown handlers are ignored."""
    with _lock:
        key = _key(handler)
        _handlers[event_type] = tuple(h for h in _handlers.get(event_type, ()) if _key(h) != key)


def _load_subscribers() -> None:
    # Not under _lock: the import system already makes a second thread wait for a module another
    # thread is importing, and a subscriber module calls ``subscribe`` (which takes _lock) while
    # it is imported.
    global _loaded
    if not _loaded:
        for name in SUBSCRIBER_MODULES:
            importlib.import_module(name)  # an import error propagates: never drop events silently
        _loaded = True


def subscribers(event_type: type) -> tuple[Handler, ...]:
    """The handlers ``publish`` would call for ``event_type``, in order."""
    _load_subscribers()
    return _handlers.get(event_type, ())


def publish(session: Session, event: object) -> None:
    """Deliver ``event`` to its type's subscribers now, in ``session``'s transaction."""
    for handler in subscribers(type(event)):
        handler(session, event)
