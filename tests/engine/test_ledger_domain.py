"""Pure ledger rules: allocation order, expiry dates, purchase rounding, request validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.domain.ledger import (
    MAX_POINTS_PER_REQUEST,
    EntryKind,
    LedgerRequest,
    LotView,
    allocate,
    compute_expiry,
    points_for_purchase,
    request_fingerprint,
    validate_points,
    validate_request,
)

UTC = UTC


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- allocation


def test_allocation_drains_soonest_expiring_first_and_never_expiring_last():
    lots = [
        LotView(1, 10, at(2024, 1, 1), None),  # never expires, oldest
        LotView(2, 10, at(2024, 3, 1), at(2025, 3, 1)),
        LotView(3, 10, at(2024, 2, 1), at(2024, 6, 1)),  # expires soonest
        LotView(4, 10, at(2024, 4, 1), None),  # never expires, newest
    ]
    assert allocate(lots, 35) == [(3, 10), (2, 10), (1, 10), (4, 5)]


def test_allocation_breaks_expiry_ties_by_age_then_id():
    same_expiry = at(2024, 12, 1)
    lots = [
        LotView(7, 5, at(2024, 2, 1), same_expiry),
        LotView(5, 5, at(2024, 1, 1), same_expiry),
        LotView(6, 5, at(2024, 1, 1), same_expiry),
    ]
    assert allocate(lots, 12) == [(5, 5), (6, 5), (7, 2)]


def test_allocation_takes_only_what_is_needed_and_skips_empty_lots():
    lots = [LotView(1, 0, at(2024, 1, 1), at(2024, 2, 1)), LotView(2, 30, at(2024, 1, 2), None)]
    assert allocate(lots, 7) == [(2, 7)]


def test_allocation_refuses_when_lots_do_not_cover_the_amount():
    lots = [LotView(1, 4, at(2024, 1, 1), None), LotView(2, 5, at(2024, 1, 1), None)]
    with pytest.raises(LoyaltyError) as refused:
        allocate(lots, 10)
    assert refused.value.code == "insufficient_points"
    assert refused.value.params == {"available": 9, "needed": 10}


# --------------------------------------------------------------------------- expiry


def test_never_policy_has_no_expiry():
    assert compute_expiry(at(2024, 5, 5), "never", 365) is None


@pytest.mark.parametrize(
    ("available_at", "days", "expected"),
    [
        (at(2024, 2, 28, 10), 1, at(2024, 2, 29, 10)),  # leap day exists in 2024
        (at(2023, 2, 28, 10), 1, at(2023, 3, 1, 10)),  # and not in 2023
        (at(2024, 1, 1), 365, at(2024, 12, 31)),  # 2024 has 366 days
        (at(2023, 1, 1), 365, at(2024, 1, 1)),
    ],
)
def test_after_days_counts_exact_days(available_at, days, expected):
    assert compute_expiry(available_at, "after_days", days) == expected


@pytest.mark.parametrize(
    ("available_at", "days", "expected"),
    [
        (at(2024, 1, 31, 12), 29, at(2024, 3, 1)),  # lands on 29 Feb 2024: gone at 1 March
        (at(2023, 1, 31, 12), 28, at(2023, 3, 1)),  # lands on 28 Feb 2023
        (at(2024, 1, 15), 0, at(2024, 2, 1)),
        (at(2024, 12, 10), 0, at(2025, 1, 1)),  # December rolls into the next year
        (at(2024, 3, 1), 0, at(2024, 4, 1)),  # exactly at a month start: lives to its end
    ],
)
def test_end_of_month_expires_at_the_month_end_after_the_minimum_days(available_at, days, expected):
    assert compute_expiry(available_at, "end_of_month", days) == expected


def test_end_of_month_uses_the_merchant_timezone():
    # 31 Jan 23:30 UTC is already 1 Feb in Bucharest (UTC+2): points live to the end of
    # February 2024 local time (a leap February), i.e. 1 March 00:00 local = 29 Feb 22:00 UTC.
    assert compute_expiry(at(2024, 1, 31, 23, 30), "end_of_month", 0, "Europe/Bucharest") == at(2024, 2, 29, 22)


def test_end_of_month_across_daylight_saving_change():
    # Bucharest is UTC+3 on 1 April 2024 (summer time started 31 March).
    assert compute_expiry(at(2024, 3, 10), "end_of_month", 0, "Europe/Bucharest") == at(2024, 3, 31, 21)


@pytest.mark.parametrize(
    ("available_at", "days", "tz", "expected"),
    [
        (at(2024, 6, 1), 0, "UTC", at(2025, 1, 1)),
        (at(2024, 6, 1), 365, "UTC", at(2026, 1, 1)),  # 2024-06-01 + 365 days is in 2025
        (at(2024, 2, 29), 366, "UTC", at(2026, 1, 1)),  # leap-day earn, one leap year later
        (at(2024, 12, 31, 23, 30), 0, "Europe/Bucharest", at(2025, 12, 31, 22)),  # already 2025 locally
        (at(2024, 12, 31, 23, 30), 0, "America/New_York", at(2025, 1, 1, 5)),  # still 2024 locally
    ],
)
def test_end_of_year_expires_at_the_local_year_end(available_at, days, tz, expected):
    assert compute_expiry(available_at, "end_of_year", days, tz) == expected


def test_expiry_refuses_naive_datetimes_and_unknown_policies():
    with pytest.raises(ValueError):
        compute_expiry(datetime(2024, 1, 1), "after_days", 1)
    with pytest.raises(ValueError):
        compute_expiry(at(2024, 1, 1), "sometimes", 1)


def test_unknown_timezone_falls_back_to_utc():
    assert compute_expiry(at(2024, 1, 15), "end_of_month", 0, "Mars/Olympus") == at(2024, 2, 1)


# --------------------------------------------------------------------------- rounding


@pytest.mark.parametrize(
    ("amount", "per_unit", "rounding", "expected"),
    [
        ("12.99", 1, "floor", 12),
        ("12.99", 1, "round", 13),
        ("12.49", 1, "round", 12),
        ("12.50", 1, "round", 13),  # half up, not banker's rounding
        ("12.01", 1, "ceil", 13),
        ("12.00", 1, "ceil", 12),
        (2.675, 10, "floor", 26),  # the float 2.675 is read as the decimal 2.675
        (2.675, 10, "round", 27),
        (Decimal("0.05"), 3, "ceil", 1),
        (0, 5, "ceil", 0),
        (7, 2, "floor", 14),
    ],
)
def test_purchase_points_rounding(amount, per_unit, rounding, expected):
    assert points_for_purchase(amount, per_unit, rounding) == expected


@pytest.mark.parametrize("amount", ["-1", "abc", "NaN", float("inf")])
def test_purchase_points_refuses_bad_amounts(amount):
    with pytest.raises(LoyaltyError) as refused:
        points_for_purchase(amount, 1, "floor")
    assert refused.value.code == "invalid_amount"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("points", "code"),
    [
        (0, "invalid_points"),
        (-5, "invalid_points"),
        (1.5, "invalid_points"),
        (True, "invalid_points"),
        ("10", "invalid_points"),
        (None, "invalid_points"),
        (MAX_POINTS_PER_REQUEST + 1, "points_too_large"),
    ],
)
def test_validate_points_refuses_bad_amounts(points, code):
    with pytest.raises(LoyaltyError) as refused:
        validate_points(points)
    assert refused.value.code == code


def test_validate_points_accepts_the_bounds():
    assert validate_points(1) == 1
    assert validate_points(MAX_POINTS_PER_REQUEST) == MAX_POINTS_PER_REQUEST


def _request(**changes) -> LedgerRequest:
    base = dict(
        merchant_id=1,
        account_id=2,
        kind=EntryKind.EARN,
        points=10,
        idempotency_key="receipt:1:42",
        reason="Purchase",
    )
    base.update(changes)
    return LedgerRequest(**base)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"kind": EntryKind.RELEASE}, "kind_not_allowed"),
        ({"kind": EntryKind.EXPIRE}, "kind_not_allowed"),
        ({"kind": "gift"}, "kind_not_allowed"),
        ({"idempotency_key": ""}, "invalid_idempotency_key"),
        ({"idempotency_key": "x" * 201}, "invalid_idempotency_key"),
        ({"idempotency_key": "expire:lot:5"}, "invalid_idempotency_key"),
        ({"reason": " "}, "reason_required"),
        ({"kind": EntryKind.ADJUSTMENT, "points": 5}, "author_required"),
        ({"kind": EntryKind.ADJUSTMENT, "points": 0, "author_id": 3}, "invalid_points"),
        ({"kind": EntryKind.REVERSAL}, "invalid_request"),
        ({"pending_days": -1}, "invalid_pending_days"),
        ({"pending_days": 400}, "invalid_pending_days"),
        ({"source": {"when": object()}}, "invalid_request"),
    ],
)
def test_validate_request_refusals(changes, code):
    with pytest.raises(LoyaltyError) as refused:
        validate_request(_request(**changes))
    assert refused.value.code == code


def test_debits_are_normalised_to_negative_points():
    assert validate_request(_request(kind=EntryKind.REDEEM, points=30)).points == -30
    assert validate_request(_request(kind=EntryKind.DONATE, points=-30)).points == -30


def test_fingerprint_ignores_the_clock_but_not_the_details():
    first = _request(now=at(2024, 1, 1))
    assert request_fingerprint(first) == request_fingerprint(_request(now=at(2024, 1, 2)))
    assert request_fingerprint(first) != request_fingerprint(_request(points=11))
    assert request_fingerprint(first) != request_fingerprint(_request(source={"store_id": 1}))
    assert request_fingerprint(first) != request_fingerprint(_request(account_id=3))
    assert request_fingerprint(first) == request_fingerprint(_request(now=at(2024, 1, 1) + timedelta(hours=5)))
