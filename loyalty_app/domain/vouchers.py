"""Voucher codes and the rules for using one.

A code is 20 symbols of Crockford's base-32 alphabet (no I, L, O, U) drawn with ``secrets``:
100 bits, unguessable, and easy to read out or type at a till. Typed codes are normalised
(case, dashes, spaces, O->0, I/L->1) before lookup.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from loyalty_app.domain.errors import N_, LoyaltyError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 20 × 5 bits = 100 bits
GROUP = 5
CODE_BITS = CODE_LENGTH * 5


class VoucherStatus(str, enum.Enum):
    ISSUED = "issued"
    USED = "used"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # derived from expires_at; never stored by use/cancel


def generate_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def normalise_code(typed: str) -> str:
    """Canonical grouped form of a typed code, or "" when it cannot be a valid code."""
    raw = (typed or "").upper().translate(_TRANSLATE)
    if len(raw) != CODE_LENGTH or any(c not in ALPHABET for c in raw):
        return ""
    return "-".join(raw[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def effective_status(status: str, expires_at: datetime, now: datetime) -> VoucherStatus:
    current = VoucherStatus(status)
    if current is VoucherStatus.ISSUED and now >= expires_at:
        return VoucherStatus.EXPIRED
    return current


def check_usable(status: str, expires_at: datetime, now: datetime) -> None:
    """Refuse a used, cancelled or expired voucher, saying which."""
    current = effective_status(status, expires_at, now)
    if current is VoucherStatus.USED:
        raise LoyaltyError(N_("This voucher was already used."), code="voucher_used")
    if current is VoucherStatus.CANCELLED:
        raise LoyaltyError(N_("This voucher was cancelled."), code="voucher_cancelled")
    if current is VoucherStatus.EXPIRED:
        raise LoyaltyError(N_("This voucher has expired."), code="voucher_expired")


def check_cancellable(status: str, expires_at: datetime, now: datetime) -> None:
    """Only an unused, unexpired voucher can be cancelled (its points come back)."""
    check_usable(status, expires_at, now)
