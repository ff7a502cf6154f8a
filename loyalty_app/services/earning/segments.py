"""Member segments: which members a segment holds now, for one member (is this offer for me?)
and for the console (how many match, a few names).

Offers (rewards, challenges, quests, earning rules) store a ``segment_key``: a built-in key
(``domain.earning.SEGMENTS``: ``new_members``...) or ``"seg:<id>"`` for a merchant segment
(``models.Segment``). ``MemberSegments`` answers for one member, lazily: nothing is queried
until an offer actually targets a segment, and then a few queries build the member's facts
(tier, last visit, spend per window, consent from the account row; the RFM class from the
analytics SQL, kept ``RFM_CACHE_SECONDS`` per program because it ranks every member).

The console's count runs the same criteria in SQL over every member (``count_matching``). Both
read the same sub-queries (``_last_visits``, ``_spend``) so the count and the member-facing
answer agree; tests check it member by member. A retired segment matches nobody.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session

from loyalty_app.domain import earning as earning_rules
from loyalty_app.domain import segments as rules
from loyalty_app.domain.earning import VISIT_ACTIONS, MemberFacts, local_date, local_midnight_utc
from loyalty_app.domain.segments import SegmentCriteria, SegmentFacts
from loyalty_app.models import Account, LedgerEntry, MemberActivity, MemberTier, Merchant, Role, Segment, Tier
from loyalty_app.services.earning.tiers import current_tier, entry_tier, fallback_tier, load_tiers
from loyalty_app.services.insight import analytics
from loyalty_app.services.members.profile import consent_statuses

RFM_CACHE_SECONDS = 300
PREVIEW_NAMES = 5
_VISITS = [a.value for a in VISIT_ACTIONS]
_UNSET = object()


# ----------------------------------------------------------------------------- shared SQL


def _today(now: datetime, tz: str):
    return local_date(now, tz)


def _last_visits(merchant_id: int, now: datetime, tz: str, account_id: int | None = None):
    """(account_id, last_day): each member's last visit, as the merchant's local day."""
    query = select(MemberActivity.account_id.label("account_id"), func.max(MemberActivity.local_day).label("last_day")).where(
        MemberActivity.merchant_id == merchant_id,
        MemberActivity.action.in_(_VISITS),
        MemberActivity.local_day <= _today(now, tz),
    )
    if account_id is not None:
        query = query.where(MemberActivity.account_id == account_id)
    return query.group_by(MemberActivity.account_id).subquery("last_visits")


def _spend(measure: str, days: int, merchant_id: int, now: datetime, tz: str, account_id: int | None = None):
    """(account_id, total): purchase amounts (cents) or points earned in the last ``days`` local
    days up to ``now``; a credit taken back (reversed) does not count."""
    first = rules.window_first_day(days, now, tz)
    reversal = aliased(LedgerEntry)
    if measure == "amount":
        reversed_ = select(reversal.id).where(reversal.reverses_entry_id == MemberActivity.entry_id).exists()
        query = select(
            MemberActivity.account_id.label("account_id"),
            func.sum(func.coalesce(MemberActivity.detail["amount_cents"].as_integer(), 0)).label("total"),
        ).where(
            MemberActivity.merchant_id == merchant_id,
            MemberActivity.action == earning_rules.Action.PURCHASE.value,
            MemberActivity.local_day >= first,
            MemberActivity.local_day <= _today(now, tz),
            ~reversed_,
        )
        if account_id is not None:
            query = query.where(MemberActivity.account_id == account_id)
        return query.group_by(MemberActivity.account_id).subquery("spend")
    query = (
        select(
            LedgerEntry.account_id.label("account_id"),
            func.sum(LedgerEntry.earned_delta + func.coalesce(reversal.earned_delta, 0)).label("total"),
        )
        .select_from(LedgerEntry)
        .outerjoin(reversal, reversal.reverses_entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.kind == "earn",
            LedgerEntry.created_at >= local_midnight_utc(first, tz),
            LedgerEntry.created_at <= now,
        )
    )
    if account_id is not None:
        query = query.where(LedgerEntry.account_id == account_id)
    return query.group_by(LedgerEntry.account_id).subquery("spend")


def _consent_granted(channel: str, dialect: str):
    """SQL for ``profile.consent_statuses(consents)[channel].granted`` (both stored forms)."""
    if dialect == "postgresql":
        return or_(
            Account.consents[(channel, "granted")].as_string() == "true", func.json_typeof(Account.consents[channel]) == "string"
        )
    return or_(
        func.json_extract(Account.consents, f"$.{channel}.granted") == 1,
        func.json_type(Account.consents, f"$.{channel}") == "text",
    )


def _members(merchant_id: int):
    return and_(Account.merchant_id == merchant_id, Account.role == Role.MEMBER, Account.deleted_at.is_(None), Account.is_active)


# ----------------------------------------------------------------------------- RFM

_rfm_lock = threading.Lock()
_rfm_cache: dict[tuple[str, int], tuple[datetime, float, dict[int, str]]] = {}


def rfm_classes(session: Session, merchant_id: int, now: datetime, tz: str) -> dict[int, str]:
    """Member id -> RFM class, exactly as the analytics chart computes it (empty with fewer
    than ``analytics.RFM_MIN_MEMBERS`` members: quintiles of fewer are noise)."""
    base, segmented = analytics.rfm_scored(merchant_id, now, tz)
    total = int(session.execute(select(func.count()).select_from(base)).scalar_one() or 0)
    if total < analytics.RFM_MIN_MEMBERS:
        return {}
    return {int(i): str(c) for i, c in session.execute(select(segmented.c.id, segmented.c.segment)).all()}


def cached_rfm_classes(session: Session, merchant_id: int, now: datetime, tz: str) -> dict[int, str]:
    """``rfm_classes`` kept a few minutes per program (it ranks every member: too heavy per page)."""
    key = (str(session.get_bind().url), merchant_id)
    with _rfm_lock:
        hit = _rfm_cache.get(key)
    if (
        hit is not None
        and abs((hit[0] - now).total_seconds()) < RFM_CACHE_SECONDS
        and time.monotonic() - hit[1] < RFM_CACHE_SECONDS
    ):
        return hit[2]
    value = rfm_classes(session, merchant_id, now, tz)
    with _rfm_lock:
        _rfm_cache[key] = (now, time.monotonic(), value)
    return value


def clear_rfm_cache() -> None:
    with _rfm_lock:
        _rfm_cache.clear()


# ----------------------------------------------------------------------------- one member


def builtin_facts(session: Session, account: Account) -> MemberFacts:
    """The facts of the built-in segments (new members, birthday month, lapsed, regulars)."""
    last_visit, visits = session.execute(
        select(func.max(MemberActivity.at), func.count()).where(
            MemberActivity.merchant_id == account.merchant_id,
            MemberActivity.account_id == account.id,
            MemberActivity.action.in_(_VISITS),
        )
    ).one()
    return MemberFacts(joined_at=account.created_at, birthday=account.birthday, last_visit_at=last_visit, visits=visits or 0)


def member_facts(
    session: Session,
    account: Account,
    criteria: list[SegmentCriteria],
    *,
    now: datetime,
    tz: str,
    tier_key: str | None | object = _UNSET,
) -> SegmentFacts:
    """What ``criteria`` need to know about ``account`` (only what they use is queried)."""
    mid = account.merchant_id
    if tier_key is _UNSET:
        tier_key = None
        if any(c.tier_keys for c in criteria):
            tier = current_tier(session, mid, account.id, load_tiers(session, mid))
            tier_key = tier.key if tier else None
    last_day = None
    if any(c.uses_visits for c in criteria):
        sq = _last_visits(mid, now, tz, account.id)
        last_day = session.execute(select(sq.c.last_day)).scalar()
    spend: dict[tuple[str, int], int] = {}
    for c in criteria:
        if c.uses_spend and (c.spend_measure, c.spend_days) not in spend:
            sq = _spend(c.spend_measure, c.spend_days, mid, now, tz, account.id)  # type: ignore[arg-type]
            spend[(c.spend_measure, c.spend_days)] = int(session.execute(select(sq.c.total)).scalar() or 0)  # type: ignore[index]
    rfm_class = None
    if any(c.rfm_classes for c in criteria):
        rfm_class = cached_rfm_classes(session, mid, now, tz).get(account.id)
    consents = frozenset(ch for ch, status in consent_statuses(account.consents).items() if status.granted)
    return SegmentFacts(
        tier_key=tier_key,
        last_visit_day=analytics._day(last_day) if last_day is not None else None,  # type: ignore[arg-type]
        spend=spend,
        rfm_class=rfm_class,
        consents=consents,
    )


def active_segments(session: Session, merchant_id: int) -> list[Segment]:
    return list(
        session.execute(
            select(Segment).where(Segment.merchant_id == merchant_id, Segment.is_active).order_by(Segment.id)
        ).scalars()
    )


class MemberSegments:
    """The segments one member is in at ``now``: built-in keys plus ``"seg:<id>"`` of every
    active merchant segment that matches. Computed once, on first use."""

    def __init__(
        self,
        session: Session,
        account: Account | int,
        now: datetime,
        *,
        tz: str | None = None,
        tier_key: str | None | object = _UNSET,
    ):
        self._session, self._account, self._now, self._tz, self._tier_key = session, account, now, tz, tier_key
        self._value: frozenset[str] | None = None

    def _load(self) -> frozenset[str]:
        session = self._session
        account = self._account if isinstance(self._account, Account) else session.get(Account, self._account)
        if account is None:
            return frozenset()
        tz = self._tz
        if tz is None:
            merchant = session.get(Merchant, account.merchant_id)
            tz = (merchant.timezone if merchant else "UTC") or "UTC"
        keys = set(earning_rules.member_segments(builtin_facts(session, account), self._now, tz))
        rows = active_segments(session, account.merchant_id)
        if rows:
            criteria = [SegmentCriteria.from_dict(r.criteria) for r in rows]
            facts = member_facts(session, account, criteria, now=self._now, tz=tz, tier_key=self._tier_key)
            keys |= {rules.segment_ref(r.id) for r, c in zip(rows, criteria) if rules.matches(c, facts, self._now, tz)}
        return frozenset(keys)

    def get(self) -> frozenset[str]:
        if self._value is None:
            self._value = self._load()
        return self._value

    def allows(self, segment_key: str | None) -> bool:
        """An offer with no segment is for everybody; otherwise the member must be in it."""
        return not segment_key or segment_key in self.get()


# ----------------------------------------------------------------------------- every member (console)


def _tier_condition(session: Session, merchant_id: int, tier_keys: tuple[str, ...]):
    """SQL for ``services.earning.tiers.current_tier(...).key in tier_keys`` (MemberTier outer-joined)."""
    active = load_tiers(session, merchant_id)
    wanted = [t.id for t in active if t.key in tier_keys]
    if not wanted:
        return false()

    entry = entry_tier(active)
    held = case((MemberTier.id.is_(None), entry.id if entry else None), else_=MemberTier.tier_id)
    retired = session.execute(select(Tier).where(Tier.merchant_id == merchant_id, Tier.is_active.is_(False))).scalars().all()
    whens = []
    for row in retired:
        fallback = fallback_tier(active, row.rank)
        whens.append((held == row.id, fallback.id if fallback else None))
    if whens:
        held = case(*whens, else_=held)
    return held.in_(wanted)


def matching_query(session: Session, merchant_id: int, criteria: SegmentCriteria, *, now: datetime, tz: str):
    """SELECT of (id, first_name, last_name) of every member the criteria hold, in SQL."""
    c = criteria
    query = select(Account.id, Account.first_name, Account.last_name).select_from(Account)
    conditions = [_members(merchant_id)]
    if c.is_empty():
        conditions.append(false())
    if c.tier_keys:
        query = query.outerjoin(MemberTier, and_(MemberTier.account_id == Account.id, MemberTier.merchant_id == merchant_id))
        conditions.append(_tier_condition(session, merchant_id, c.tier_keys))
    if c.uses_visits:
        visits = _last_visits(merchant_id, now, tz)
        query = query.outerjoin(visits, visits.c.account_id == Account.id)
        if c.visited_within_days is not None:
            first = rules.window_first_day(c.visited_within_days, now, tz)
            conditions.append(and_(visits.c.last_day.is_not(None), visits.c.last_day >= first))
        if c.not_visited_days is not None:
            first = rules.window_first_day(c.not_visited_days, now, tz)
            conditions.append(or_(visits.c.last_day.is_(None), visits.c.last_day < first))
    if c.uses_spend:
        spend = _spend(c.spend_measure, c.spend_days, merchant_id, now, tz)  # type: ignore[arg-type]
        query = query.outerjoin(spend, spend.c.account_id == Account.id)
        total = func.coalesce(spend.c.total, 0)
        if c.spend_min is not None:
            conditions.append(total >= c.spend_min)
        if c.spend_max is not None:
            conditions.append(total <= c.spend_max)
    if c.rfm_classes:
        base, segmented = analytics.rfm_scored(merchant_id, now, tz)
        scored = int(session.execute(select(func.count()).select_from(base)).scalar_one() or 0)
        if scored < analytics.RFM_MIN_MEMBERS:
            conditions.append(false())
        else:
            query = query.outerjoin(segmented, segmented.c.id == Account.id)
            conditions.append(segmented.c.segment.in_(c.rfm_classes))
    dialect = session.get_bind().dialect.name
    for channel in c.consent_channels:
        conditions.append(_consent_granted(channel, dialect))
    return query.where(and_(true(), *conditions))


@dataclass(frozen=True)
class SegmentPreview:
    count: int
    names: list[str]  # a few examples, first name + last initial


def count_matching(session: Session, merchant_id: int, criteria: SegmentCriteria, *, now: datetime, tz: str) -> int:
    sq = matching_query(session, merchant_id, criteria, now=now, tz=tz).subquery("matching")
    return int(session.execute(select(func.count()).select_from(sq)).scalar_one() or 0)


def matching_ids(session: Session, merchant_id: int, criteria: SegmentCriteria, *, now: datetime, tz: str) -> set[int]:
    return {int(r[0]) for r in session.execute(matching_query(session, merchant_id, criteria, now=now, tz=tz)).all()}


def preview(
    session: Session, merchant_id: int, criteria: SegmentCriteria, *, now: datetime, tz: str, limit: int = PREVIEW_NAMES
) -> SegmentPreview:
    """How many members match now and a few of their names (for the editor)."""
    query = matching_query(session, merchant_id, criteria, now=now, tz=tz)
    names = [
        " ".join(p for p in (first or "", (last or "")[:1] + "." if last else "") if p).strip()
        for _i, first, last in session.execute(query.order_by(Account.id).limit(limit)).all()
    ]
    return SegmentPreview(count_matching(session, merchant_id, criteria, now=now, tz=tz), names)


def member_count_by_segment(session: Session, merchant_id: int, rows: list[Segment], *, now: datetime, tz: str) -> dict[int, int]:
    """Members per active segment (retired ones match nobody: 0)."""
    return {
        r.id: count_matching(session, merchant_id, SegmentCriteria.from_dict(r.criteria), now=now, tz=tz) if r.is_active else 0
        for r in rows
    }


__all__ = [
    "MemberSegments",
    "SegmentPreview",
    "active_segments",
    "builtin_facts",
    "cached_rfm_classes",
    "clear_rfm_cache",
    "count_matching",
    "matching_ids",
    "matching_query",
    "member_count_by_segment",
    "member_facts",
    "preview",
    "rfm_classes",
]
