"""Pure rules of the points ledger: amounts, expiry dates, lot allocation, request fingerprints.

No database and no Reflex here, so the rules that decide a member's points can be unit-tested
exhaustively and reused by the service layer, the benchmarks and the property tests' model.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalty_app.domain.errors import N_, Conflict, LoyaltyError

MAX_POINTS_PER_REQUEST = 10_000_000
MAX_IDEMPOTENCY_KEY_LENGTH = 200
MAX_REASON_LENGTH = 300
# Keys the ledger writes itself for job entries; callers may not use these prefixes.
RESERVED_KEY_PREFIXES = ("release:lot:", "expire:lot:")


class EntryKind(str, Enum):
    """Why a member's points changed. Each kind moves points in one direction (see below)."""

    EARN = "earn"  # credit: a new lot (pending or available)
    RELEASE = "release"  # pending -> available, written by the ledger itself
    REDEEM = "redeem"  # debit: drains lots
    EXPIRE = "expire"  # the remainder of an expired lot, written by the ledger itself
    DONATE = "donate"  # debit: drains lots
    REVERSAL = "reversal"  # undoes one earlier earn/redeem/donate/adjustment
    ADJUSTMENT = "adjustment"  # manual correction by staff, signed, with reason and author


CREDIT_KINDS = frozenset({EntryKind.EARN})
DEBIT_KINDS = frozenset({EntryKind.REDEEM, EntryKind.DONATE})


class ExpiryPolicy(str, Enum):
    NEVER = "never"
    AFTER_DAYS = "after_days"
    END_OF_MONTH = "end_of_month"
    END_OF_YEAR = "end_of_year"


class Rounding(str, Enum):
    FLOOR = "floor"
    ROUND = "round"  # half up: 2.5 -> 3
    CEIL = "ceil"


@dataclass(frozen=True)
class BalanceSnapshot:
    """A member's counters at one moment; ``available`` is what can be spent now."""

    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    spent: int = 0
    expired: int = 0
    donated: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "available": self.available,
            "pending": self.pending,
            "lifetime_earned": self.lifetime_earned,
            "spent": self.spent,
            "expired": self.expired,
            "donated": self.donated,
        }

    @classmethod
    def from_dict(cls, data: dict) -> BalanceSnapshot:
        return cls(**{name: int(data.get(name, 0)) for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class LedgerResult:
    """What one ledger request did. ``replayed`` is True when the idempotency key was already
    used with the same details: nothing was written and the first result is returned."""

    entry_id: int
    points: int  # signed: + credit, - debit (release: the points that became available)
    balance: BalanceSnapshot
    replayed: bool = False


@dataclass(frozen=True)
class LedgerRequest:
    """One credit, debit, adjustment or reversal, as handed to ``services.ledger.post``.

    ``points`` is signed: positive credits, negative debits (earn > 0; redeem/donate < 0;
    adjustment either way). For a reversal ``points`` is ignored (the original decides) and
    ``reverses_entry_id`` names the entry to undo; ``account_id`` may then be None.
    """

    merchant_id: int
    account_id: int | None
    kind: EntryKind
    points: int
    idempotency_key: str
    reason: str
    reason_params: dict | None = None
    rule_id: int | None = None
    source: dict | None = None
    pending_days: int | None = None  # None = the program's default (earn only)
    author_id: int | None = None
    reverses_entry_id: int | None = None
    now: datetime | None = None


# --------------------------------------------------------------------------- validation


def validate_points(points: object) -> int:
    """Refuse anything but a whole number from 1 to MAX_POINTS_PER_REQUEST."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise LoyaltyError(N_("Points must be a whole number."), code="invalid_points")
    if points <= 0:
        raise LoyaltyError(N_("Points must be more than zero."), code="invalid_points")
    if points > MAX_POINTS_PER_REQUEST:
        raise LoyaltyError(
            N_("Points must be at most {maximum}."),
            code="points_too_large",
            maximum=MAX_POINTS_PER_REQUEST,
        )
    return points


def _validate_json_dict(value: dict | None, what: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LoyaltyError(N_("Invalid ledger request details."), code="invalid_request", field=what)
    try:
        json.dumps(value, sort_keys=True, default=_json_default)
    except (TypeError, ValueError):
        raise LoyaltyError(N_("Invalid ledger request details."), code="invalid_request", field=what) from None
    return value


def validate_request(request: LedgerRequest) -> LedgerRequest:
    """Check a request before any database work; returns a normalised copy.

    Raises LoyaltyError with a stable ``code``; nothing has been written at that point.
    """
    try:
        kind = EntryKind(request.kind)
    except ValueError:
        raise LoyaltyError(N_("This kind of ledger entry is not allowed here."), code="kind_not_allowed") from None
    if kind in (EntryKind.RELEASE, EntryKind.EXPIRE):
        # Only the ledger's own jobs write these, from the lots' dates.
        raise LoyaltyError(N_("This kind of ledger entry is not allowed here."), code="kind_not_allowed")
    key = request.idempotency_key
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise LoyaltyError(N_("A request key is required."), code="invalid_idempotency_key")
    if key.startswith(RESERVED_KEY_PREFIXES):
        raise LoyaltyError(N_("This request key is reserved."), code="invalid_idempotency_key")
    reason = request.reason
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON_LENGTH:
        raise LoyaltyError(N_("A reason is required."), code="reason_required")
    reason_params = _validate_json_dict(request.reason_params, "reason_params")
    source = _validate_json_dict(request.source, "source")
    points = request.points
    if kind == EntryKind.REVERSAL:
        if request.reverses_entry_id is None:
            raise LoyaltyError(N_("Which entry should be reversed?"), code="invalid_request")
        points = 0
    elif kind == EntryKind.EARN:
        points = validate_points(points)
    elif kind in DEBIT_KINDS:
        # Canonically negative; an unsigned amount is accepted too, the kind gives the direction.
        magnitude = abs(points) if isinstance(points, int) and not isinstance(points, bool) else points
        points = -validate_points(magnitude)
    elif kind == EntryKind.ADJUSTMENT:
        if isinstance(points, bool) or not isinstance(points, int):
            raise LoyaltyError(N_("Points must be a whole number."), code="invalid_points")
        if points == 0:
            raise LoyaltyError(N_("An adjustment must change the balance."), code="invalid_points")
        sign = 1 if points > 0 else -1
        points = sign * validate_points(abs(points))
        if request.author_id is None:
            raise LoyaltyError(N_("A manual adjustment needs an author."), code="author_required")
    pending_days = request.pending_days
    if pending_days is not None:
        if isinstance(pending_days, bool) or not isinstance(pending_days, int) or not 0 <= pending_days <= 366:
            raise LoyaltyError(
                N_("The pending period must be between 0 and {maximum} days."),
                code="invalid_pending_days",
                maximum=366,
            )
    now = request.now
    if now is not None and now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return replace(
        request,
        kind=kind,
        points=points,
        idempotency_key=key,
        reason_params=reason_params,
        source=source,
    )


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json_safe(value: dict) -> dict:
    """Round-trip through JSON so what we store equals what we hash (Decimals -> strings...)."""
    return json.loads(json.dumps(value, sort_keys=True, default=_json_default))


def request_fingerprint(request: LedgerRequest) -> str:
    """A hash of everything that defines a request except the clock.

    A retried request arrives later, so ``now`` must not count; any other difference means the
    key is being reused for a different operation, which is refused as a conflict.
    """
    payload = {
        "merchant_id": request.merchant_id,
        "account_id": request.account_id if request.kind != EntryKind.REVERSAL else None,
        "kind": EntryKind(request.kind).value,
        "points": request.points,
        "reason": request.reason,
        "reason_params": request.reason_params or {},
        "rule_id": request.rule_id,
        "source": request.source or {},
        "pending_days": request.pending_days,
        "author_id": request.author_id,
        "reverses_entry_id": request.reverses_entry_id,
    }
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotency_conflict() -> Conflict:
    return Conflict(
        N_("This request was already processed with different details."),
        code="idempotency_conflict",
    )


# --------------------------------------------------------------------------- purchase points


def points_for_purchase(amount: Decimal | int | str | float, points_per_unit: int, rounding: Rounding | str) -> int:
    """Points for a purchase amount (in currency units), rounded by the program's rule.

    Floats go through ``str`` so 2.675 means 2.675, not 2.67499999...
    """
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except InvalidOperation:
        raise LoyaltyError(N_("The amount must be a number."), code="invalid_amount") from None
    if not value.is_finite() or value < 0:
        raise LoyaltyError(N_("The amount must be zero or more."), code="invalid_amount")
    mode = {Rounding.FLOOR: ROUND_FLOOR, Rounding.ROUND: ROUND_HALF_UP, Rounding.CEIL: ROUND_CEILING}[Rounding(rounding)]
    return int((value * points_per_unit).quantize(Decimal(1), rounding=mode))


# --------------------------------------------------------------------------- expiry


def merchant_zone(name: str | None) -> ZoneInfo:
    """The merchant's zone; an unknown name falls back to UTC rather than breaking every credit."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _start_of_next_month(local: datetime) -> datetime:
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return local.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def compute_expiry(
    available_at: datetime,
    policy: ExpiryPolicy | str,
    expiry_days: int,
    timezone_name: str | None = "UTC",
) -> datetime | None:
    """When a lot's points stop being spendable (the first instant they are gone), in UTC.

    The clock starts when the points become available (after any pending period):
    - ``after_days``: exactly ``expiry_days`` days later;
    - ``end_of_month``: at the end of the merchant-local month in which ``available_at +
      expiry_days`` falls (points live at least ``expiry_days`` days, then to the month's end);
    - ``end_of_year``: likewise to the end of that local calendar year;
    - ``never``: None.
    "End of" means the first instant of the next month/year in the merchant's timezone.
    """
    if available_at.utcoffset() is None:
        raise ValueError("available_at must be timezone-aware")
    policy = ExpiryPolicy(policy)
    if policy == ExpiryPolicy.NEVER:
        return None
    base = available_at + timedelta(days=expiry_days)
    utc = ZoneInfo("UTC")
    if policy == ExpiryPolicy.AFTER_DAYS:
        return base.astimezone(utc)
    zone = merchant_zone(timezone_name)
    local = base.astimezone(zone)
    if policy == ExpiryPolicy.END_OF_MONTH:
        end_local = _start_of_next_month(local)
    else:
        end_local = local.replace(year=local.year + 1, month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    return end_local.replace(tzinfo=zone).astimezone(utc)


# --------------------------------------------------------------------------- lot allocation


@dataclass(frozen=True)
class LotView:
    """What allocation needs to know about an open, spendable lot."""

    lot_id: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None


def drain_order_key(lot: LotView) -> tuple:
    """Soonest-expiring first, never-expiring last, then oldest first (then by id)."""
    never = lot.expires_at is None
    return (never, lot.expires_at if not never else lot.available_at, lot.available_at, lot.lot_id)


def allocate(lots: Iterable[LotView], needed: int) -> list[tuple[int, int]]:
    """Pick ``(lot_id, points)`` pairs that cover ``needed``, draining in ``drain_order_key``.

    Raises ``InsufficientPoints`` (a LoyaltyError) when the lots do not hold enough.
    """
    ordered = sorted((lot for lot in lots if lot.remaining > 0), key=drain_order_key)
    total = sum(lot.remaining for lot in ordered)
    if needed > total:
        raise insufficient_points(available=total, needed=needed)
    takes: list[tuple[int, int]] = []
    left = needed
    for lot in ordered:
        if left == 0:
            break
        take = min(lot.remaining, left)
        takes.append((lot.lot_id, take))
        left -= take
    return takes


def insufficient_points(*, available: int, needed: int) -> LoyaltyError:
    return LoyaltyError(
        N_("Not enough points: you have {available}, this needs {needed}."),
        code="insufficient_points",
        available=available,
        needed=needed,
    )
