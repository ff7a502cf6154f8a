"""Merchant-defined member segments: criteria, their validation and the one test of a member.

A segment is a conjunction of optional criteria (every criterion set must hold):

* tiers: the member holds any of these tiers;
* visits: a visit (purchase or check-in) within the last N days, and/or none for the last M
  days (never visited counts as "none"). Days are the merchant's calendar days: "the last 7
  days" are today and the 6 days before, in the shop's time zone, like every limit period;
* spend over the last N days (same days): the sum of purchase amounts (in cents) or of points
  earned, at least X and/or at most Y (a purchase or earn taken back at the till does not count);
* RFM class: any of the analytics RFM classes (``classify_rfm``; the console's RFM chart and
  segments read the same SQL, so they agree);
* consent: every chosen marketing channel (email, sms, push) is consented.

Why pure: the console's live count runs the same rules in SQL; tests check both agree member by
member. Offers reference a merchant segment as ``"seg:<id>"``; built-in segments (``domain.earning
.SEGMENTS``) keep their plain keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from loyalty_app.domain.earning import local_date
from loyalty_app.domain.errors import N_, LoyaltyError

REF_PREFIX = "seg:"
CONSENT_CHANNELS = ("email", "sms", "push")
SPEND_MEASURES = ("amount", "points")
RFM_CLASSES = ("champions", "loyal", "new", "at_risk", "hibernating", "others")
RFM_LABELS = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "new": N_("New"),
    "at_risk": N_("At risk"),
    "hibernating": N_("Hibernating"),
    "others": N_("Others"),
}  # the RFM classes' names (the analytics chart, the segment editor)
MAX_DAYS = 3650
MAX_SPEND = 100_000_000  # cents or points

NO_CRITERIA = N_("Choose at least one condition.")
VISIT_WINDOWS_CLASH = N_("Must be fewer days than “visited in the last … days”, or no member can match.")
SPEND_DAYS_REQUIRED = N_("Enter over how many days the spending counts.")
SPEND_BOUND_REQUIRED = N_("Enter a minimum, a maximum or both.")
SPEND_MAX_BELOW_MIN = N_("The maximum must be at least the minimum.")


def segment_ref(segment_id: int) -> str:
    """The key an offer stores to target a merchant segment."""
    return f"{REF_PREFIX}{segment_id}"


def parse_ref(key: str | None) -> int | None:
    """``"seg:12"`` -> 12; a built-in key or anything else -> None."""
    if not key or not key.startswith(REF_PREFIX):
        return None
    digits = key[len(REF_PREFIX) :]
    return int(digits) if digits.isdigit() and len(digits) <= 12 else None


@dataclass(frozen=True)
class SegmentCriteria:
    tier_keys: tuple[str, ...] = ()
    visited_within_days: int | None = None
    not_visited_days: int | None = None
    spend_measure: str = "amount"  # "amount" (cents) or "points"
    spend_days: int | None = None
    spend_min: int | None = None
    spend_max: int | None = None
    rfm_classes: tuple[str, ...] = ()
    consent_channels: tuple[str, ...] = ()

    @property
    def uses_spend(self) -> bool:
        return self.spend_days is not None and (self.spend_min is not None or self.spend_max is not None)

    @property
    def uses_visits(self) -> bool:
        return self.visited_within_days is not None or self.not_visited_days is not None

    def is_empty(self) -> bool:
        return not (self.tier_keys or self.uses_visits or self.uses_spend or self.rfm_classes or self.consent_channels)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tier_keys": list(self.tier_keys),
            "visited_within_days": self.visited_within_days,
            "not_visited_days": self.not_visited_days,
            "spend_measure": self.spend_measure,
            "spend_days": self.spend_days,
            "spend_min": self.spend_min,
            "spend_max": self.spend_max,
            "rfm_classes": list(self.rfm_classes),
            "consent_channels": list(self.consent_channels),
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> SegmentCriteria:
        """Stored JSON -> criteria; unknown keys are ignored, bad values read as "not set"."""
        data = data or {}

        def num(name: str) -> int | None:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def keys(name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
            values = data.get(name) or []
            return tuple(str(v) for v in values if isinstance(v, str) and (allowed is None or v in allowed))

        measure = data.get("spend_measure")
        return cls(
            tier_keys=keys("tier_keys"),
            visited_within_days=num("visited_within_days"),
            not_visited_days=num("not_visited_days"),
            spend_measure=measure if measure in SPEND_MEASURES else "amount",
            spend_days=num("spend_days"),
            spend_min=num("spend_min"),
            spend_max=num("spend_max"),
            rfm_classes=keys("rfm_classes", RFM_CLASSES),
            consent_channels=keys("consent_channels", CONSENT_CHANNELS),
        )


def criteria_errors(criteria: SegmentCriteria) -> dict[str, LoyaltyError]:
    """Every contradiction or gap in ``criteria``, by form field (empty when valid).

    Field names are the console form's: ``criteria`` (nothing chosen), ``not_visited_days``,
    ``spend_days``, ``spend_min``, ``spend_max``. Ranges of single numbers are the form's job.
    """
    errors: dict[str, LoyaltyError] = {}

    def fail(name: str, message: str, code: str) -> None:
        errors.setdefault(name, LoyaltyError(message, code=code, field=name))

    c = criteria
    if c.visited_within_days is not None and c.not_visited_days is not None and c.not_visited_days >= c.visited_within_days:
        fail("not_visited_days", VISIT_WINDOWS_CLASH, "visit_windows_clash")
    has_bound = c.spend_min is not None or c.spend_max is not None
    if has_bound and c.spend_days is None:
        fail("spend_days", SPEND_DAYS_REQUIRED, "spend_days_required")
    if c.spend_days is not None and not has_bound:
        fail("spend_min", SPEND_BOUND_REQUIRED, "spend_bound_required")
    if c.spend_min is not None and c.spend_max is not None and c.spend_max < c.spend_min:
        fail("spend_max", SPEND_MAX_BELOW_MIN, "spend_max_below_min")
    if c.spend_measure not in SPEND_MEASURES:
        fail("spend_measure", N_("Choose one of the offered options."), "unknown_option")
    if not errors and c.is_empty():
        fail("criteria", NO_CRITERIA, "no_criteria")
    return errors


def validate(criteria: SegmentCriteria) -> None:
    """Raise the first of ``criteria_errors`` (services re-check what the form already did)."""
    errors = criteria_errors(criteria)
    if errors:
        raise next(iter(errors.values()))


@dataclass(frozen=True)
class SegmentFacts:
    """What the criteria read about one member; built by ``services.earning.segments``."""

    tier_key: str | None = None
    last_visit_day: date | None = None  # merchant's local day of the last purchase or check-in
    spend: dict[tuple[str, int], int] = field(default_factory=dict)  # (measure, days) -> sum
    rfm_class: str | None = None  # None: not scored (too few members)
    consents: frozenset[str] = frozenset()  # channels consented


def window_first_day(days: int, now: datetime, tz: str) -> date:
    """The first local day of "the last ``days`` days" (today counts as one)."""
    return local_date(now, tz) - timedelta(days=days - 1)


def matches(criteria: SegmentCriteria, facts: SegmentFacts, now: datetime, tz: str) -> bool:
    """Whether a member with ``facts`` is in the segment at ``now`` (merchant timezone ``tz``)."""
    c = criteria
    if c.is_empty():
        return False  # an unfinished segment targets nobody rather than everybody
    if c.tier_keys and facts.tier_key not in c.tier_keys:
        return False
    if c.visited_within_days is not None:
        if facts.last_visit_day is None or facts.last_visit_day < window_first_day(c.visited_within_days, now, tz):
            return False
    if c.not_visited_days is not None:
        if facts.last_visit_day is not None and facts.last_visit_day >= window_first_day(c.not_visited_days, now, tz):
            return False
    if c.uses_spend:
        total = facts.spend.get((c.spend_measure, c.spend_days), 0)  # type: ignore[arg-type]
        if c.spend_min is not None and total < c.spend_min:
            return False
        if c.spend_max is not None and total > c.spend_max:
            return False
    if c.rfm_classes and facts.rfm_class not in c.rfm_classes:
        return False
    if c.consent_channels and not set(c.consent_channels) <= facts.consents:
        return False
    return True


def classify_rfm(recency: int, frequency: int, monetary: int, *, is_new: bool) -> str:
    """The RFM class from quintile scores (1-5 each); first match wins.

    The analytics SQL (``services.insight.analytics.rfm_scored``) applies the same rules in a CASE; a
    test checks both give the same class for every member.
    """
    if is_new:
        return "new"
    if recency >= 4 and frequency >= 4:
        return "champions"
    if recency >= 3 and frequency >= 3:
        return "loyal"
    if recency <= 2 and (frequency >= 3 or monetary >= 4):
        return "at_risk"
    if recency <= 2:
        return "hibernating"
    return "others"
