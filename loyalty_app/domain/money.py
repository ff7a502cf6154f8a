"""Parsing money typed by people at a till: "24.50", "24,50", "1 234,5" -> integer cents."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from loyalty_app.domain.errors import N_, LoyaltyError

MAX_PURCHASE_CENTS = 100_000_00  # 100,000.00 in the program currency: larger is a typo or fraud
_ALLOWED = re.compile(r"^\d+([.,]\d{1,2})?$")


def parse_amount_cents(text: str) -> int:
    """Return cents for a positive amount with at most two decimals, else a clear refusal."""
    cleaned = (text or "").strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not cleaned:
        raise LoyaltyError(N_("Enter the purchase amount."), code="amount_required")
    if not _ALLOWED.match(cleaned):
        raise LoyaltyError(N_("Enter the amount as a number, like 24.50."), code="invalid_amount")
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        raise LoyaltyError(N_("Enter the amount as a number, like 24.50."), code="invalid_amount") from None
    cents = int(value * 100)
    if cents <= 0:
        raise LoyaltyError(N_("The purchase amount must be positive."), code="invalid_amount")
    if cents > MAX_PURCHASE_CENTS:
        raise LoyaltyError(N_("This amount is too large for one purchase."), code="amount_too_large")
    return cents
