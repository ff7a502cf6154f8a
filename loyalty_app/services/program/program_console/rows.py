"""What every kind's rows share: ``RowView`` and the list context (``_Ctx``), the admin check, the
merchant's own rows, tiers, stores and segments, keys made from names, and the facts every kind
shows (status, dates, segment)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain import segments as segment_rules
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.models import Badge, Merchant, Segment, Store, Tier
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.program import program_admin as pa
from loyalty_app.services.program.program_console.forms import UNKNOWN_OPTION, _aware, _Form
from loyalty_app.services.program.program_console.labels import SEGMENT_LABELS

UNKNOWN_TIER = N_("Unknown tier: {value}.")
UNKNOWN_STORE = N_("Choose one of your stores.")
ROW_NOT_FOUND = N_("This item cannot be found. Reload the page.")


@dataclass(frozen=True)
class RowView:
    row_id: int
    key: str
    name: str
    status: str  # active | scheduled | ended | retired
    facts: tuple[tuple[str, dict], ...]  # (msgid, params); msgid "" = params["text"] as is
    form: dict[str, str]  # the edit form, as strings (times in the merchant's timezone)
    retirable: bool = False
    image_id: int | None = None
    published: bool = False  # set by save/retire: a changelog entry was written


def _status(is_active: bool, start: datetime | None, end: datetime | None, now: datetime) -> str:
    if not is_active:
        return "retired"
    if start is not None and _aware(start) > now:
        return "scheduled"
    if end is not None and _aware(end) <= now:
        return "ended"
    return "active"


def slug_key(name: str, fallback: str) -> str:
    """``"Free espresso!"`` -> ``"free-espresso"`` (ASCII; ``fallback`` when nothing is left)."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:32].strip("-")
    return text or fallback


def _new_key(session: Session, model, merchant_id: int, name: str, fallback: str) -> str:
    base = slug_key(name, fallback)
    taken = set(session.exec(select(model.key).where(model.merchant_id == merchant_id)).all())
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


def _admin(engine: Engine, actor: Actor | None, action: Action = Action.ADMIN_MANAGE_PROGRAM) -> Actor:
    return permissions.authorize(engine, actor, action, merchant_id=actor.merchant_id if actor else 0)


def _merchant(session: Session, merchant_id: int) -> Merchant:
    return pa.require_merchant(session, merchant_id)


def _row_id(value: object) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound(ROW_NOT_FOUND, code="row_not_found", field="id")
    return int(text)


def _own_row(session: Session, model, merchant_id: int, row_id: int | None):
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None or row.merchant_id != merchant_id:
        raise NotFound(ROW_NOT_FOUND, code="row_not_found", field="id")
    return row


def _tiers(session: Session, merchant_id: int) -> list[Tier]:
    return list(session.exec(select(Tier).where(Tier.merchant_id == merchant_id).order_by(Tier.rank)).all())


def _stores(session: Session, merchant_id: int) -> list[Store]:
    return list(session.exec(select(Store).where(Store.merchant_id == merchant_id, Store.is_active).order_by(Store.id)).all())


def _store_choice(f: _Form, session: Session, merchant_id: int, name: str = "store") -> int | None:
    value = f.s(name)
    if not value:
        return None
    ids = {str(s.id): s.id for s in _stores(session, merchant_id)}
    if value not in ids:
        f.fail(name, UNKNOWN_STORE, "unknown_store")
        return None
    return ids[value]


@dataclass
class _Ctx:
    """What list views need besides the row (loaded once per list)."""

    tz: str
    currency: str
    now: datetime
    tier_names: dict[int, str] = field(default_factory=dict)
    tier_by_key: dict[str, str] = field(default_factory=dict)
    tier_key_by_id: dict[int, str] = field(default_factory=dict)
    store_names: dict[int, str] = field(default_factory=dict)
    badge_keys: dict[int, str] = field(default_factory=dict)
    segment_names: dict[str, str] = field(default_factory=dict)  # "seg:<id>" -> name


def _ctx(session: Session, merchant: Merchant, now: datetime) -> _Ctx:
    tiers = _tiers(session, merchant.id)
    badges = session.exec(select(Badge.id, Badge.key).where(Badge.merchant_id == merchant.id)).all()
    return _Ctx(
        tz=merchant.timezone or "UTC",
        currency=merchant.currency,
        now=now,
        tier_names={t.id: t.name for t in tiers},
        tier_by_key={t.key: t.name for t in tiers},
        tier_key_by_id={t.id: t.key for t in tiers},
        store_names={s.id: s.name for s in session.exec(select(Store).where(Store.merchant_id == merchant.id)).all()},
        badge_keys=dict(badges),
        segment_names={
            segment_rules.segment_ref(i): n
            for i, n in session.exec(select(Segment.id, Segment.name).where(Segment.merchant_id == merchant.id)).all()
        },
    )


def _segment_choice(f: _Form, session: Session, merchant_id: int, row) -> str | None:
    """The ``segment`` field: a built-in key or ``seg:<id>`` of an active segment of this program
    (a row keeps the segment it already had even if that one was retired since)."""
    value = f.s("segment")
    if not value:
        return None
    allowed = set(SEGMENT_LABELS) | {
        segment_rules.segment_ref(i)
        for i in session.exec(select(Segment.id).where(Segment.merchant_id == merchant_id, Segment.is_active)).all()
    }
    if row is not None and row.segment_key:
        allowed.add(row.segment_key)
    if value not in allowed:
        f.fail("segment", UNKNOWN_OPTION, "unknown_option")
        return None
    return value


def _segment_fact(key: str | None, ctx: _Ctx) -> list[tuple[str, dict]]:
    if not key:
        return []
    if key in SEGMENT_LABELS:
        return [(SEGMENT_LABELS[key], {})]
    return [(N_("Only for: {segment}"), {"segment": ctx.segment_names.get(key, key)})]


def _upsert_with_segment(upsert: Callable, session: Session, merchant_id: int, key: str, values: dict):
    """Reward and challenge upserts (program_admin) predate targeting: ``upsert`` takes the form's
    values but its segment key, which is set here, only when it changes."""
    values = dict(values)
    segment_key = values.pop("segment_key", None)
    row = upsert(session, merchant_id, key, **values)
    if row.segment_key != segment_key:
        row.segment_key = segment_key
    return row


def _window_facts(start: datetime | None, end: datetime | None) -> list[tuple[str, dict]]:
    facts = []
    if start is not None:
        facts.append((N_("From {date}"), {"date": _aware(start)}))
    if end is not None:
        facts.append((N_("Until {date}"), {"date": _aware(end)}))
    return facts
