"""The member's own activity screens: the points history (with why each entry happened), what is
pending and what expires soon, and giving points to a charity.

Every entry takes the ``Actor`` resolved for this event and calls ``authorize`` first; only the
actor's own account is ever read (no account id comes from the browser). Filtering and paging
happen in SQL: a filter is a WHERE clause on the entry kind (and sign); a page is keyset-paged
with the last entry id shown as the cursor, ordered by (created_at, id) newest first, so entries
recorded late for an earlier moment (imported or replayed history) still read in time order, and
"Show more" never repeats or skips a row.

Which entries each filter shows (documented choice, from ``domain.ledger.EntryKind``):
- ``all``: every entry, including ``release`` (pending points becoming available; shown as
  information, it does not change the total);
- ``earned``: ``earn``, plus ``adjustment``/``reversal`` entries that ADD points (a staff
  correction in the member's favour, a cancelled voucher or donation giving points back);
- ``spent``: ``redeem``, plus ``adjustment``/``reversal`` entries that TAKE points (a correction,
  an undone purchase);
- ``expired``: ``expire``; ``donated``: ``donate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import donations as donation_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.ledger import EntryKind, insufficient_points, validate_points
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN
from loyalty_app.i18n.catalogs import lookup, normalize_language
from loyalty_app.i18n.server import safe_format
from loyalty_app.models import Account, Charity, Donation, LedgerEntry, PointLot, Role
from loyalty_app.services import ledger
from loyalty_app.services.catalog import donations
from loyalty_app.services.platform.permissions import Action, Actor, authorize

FILTERS = ("all", "earned", "spent", "expired", "donated")
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
EXPIRING_WITHIN_DAYS = 30
DONATION_AMOUNTS = (100, 250, 500)

_SIGNED_KINDS = (EntryKind.ADJUSTMENT.value, EntryKind.REVERSAL.value)


# --------------------------------------------------------------------------- helpers


def _authorized(engine: Engine, actor: Actor | None, action: Action) -> Actor:
    """Members only, on their own account; anonymous and staff are refused (and logged)."""
    return authorize(engine, actor, action, merchant_id=actor.merchant_id if actor else 0)


def _utc(when: datetime | None) -> datetime | None:
    """Databases hand back naive UTC datetimes (SQLite, ``timestamp`` columns): make them aware."""
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _member(session: Session, actor: Actor) -> Account:
    account = session.get(Account, actor.account_id)
    if account is None or account.merchant_id != actor.merchant_id or account.role != Role.MEMBER:
        raise NotFound(N_("Member not found."), code="member_not_found")
    return account


def member_timezone(account: Account, merchant_timezone: str | None) -> str:
    """The member's own zone when they chose one in the profile; accounts start on the default
    "UTC", which then means "not chosen" and the shop's zone is used (dates read like receipts)."""
    chosen = (account.timezone or "").strip()
    if chosen and chosen != "UTC":
        return chosen
    return merchant_timezone or chosen or "UTC"


def reason_text(lang: str | None, msgid: str, params: dict | None) -> str:
    """An entry's stored reason (a gettext msgid + its parameters) in ``lang``.

    Parameters are stored as JSON, so care is needed: a parameter may itself be a translatable
    reason (``{"msgid": ..., "params": {...}}``, translated first, recursively), and names such
    as ``lang`` or ``msgid`` must not clash with ``translate``'s own arguments, hence the direct
    lookup + ``safe_format`` (which leaves a missing placeholder visible instead of raising).
    """
    resolved = {name: _resolve_param(lang, value, depth=0) for name, value in (params or {}).items()}
    if not msgid:
        return ""
    text = lookup(lang or "en", msgid) or msgid
    return safe_format(text, resolved, normalize_language(lang))


def _resolve_param(lang: str | None, value: Any, depth: int) -> Any:
    if isinstance(value, dict) and isinstance(value.get("msgid"), str) and depth < 3:
        inner = value.get("params") if isinstance(value.get("params"), dict) else {}
        nested = {k: _resolve_param(lang, v, depth + 1) for k, v in inner.items()}
        return safe_format(lookup(lang or "en", value["msgid"]) or value["msgid"], nested, normalize_language(lang))
    return value


def _filter_condition(name: str):
    kind = LedgerEntry.kind
    if name == "all":
        return None
    if name == "earned":
        return or_(kind == EntryKind.EARN.value, and_(kind.in_(_SIGNED_KINDS), LedgerEntry.points > 0))
    if name == "spent":
        return or_(kind == EntryKind.REDEEM.value, and_(kind.in_(_SIGNED_KINDS), LedgerEntry.points < 0))
    if name == "expired":
        return kind == EntryKind.EXPIRE.value
    if name == "donated":
        return kind == EntryKind.DONATE.value
    raise LoyaltyError(N_("Unknown filter."), code="invalid_filter")


def direction(kind: str, points: int) -> str:
    """``in`` (points added), ``out`` (points taken) or ``info`` (a release changes no total)."""
    if kind == EntryKind.RELEASE.value or points == 0:
        return "info"
    return "in" if points > 0 else "out"


# --------------------------------------------------------------------------- history


def topic(kind: str, source: dict | None) -> str:
    """What an entry was about, for its icon: a small fixed vocabulary the page maps to icons.

    From the kind, and for earns from the ledger source: a challenge bonus, a referral, else the
    action's topic in the registry of ways to earn (``domain.ways_to_earn``); ``earn`` when
    nothing more is known."""
    source = source if isinstance(source, dict) else {}
    if kind != EntryKind.EARN.value:
        return kind
    if "challenge" in source:
        return "challenge"
    if "referral_id" in source:
        return "friend"
    return WAYS_TO_EARN.topic(str(source.get("action") or ""), default="earn")


@dataclass(frozen=True)
class HistoryRow:
    entry_id: int
    kind: str  # EntryKind value
    points: int  # signed as the member sees it (a release: the points that became available)
    direction: str  # in | out | info
    reason: str  # translated into the requested language
    at: datetime  # aware UTC
    topic: str = "earn"  # see ``topic``


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    next_before_id: int | None  # pass as ``before_id`` for the next page; None = no more
    timezone: str  # the zone dates are shown in (see ``member_timezone``)


def history_page(
    engine: Engine,
    actor: Actor | None,
    *,
    filter: str = "all",
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    lang: str = "en",
) -> HistoryPage:
    """One page of the member's own entries, newest first, optionally filtered (see module doc).

    Keyset paging: ``before_id`` is the ``next_before_id`` of the previous page (an entry id);
    the page continues after that entry in (created_at, id) order. One query reads ``limit + 1``
    rows to know whether there is a next page. An id that is not one of the member's entries
    gives an empty page (nothing about other members leaks through the cursor).
    """
    actor = _authorized(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    if filter not in FILTERS:
        raise LoyaltyError(N_("Unknown filter."), code="invalid_filter")
    if before_id is not None and (isinstance(before_id, bool) or not isinstance(before_id, int)):
        raise LoyaltyError(N_("Unknown filter."), code="invalid_filter")
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    with read_session(engine) as session:
        account = _member(session, actor)
        merchant_tz = ledger.get_program_settings(session, actor.merchant_id).timezone
        tz = member_timezone(account, merchant_tz)
        own = (LedgerEntry.merchant_id == actor.merchant_id, LedgerEntry.account_id == actor.account_id)
        stmt = select(
            LedgerEntry.id,
            LedgerEntry.kind,
            LedgerEntry.points,
            LedgerEntry.reason,
            LedgerEntry.reason_params,
            LedgerEntry.created_at,
            LedgerEntry.source,
        ).where(*own)
        condition = _filter_condition(filter)
        if condition is not None:
            stmt = stmt.where(condition)
        if before_id is not None:
            cursor_at = session.exec(select(LedgerEntry.created_at).where(LedgerEntry.id == before_id, *own)).first()
            if cursor_at is None:
                return HistoryPage(rows=[], next_before_id=None, timezone=tz)
            stmt = stmt.where(
                or_(LedgerEntry.created_at < cursor_at, and_(LedgerEntry.created_at == cursor_at, LedgerEntry.id < before_id))
            )
        stmt = stmt.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit + 1)
        found = session.exec(stmt).all()
    more = len(found) > limit
    found = found[:limit]
    rows = [
        HistoryRow(
            entry_id=entry_id,
            kind=kind,
            points=points,
            direction=direction(kind, points),
            reason=reason_text(lang, reason, params),
            at=_utc(created_at),
            topic=topic(kind, source),
        )
        for entry_id, kind, points, reason, params, created_at, source in found
    ]
    return HistoryPage(rows=rows, next_before_id=rows[-1].entry_id if more and rows else None, timezone=tz)


# --------------------------------------------------------------------------- pending / expiring


@dataclass(frozen=True)
class PointsOutlook:
    available: int
    pending: int
    pending_lots: list[tuple[datetime, int]]  # (available_at, points), soonest first
    expiring: list[tuple[datetime, int]]  # (expires_at, points) within ``within_days``, soonest first
    expiring_total: int
    timezone: str


def points_outlook(
    engine: Engine, actor: Actor | None, *, now: datetime | None = None, within_days: int = EXPIRING_WITHIN_DAYS
) -> PointsOutlook:
    """The member's spendable and pending points, when pending points become available, and the
    points expiring within ``within_days`` (``services.ledger.expiring_points``)."""
    actor = _authorized(engine, actor, Action.VIEW_OWN_MEMBER_DATA)
    now = now or utcnow()
    with read_session(engine) as session:
        account = _member(session, actor)
        merchant_tz = ledger.get_program_settings(session, actor.merchant_id).timezone
        balance = ledger.get_balance(session, merchant_id=actor.merchant_id, account_id=actor.account_id)
        pending = session.exec(
            select(PointLot.available_at, func.sum(PointLot.remaining))
            .where(
                PointLot.merchant_id == actor.merchant_id,
                PointLot.account_id == actor.account_id,
                PointLot.is_pending == True,  # noqa: E712
                PointLot.remaining > 0,
            )
            .group_by(PointLot.available_at)
            .order_by(PointLot.available_at)
            .limit(10)
        ).all()
        expiring = ledger.expiring_points(
            session, merchant_id=actor.merchant_id, account_id=actor.account_id, now=now, within_days=within_days
        )
        tz = member_timezone(account, merchant_tz)
    expiring_rows = [(_utc(when), int(points)) for when, points in expiring]
    return PointsOutlook(
        available=balance.available,
        pending=balance.pending,
        pending_lots=[(_utc(when), int(points)) for when, points in pending],
        expiring=expiring_rows,
        expiring_total=sum(points for _, points in expiring_rows),
        timezone=tz,
    )


# --------------------------------------------------------------------------- giving


@dataclass(frozen=True)
class CharityCard:
    charity_id: int
    name: str
    description: str
    total_points: int  # given by every member
    donors: int


@dataclass(frozen=True)
class GivingScreen:
    available: int
    daily_limit: int | None
    donated_today: int
    remaining_today: int | None  # None = no daily limit
    member_total: int  # everything this member ever gave
    charities: list[CharityCard]
    amounts: tuple[int, ...]


@dataclass(frozen=True)
class GiftPreview:
    charity_id: int
    charity_name: str
    points: int
    balance_after: int


@dataclass(frozen=True)
class GiftResult:
    charity_id: int
    charity_name: str
    points: int
    available: int  # the member's points after the gift
    member_total: int
    charity_total: int
    charity_donors: int
    replayed: bool


def parse_points(raw: object) -> int:
    """A typed amount ("250", " 1 000 ") as whole points; anything else is a clear refusal."""
    if isinstance(raw, bool):
        raise LoyaltyError(N_("Enter a whole number of points."), code="invalid_points")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw or "").strip().replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        digits = text[1:] if text.startswith("-") else text  # one sign at most ("--3" is not a number)
        if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 12:
            raise LoyaltyError(N_("Enter a whole number of points."), code="invalid_points")
        value = int(text)
    if value <= 0:
        raise LoyaltyError(N_("Donate at least one point."), code="invalid_points")
    return validate_points(value)


def _member_total(session: Session, actor: Actor) -> int:
    return int(
        session.exec(
            select(func.coalesce(func.sum(Donation.points), 0)).where(
                Donation.merchant_id == actor.merchant_id, Donation.account_id == actor.account_id
            )
        ).one()
        or 0
    )


def _active_charity(session: Session, merchant_id: int, charity_id: object) -> Charity:
    if isinstance(charity_id, bool) or not isinstance(charity_id, int):
        raise NotFound(N_("Charity not found."), code="charity_not_found")
    charity = session.get(Charity, charity_id)
    if charity is None or charity.merchant_id != merchant_id or not charity.is_active:
        raise NotFound(N_("Charity not found."), code="charity_not_found")
    return charity


def giving_screen(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> GivingScreen:
    """What the donate page shows: the charities (with what everyone gave), the member's points,
    today's allowance under the program's daily cap and what the member gave in all."""
    actor = _authorized(engine, actor, Action.DONATE)
    now = now or utcnow()
    with read_session(engine) as session:
        _member(session, actor)
        settings = ledger.get_program_settings(session, actor.merchant_id)
        balance = ledger.get_balance(session, merchant_id=actor.merchant_id, account_id=actor.account_id)
        start, end = donation_rules.day_bounds(now, settings.timezone)
        today = donations.donated_between(
            session, merchant_id=actor.merchant_id, account_id=actor.account_id, start=start, end=end
        )
        totals = {t.charity_id: t for t in donations.charity_totals(session, actor.merchant_id)}
        charities = donations.list_charities(session, actor.merchant_id)
        member_total = _member_total(session, actor)
    limit = settings.donation_daily_limit
    cards = [
        CharityCard(
            c.id,
            c.name,
            c.description or "",
            totals[c.id].points if c.id in totals else 0,
            totals[c.id].donors if c.id in totals else 0,
        )
        for c in charities
    ]
    return GivingScreen(
        available=balance.available,
        daily_limit=limit,
        donated_today=today,
        remaining_today=None if limit is None else max(limit - today, 0),
        member_total=member_total,
        charities=cards,
        amounts=DONATION_AMOUNTS,
    )


def preview_gift(
    engine: Engine, actor: Actor | None, *, charity_id: int, points: object, now: datetime | None = None
) -> GiftPreview:
    """Check a gift before asking "Give 250 points to X?": the same refusals ``give`` would raise
    (bad amount, unknown charity, not enough points, over today's cap), nothing written."""
    actor = _authorized(engine, actor, Action.DONATE)
    amount = parse_points(points)
    now = now or utcnow()
    with read_session(engine) as session:
        _member(session, actor)
        charity = _active_charity(session, actor.merchant_id, charity_id)
        settings = ledger.get_program_settings(session, actor.merchant_id)
        balance = ledger.get_balance(session, merchant_id=actor.merchant_id, account_id=actor.account_id)
        start, end = donation_rules.day_bounds(now, settings.timezone)
        today = donations.donated_between(
            session, merchant_id=actor.merchant_id, account_id=actor.account_id, start=start, end=end
        )
    if amount > balance.available:
        raise insufficient_points(available=balance.available, needed=amount)
    donation_rules.check_donation(amount, donated_today=today, daily_limit=settings.donation_daily_limit)
    return GiftPreview(charity.id, charity.name, amount, balance.available - amount)


def give(
    engine: Engine,
    actor: Actor | None,
    *,
    charity_id: int,
    points: object,
    idempotency_key: str,
    now: datetime | None = None,
) -> GiftResult:
    """Give the member's points to a charity (``services.catalog.donations.donate``: member locked, daily
    cap, ledger debit). The same ``idempotency_key`` again (a double tap, a retry) donates once
    and answers with the first gift. The key is scoped to the member so two members' keys never
    collide."""
    actor = _authorized(engine, actor, Action.DONATE)
    amount = parse_points(points)
    if isinstance(charity_id, bool) or not isinstance(charity_id, int):
        raise NotFound(N_("Charity not found."), code="charity_not_found")
    key = f"m{actor.account_id}:{idempotency_key}"
    outcome = donations.donate(
        engine,
        merchant_id=actor.merchant_id,
        account_id=actor.account_id,
        charity_id=charity_id,
        points=amount,
        idempotency_key=key,
        now=now,
    )
    with read_session(engine) as session:
        member_total = _member_total(session, actor)
        charity_total, donors = session.exec(
            select(func.coalesce(func.sum(Donation.points), 0), func.count(func.distinct(Donation.account_id))).where(
                Donation.merchant_id == actor.merchant_id, Donation.charity_id == charity_id
            )
        ).one()
    return GiftResult(
        charity_id=charity_id,
        charity_name=outcome.charity_name,
        points=outcome.points,
        available=outcome.balance.available,
        member_total=member_total,
        charity_total=int(charity_total or 0),
        charity_donors=int(donors or 0),
        replayed=outcome.replayed,
    )
