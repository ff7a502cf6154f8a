"""The registry of ways to earn: one entry per action, holding every fact the app needs about it.

Each ``WayToEarn`` says what the console calls the action, how a member does it, the reason its
ledger entries show (plain and with multipliers), what its entries are about in the activity
history, how it is claimed (which decides who may record it), the rule parameters a merchant
sets for it and whether it counts as a visit. The console (``services.program.program_console``), the
Challenges page (``pages.challenges``), the activity history (``services.member_app.activity``), the
engagement flows (``services.earning.engagement``) and the earning rules (``domain.earning``:
``ACTION_REASONS``, ``SERVICE_ONLY_ACTIONS``, ``VISIT_ACTIONS``) all read this registry instead
of keeping their own tables.

Adding a way to earn (see the README, "Adding a way to earn"): its key in ``Action`` and its
entry in ``BUILT_IN`` below, then its translations. ``tests/unit/test_ways_to_earn.py`` fails
while an ``Action`` has no entry or an entry lacks a part.

Texts are gettext msgids marked with ``N_`` so the catalog extractor finds them; the consumers
translate them. The tables derived from the registry (``ACTION_LABELS``...) are built when their
modules load; the functions that build them read the registry every time they are called.
"""

from __future__ import annotations

import enum
import re
import string
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from loyalty_app.domain.errors import N_


class Action(str, enum.Enum):
    """The key of every way to earn: stored in earning rules, activities and ledger sources."""

    PURCHASE = "purchase"
    WRITE_REVIEW = "write_review"
    RATE_REWARD = "rate_reward"
    FILL_SURVEY = "fill_survey"
    SUBSCRIBE_NEWSLETTER = "subscribe_newsletter"
    TAG_SOCIAL = "tag_social"
    ATTEND_EVENT = "attend_event"
    PHOTO_CONTEST = "photo_contest"
    CHECK_IN = "check_in"
    BIRTHDAY = "birthday"
    COMPLETE_PROFILE = "complete_profile"
    REFER_FRIEND = "refer_friend"

    @classmethod
    def _missing_(cls, value: object) -> Action | None:
        """A way registered beyond the built-in ones (``WAYS_TO_EARN.register``) is an action too,
        while it is registered: adding one needs no member here. The built-in ones stay members,
        because code names them (``Action.PURCHASE``)."""
        if isinstance(value, str) and value in WAYS_TO_EARN:
            action = str.__new__(cls, value)
            action._name_, action._value_ = value.upper(), value
            return action
        return None


class Claim(str, enum.Enum):
    """How a way to earn is claimed."""

    AT_TILL = "at_till"  # staff credit it at the till, with a receipt (a purchase)
    OWN_FEATURE = "own_feature"  # only its own feature records it (a rating after a redemption, a friend's first purchase)
    BY_MEMBER = "by_member"  # the member does it in the app and is paid at once (scan a poster, answer, enter a code...)
    CLAIM_BUTTON = "claim_button"  # the member claims it on the Challenges tab once its condition holds
    REVIEWED = "reviewed"  # the member sends a link or a photo; paid when the merchant approves it

    @property
    def service_only(self) -> bool:
        """Only its own service may record it (``services.earning.actions`` refuses a direct request)."""
        return self in (Claim.AT_TILL, Claim.OWN_FEATURE)


class Topic(str, enum.Enum):
    """What an earn is about in the member's activity history (the page shows an icon per topic)."""

    PURCHASE = "purchase"
    VISIT = "visit"
    FRIEND = "friend"
    BIRTHDAY = "birthday"
    EVENT = "event"
    REVIEW = "review"
    SOCIAL = "social"
    PROFILE = "profile"


# Rule parameters the console lets a merchant set for a way to earn (``EarningRule.params``).
RULE_PARAMS = frozenset({"event_codes"})

# Challenges may count the pseudo-action "visit" (``domain.challenges.VISIT``: a purchase or a
# check-in, the ways with ``visit=True``); this is its label in the console and its how-to.
VISIT_HOW = N_("Visit us: make a purchase or check in")

_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_RESERVED_KEYS = frozenset({"visit"})
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class WayToEarn:
    """One way to earn. Texts are English gettext msgids (``N_``)."""

    key: str  # the Action value
    label: str  # what the console calls it (earning rules, action-count badges, challenges, quests)
    how_to: str  # how a member does it (under a challenge or an action-count badge)
    reason: str  # the reason of its ledger entries
    reason_multiplied: str  # the same with the multipliers that applied: ends with "{multipliers}"
    topic: Topic  # what its entries are about in the activity history
    claim: Claim  # how it is claimed
    params: tuple[str, ...] = ()  # rule parameters the merchant sets (attend_event: event_codes)
    visit: bool = False  # counts as a visit: streaks, distinct stores, "visit" challenges, segments
    card: int | None = None  # its place among the Challenges tab's ways to earn (1 = first); None: no card

    @property
    def reasons(self) -> tuple[str, str]:
        """(reason, reason with multipliers), as ``services.earning.actions.earn_points`` takes them."""
        return self.reason, self.reason_multiplied

    @property
    def service_only(self) -> bool:
        return self.claim.service_only


def _placeholders(text: str) -> set[str] | None:
    try:
        return {name for _lit, name, _spec, _conv in _FORMATTER.parse(text) if name is not None}
    except ValueError:
        return None


def missing_parts(way: WayToEarn) -> tuple[str, ...]:
    """The parts of ``way`` that are missing or malformed (empty when it is complete)."""
    missing = []
    if not isinstance(way.key, str) or not _KEY_RE.fullmatch(way.key) or way.key in _RESERVED_KEYS:
        missing.append("key")
    for part in ("label", "how_to", "reason"):
        value = getattr(way, part)
        if not isinstance(value, str) or not value.strip() or _placeholders(value) is None:
            missing.append(part)
    plain = _placeholders(way.reason) if isinstance(way.reason, str) else None
    multiplied = _placeholders(way.reason_multiplied) if isinstance(way.reason_multiplied, str) else None
    if multiplied is None or "multipliers" not in multiplied or (plain is not None and multiplied != plain | {"multipliers"}):
        missing.append("reason_multiplied")
    if not isinstance(way.topic, Topic):
        missing.append("topic")
    if not isinstance(way.claim, Claim):
        missing.append("claim")
    if not isinstance(way.params, tuple) or not set(way.params) <= RULE_PARAMS or len(set(way.params)) != len(way.params):
        missing.append("params")
    if not isinstance(way.visit, bool):
        missing.append("visit")
    if way.card is not None and (isinstance(way.card, bool) or not isinstance(way.card, int) or way.card < 1):
        missing.append("card")
    return tuple(missing)


class WaysToEarn:
    """The registry: ways to earn by key, in the order they were registered (the console's order)."""

    def __init__(self, ways: Iterable[WayToEarn] = ()):
        self._ways: dict[str, WayToEarn] = {}
        for way in ways:
            self.register(way)

    # --- registration -----------------------------------------------------------------------

    def register(self, way: WayToEarn) -> WayToEarn:
        """Add ``way``; refused (ValueError) when a part is missing, the key is taken or its
        card's place on the Challenges tab is another way's."""
        missing = missing_parts(way)
        if missing:
            raise ValueError(f"way to earn {way.key!r} lacks or has a malformed: {', '.join(missing)}")
        if way.key in self._ways:
            raise ValueError(f"way to earn {way.key!r} is already registered")
        if way.card is not None and any(w.card == way.card for w in self._ways.values()):
            raise ValueError(f"card place {way.card} on the Challenges tab is already taken")
        self._ways[way.key] = way
        return way

    def unregister(self, key: str) -> WayToEarn:
        return self._ways.pop(str(key))

    @contextmanager
    def registered(self, way: WayToEarn) -> Iterator[WayToEarn]:
        """``register(way)`` for the ``with`` block only (tests, previews)."""
        self.register(way)
        try:
            yield way
        finally:
            self.unregister(way.key)

    # --- lookups ----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> WayToEarn:
        return self._ways[key]

    def get(self, key: str | None) -> WayToEarn | None:
        return self._ways.get(key) if isinstance(key, str) else None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._ways

    def __iter__(self) -> Iterator[WayToEarn]:
        return iter(tuple(self._ways.values()))

    def __len__(self) -> int:
        return len(self._ways)

    def keys(self) -> tuple[str, ...]:
        return tuple(self._ways)

    def labels(self) -> dict[str, str]:
        """key -> label msgid, in registry order (the console's option lists)."""
        return {w.key: w.label for w in self}

    def how_tos(self) -> dict[str, str]:
        """key -> how-to msgid, in registry order."""
        return {w.key: w.how_to for w in self}

    def topic(self, key: str | None, default: str = "earn") -> str:
        """The activity topic of ``key``'s earns (``default`` for an unknown key)."""
        way = self.get(key)
        return way.topic.value if way is not None else default

    def claimed(self, *claims: Claim) -> tuple[str, ...]:
        """Keys of the ways claimed in one of ``claims``, in registry order."""
        return tuple(w.key for w in self if w.claim in claims)

    def service_only(self) -> frozenset[str]:
        return frozenset(w.key for w in self if w.service_only)

    def visits(self) -> frozenset[str]:
        return frozenset(w.key for w in self if w.visit)

    def on_challenges_tab(self) -> tuple[str, ...]:
        """Keys of the ways with a card on the member's Challenges tab, in card order."""
        return tuple(w.key for w in sorted((w for w in self if w.card is not None), key=lambda w: w.card or 0))


BUILT_IN: tuple[WayToEarn, ...] = (
    WayToEarn(
        key=Action.PURCHASE.value,
        label=N_("Make a purchase"),
        how_to=N_("Make a purchase"),
        reason=N_("Purchase {amount} {currency} × {rate} pt/{currency}"),
        reason_multiplied=N_("Purchase {amount} {currency} × {rate} pt/{currency}, {multipliers}"),
        topic=Topic.PURCHASE,
        claim=Claim.AT_TILL,
        visit=True,
    ),
    WayToEarn(
        key=Action.CHECK_IN.value,
        label=N_("Check in at a store by scanning the poster"),
        how_to=N_("Check in at a store by scanning the poster"),
        reason=N_("Checked in at {store}"),
        reason_multiplied=N_("Checked in at {store}, {multipliers}"),
        topic=Topic.VISIT,
        claim=Claim.BY_MEMBER,
        visit=True,
    ),
    WayToEarn(
        key=Action.WRITE_REVIEW.value,
        label=N_("Write a review"),
        how_to=N_("Write a review"),
        reason=N_("Wrote a review"),
        reason_multiplied=N_("Wrote a review, {multipliers}"),
        topic=Topic.REVIEW,
        claim=Claim.BY_MEMBER,
    ),
    WayToEarn(
        key=Action.RATE_REWARD.value,
        label=N_("Rate a reward you redeemed"),
        how_to=N_("Rate a reward you redeemed"),
        reason=N_("Rated a reward"),
        reason_multiplied=N_("Rated a reward, {multipliers}"),
        topic=Topic.REVIEW,
        claim=Claim.OWN_FEATURE,
    ),
    WayToEarn(
        key=Action.FILL_SURVEY.value,
        label=N_("Answer a survey"),
        how_to=N_("Answer a survey"),
        reason=N_("Filled in a survey"),
        reason_multiplied=N_("Filled in a survey, {multipliers}"),
        topic=Topic.REVIEW,
        claim=Claim.BY_MEMBER,
        card=1,
    ),
    WayToEarn(
        key=Action.SUBSCRIBE_NEWSLETTER.value,
        label=N_("Subscribe to the newsletter"),
        how_to=N_("Subscribe to the newsletter"),
        reason=N_("Subscribed to the newsletter"),
        reason_multiplied=N_("Subscribed to the newsletter, {multipliers}"),
        topic=Topic.PROFILE,
        claim=Claim.BY_MEMBER,
        card=5,
    ),
    WayToEarn(
        key=Action.TAG_SOCIAL.value,
        label=N_("Tag us on social media"),
        how_to=N_("Tag us on social media"),
        reason=N_("Tagged us on social media"),
        reason_multiplied=N_("Tagged us on social media, {multipliers}"),
        topic=Topic.SOCIAL,
        claim=Claim.REVIEWED,
        card=3,
    ),
    WayToEarn(
        key=Action.ATTEND_EVENT.value,
        label=N_("Come to one of our events and enter its code"),
        how_to=N_("Come to one of our events and enter its code"),
        reason=N_("Attended event {event_code}"),
        reason_multiplied=N_("Attended event {event_code}, {multipliers}"),
        topic=Topic.EVENT,
        claim=Claim.BY_MEMBER,
        params=("event_codes",),
        card=2,
    ),
    WayToEarn(
        key=Action.PHOTO_CONTEST.value,
        label=N_("Enter the photo contest"),
        how_to=N_("Enter the photo contest"),
        reason=N_("Entered the photo contest"),
        reason_multiplied=N_("Entered the photo contest, {multipliers}"),
        topic=Topic.SOCIAL,
        claim=Claim.REVIEWED,
        card=4,
    ),
    WayToEarn(
        key=Action.BIRTHDAY.value,
        label=N_("Claim your birthday treat"),
        how_to=N_("Claim your birthday treat"),
        reason=N_("Happy birthday!"),
        reason_multiplied=N_("Happy birthday!, {multipliers}"),
        topic=Topic.BIRTHDAY,
        claim=Claim.CLAIM_BUTTON,
        card=7,
    ),
    WayToEarn(
        key=Action.COMPLETE_PROFILE.value,
        label=N_("Complete your profile"),
        how_to=N_("Complete your profile"),
        reason=N_("Completed your profile"),
        reason_multiplied=N_("Completed your profile, {multipliers}"),
        topic=Topic.PROFILE,
        claim=Claim.CLAIM_BUTTON,
        card=6,
    ),
    WayToEarn(
        key=Action.REFER_FRIEND.value,
        label=N_("Invite a friend who makes a purchase"),
        how_to=N_("Invite a friend who makes a purchase"),
        reason=N_("Referred a friend"),
        reason_multiplied=N_("Referred a friend, {multipliers}"),
        topic=Topic.FRIEND,
        claim=Claim.OWN_FEATURE,
    ),
)

# The registry every consumer reads.
WAYS_TO_EARN = WaysToEarn(BUILT_IN)
assert {a.value for a in Action} <= set(WAYS_TO_EARN.keys()), "every Action needs its way to earn in BUILT_IN"
