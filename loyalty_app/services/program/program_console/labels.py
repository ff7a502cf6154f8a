"""What the editor's selects and facts call things: the option labels of every kind (reward kinds,
ways to earn, limits, recurrences, badge kinds and icons, segments, RFM classes, consents), the
row statuses, and which kinds the editor has and can retire."""

from __future__ import annotations

from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.catalog import RewardKind
from loyalty_app.domain.challenges import VISIT, Recurrence
from loyalty_app.domain.earning import SEGMENTS, LimitPeriod
from loyalty_app.domain.errors import N_
from loyalty_app.domain.segments import RFM_LABELS as RFM_LABELS  # re-exported: the console lists it with its labels
from loyalty_app.domain.ways_to_earn import VISIT_HOW, WAYS_TO_EARN

REWARD_KIND_LABELS = {
    RewardKind.FREE_PRODUCT.value: N_("Free product"),
    RewardKind.DISCOUNT.value: N_("Discount"),
    RewardKind.FREE_SHIPPING.value: N_("Free delivery"),
    RewardKind.EVENT_TICKET.value: N_("Event"),
    RewardKind.EARLY_ACCESS.value: N_("Early access"),
    RewardKind.PARTNER_COUPON.value: N_("Partner offer"),
}


def action_labels() -> dict[str, str]:
    """What the console calls each way to earn (earning rules, action-count badges, quests), in the
    registry's order: the registry's labels (``domain.ways_to_earn``)."""
    return WAYS_TO_EARN.labels()


def challenge_action_labels() -> dict[str, str]:
    """What a challenge can count: the "visit" pseudo-action (a purchase or a check-in), then every way to earn."""
    return {VISIT: VISIT_HOW, **action_labels()}


ACTION_LABELS = action_labels()
CHALLENGE_ACTION_LABELS = challenge_action_labels()
LIMIT_PERIOD_LABELS = {
    LimitPeriod.NONE.value: N_("No limit"),
    LimitPeriod.DAY.value: N_("Per day"),
    LimitPeriod.WEEK.value: N_("Per week"),
    LimitPeriod.MONTH.value: N_("Per month"),
    LimitPeriod.YEAR.value: N_("Per year"),
    LimitPeriod.EVER.value: N_("In total"),
}
LIMIT_FACTS = {
    LimitPeriod.DAY.value: N_("At most {n} per day"),
    LimitPeriod.WEEK.value: N_("At most {n} per week"),
    LimitPeriod.MONTH.value: N_("At most {n} per month"),
    LimitPeriod.YEAR.value: N_("At most {n} per year"),
    LimitPeriod.EVER.value: N_("At most {n} in total"),
}
RECURRENCE_LABELS = {
    Recurrence.ONE_OFF.value: N_("Once"),
    Recurrence.WEEKLY.value: N_("Every week"),
    Recurrence.MONTHLY.value: N_("Every month"),
}
BADGE_KIND_LABELS = {
    BadgeKind.FIRST_PURCHASE.value: N_("First purchase"),
    BadgeKind.CHECK_INS.value: N_("Number of check-ins"),
    BadgeKind.DISTINCT_STORES.value: N_("Different stores visited"),
    BadgeKind.WEEKLY_STREAK.value: N_("Weeks in a row with a visit"),
    BadgeKind.FIRST_REDEMPTION.value: N_("First reward redeemed"),
    BadgeKind.FIRST_REVIEW.value: N_("First review or rating"),
    BadgeKind.TIER_REACHED.value: N_("Tier reached"),
    BadgeKind.ACTION_COUNT.value: N_("Number of times an action is done"),
    BadgeKind.POINTS_EARNED.value: N_("Points earned in total"),
    BadgeKind.CHALLENGE.value: N_("Challenge completed"),
}

# The member app ships these badge pictures (pages/challenges.py BADGE_ICONS).
BADGE_ICONS = ("star", "trophy", "crown", "gift", "cup", "heart", "flame", "pin", "map", "bag", "pen", "moon")
SEGMENT_LABELS = {key: label for key, (label, _test) in SEGMENTS.items()}  # the built-in segments
STATUS_LABELS = {"active": N_("Active"), "scheduled": N_("Scheduled"), "ended": N_("Ended"), "retired": N_("Retired")}
SPEND_MEASURE_LABELS = {"amount": N_("Money spent on purchases"), "points": N_("Points earned")}
CONSENT_LABELS = {"email": N_("E-mail consent"), "sms": N_("SMS consent"), "push": N_("Push notification consent")}
EDITOR_KINDS = ("reward", "earning", "tier", "badge", "challenge", "quest", "charity", "survey", "segment")
RETIRABLE = frozenset({"reward", "earning", "tier", "badge", "challenge", "quest", "charity", "survey", "segment"})
