"""Quests: time-limited point multipliers ("double points this weekend").

Stacking rule (the program chooses the mode, ``ProgramRules.quest_stacking``):

* ``"multiply"``: the multipliers of all quests that apply to one earn multiply together
  (×2 weekend and ×1.5 at the new store give ×3);
* ``"best"``: only the single highest quest multiplier applies (×2).

In both modes the member's tier multiplier then multiplies the quest result, and the grand total
(tier × quests) is capped at the program's ``max_multiplier_pct`` (e.g. 300 = ×3). Points are
rounded down after the multiplication. Merchants enter a quest's start and end in their own
timezone; they are stored in UTC, converted here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty_app.domain.earning import offered_to
from loyalty_app.domain.errors import N_, LoyaltyError


class Stacking(str, enum.Enum):
    MULTIPLY = "multiply"
    BEST = "best"


def local_to_utc(local: datetime, tz: str) -> datetime:
    """Interpret a naive wall-clock time in ``tz`` and return the aware UTC instant.

    A wall time that does not exist (spring-forward gap) is moved forward by the gap; an
    ambiguous one (autumn fold) takes its first occurrence, so a quest never starts late.
    """
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    # PEP 495 fold=0: in a gap the pre-transition offset applies (03:30 becomes 04:30 summer
    # time), in a fold the first occurrence is used.
    return local.replace(tzinfo=ZoneInfo(tz), fold=0).astimezone(UTC)


def utc_to_local(at: datetime, tz: str) -> datetime:
    return at.astimezone(ZoneInfo(tz))


@dataclass(frozen=True)
class QuestSpec:
    key: str
    name: str
    multiplier_pct: int
    starts_at: datetime  # UTC, inclusive
    ends_at: datetime  # UTC, exclusive
    tier_keys: tuple[str, ...] = ()
    segment_key: str | None = None
    store_id: int | None = None
    actions: tuple[str, ...] = ()  # empty = every action including purchases
    id: int | None = None


def validate_quest(starts_at: datetime, ends_at: datetime, multiplier_pct: int) -> None:
    if ends_at <= starts_at:
        raise LoyaltyError(N_("A quest must end after it starts."), code="invalid_window")
    if multiplier_pct <= 100 or multiplier_pct > 1000:
        raise LoyaltyError(N_("A quest multiplier must be above ×1 and at most ×10."), code="invalid_multiplier")


def quest_is_live(quest: QuestSpec, at: datetime) -> bool:
    return quest.starts_at <= at < quest.ends_at


def quest_applies(
    quest: QuestSpec,
    *,
    at: datetime,
    action: str,
    tier_key: str | None,
    segments: Iterable[str],
    store_id: int | None,
) -> bool:
    if not quest_is_live(quest, at):
        return False
    if quest.actions and action not in quest.actions:
        return False
    return offered_to(quest, tier_key=tier_key, segments=segments, store_id=store_id)


def combine_quests(multipliers: Iterable, stacking: str) -> tuple[int, list]:
    """Combine quest multipliers (objects with ``pct``) by the stacking mode.

    Returns the combined percentage and the multipliers that were actually used, so the earn
    explanation lists only what counted.
    """
    items = list(multipliers)
    if not items:
        return 100, []
    if Stacking(stacking) is Stacking.BEST:
        best = max(items, key=lambda m: (m.pct, m.key))
        return best.pct, [best]
    total = 100
    for item in sorted(items, key=lambda m: m.key):
        total = total * item.pct // 100
    return total, sorted(items, key=lambda m: m.key)


def time_left(quest: QuestSpec, now: datetime) -> timedelta:
    return max(quest.ends_at - now, timedelta(0))
