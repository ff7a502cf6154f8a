"""The merchant console's program editor: rewards, earning rules, tiers, badges, challenges,
quests, charities and surveys; the published changelog; moderation of reviews and submissions.

For every kind of row there is ``list_X(engine, admin)`` and ``save_X(engine, admin, form, *,
publish_note="")`` (plus ``retire_X`` where the row can be switched off; ``set_active`` brings one back):

- ``form`` is the raw form as the browser sent it (strings). Every field is parsed and checked
  here (numbers, decimals, dates and times in the MERCHANT's timezone -> UTC, hex colours, tier
  keys, stores, limits...). All refused fields are collected and raised together as one
  ``FormInvalid`` (a LoyaltyError whose message/code/``field`` are the first refusal's and whose
  ``errors`` maps each field to its own LoyaltyError), before anything is written;
- the row is then created or updated through ``services.program_admin`` (or
  ``engagement.upsert_survey``) and, when something actually changed, a changelog entry
  (``changelog.record_change``: what, when, effective date = the rule's start) is written IN THE
  SAME TRANSACTION: both land or neither does;
- a new row's key is a slug of its name (made unique); an ``id`` sent by the browser is checked
  to be a row of the admin's own merchant (else NotFound, nothing written);
- everything is authorized with ``Action.ADMIN_MANAGE_PROGRAM`` (moderation:
  ``Action.ADMIN_MODERATE``) through ``services.permissions.authorize``.

Lists return ``RowView``s: a status (active / scheduled / ended / retired), facts to show as
``(msgid, params)`` pairs (datetime params are UTC instants for the page to format) and the
row's edit form as strings (times in the merchant's timezone).

Segments (``save_segment``...) follow the same path with two differences: they are the
merchant's own targeting, never shown to members, so a save writes the admin audit entry but no
"What's new" entry; and a segment that active offers still target cannot be retired (change the
offers first). Rewards, challenges, quests and earning rules pick their segment in a ``segment``
field: a built-in key or ``seg:<id>`` of one of the program's active segments.

Retiring a tier moves its members, in the same transaction, to the highest active tier below
it (``services.tiers.move_members_off_tier``; their history keeps the old tier); nobody reaches
a retired tier. A retired badge is no longer awarded; members who earned it keep it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain import segments as segment_rules
from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.catalog import RewardKind
from loyalty_app.domain.challenges import VISIT, Recurrence
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import SEGMENTS, LimitPeriod
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.quests import local_to_utc, utc_to_local
from loyalty_app.domain.text import lines, one_line
from loyalty_app.domain.ways_to_earn import VISIT_HOW, WAYS_TO_EARN
from loyalty_app.i18n import format_datetime, translate
from loyalty_app.models import (
    Account,
    Badge,
    Challenge,
    Charity,
    EarningRule,
    MediaBlob,
    Merchant,
    Quest,
    Reward,
    RewardRating,
    Segment,
    Store,
    Submission,
    Survey,
    Tier,
)
from loyalty_app.services import admin_audit, changelog, engagement, permissions
from loyalty_app.services import program_admin as pa
from loyalty_app.services import rewards as reward_service
from loyalty_app.services import segments as segment_service
from loyalty_app.services.permissions import Action, Actor
from loyalty_app.services.tiers import move_members_off_tier
from loyalty_app.services.tx import run_in_transaction

# ============================================================================ messages

REQUIRED = N_("This field is required.")
TOO_LONG = N_("At most {max} characters.")
NOT_A_WHOLE_NUMBER = N_("Enter a whole number.")
OUT_OF_RANGE = N_("Enter a number from {min} to {max}.")
NOT_A_DECIMAL = N_("Enter a number, like 1.5.")
MULTIPLIER_RANGE = N_("Enter a multiplier from ×{min} to ×{max}, like 1.5.")
BAD_DATETIME = N_("Enter a date and time, like 2026-12-24 18:00.")
ENDS_BEFORE_START = N_("The end must be after the start.")
BAD_COLOUR = N_("Enter a colour like #1F5F46.")
UNKNOWN_OPTION = N_("Choose one of the offered options.")
UNKNOWN_TIER = N_("Unknown tier: {value}.")
UNKNOWN_ACTION = N_("Unknown action: {value}.")
UNKNOWN_STORE = N_("Choose one of your stores.")
UNKNOWN_BADGE = N_("Choose one of your badges.")
UNKNOWN_CHALLENGE = N_("Choose one of your challenges.")
LIMIT_PERIOD_REQUIRED = N_("Choose how often the limit applies.")
LIMIT_COUNT_REQUIRED = N_("Enter how many times per period.")
RANK_TAKEN = N_("Another tier already has this rank.")
THRESHOLD_ORDER = N_("A higher tier needs more points than the tiers below it.")
BAD_EVENT_CODES = N_("Event codes: letters, digits, - and _, separated by commas.")
QUESTIONS_COUNT = N_("Add 1 to 20 questions, one per line.")
QUESTION_KIND = N_("Line {line}: start with choice:, stars: or text:.")
QUESTION_TEXT = N_("Line {line}: write the question (200 characters at most).")
QUESTION_OPTIONS = N_("Line {line}: a choice needs 2 to 12 different answers after “=”, separated by “;”.")
ROW_NOT_FOUND = N_("This item cannot be found. Reload the page.")
SEGMENT_IN_USE = N_(
    "Offers still targeting this segment (rewards, challenges, quests, ways to earn): {n}. Change or retire them first."
)
NOT_A_SPEND = N_("Enter an amount, like 50 or 49.90.")
REASON_REQUIRED = N_("Say why.")
SUBMISSION_NOT_FOUND = engagement.SUBMISSION_NOT_FOUND

# Changelog titles (merchant content: written once, in the program's default language).
TITLES: dict[str, tuple[str, str, str, str]] = {
    # kind: (created, updated, retired, available again)
    "reward": (
        N_("New reward: {name}"),
        N_("Reward updated: {name}"),
        N_("Reward retired: {name}"),
        N_("Reward available again: {name}"),
    ),
    "earning": (
        N_("New way to earn: {name}"),
        N_("Way to earn updated: {name}"),
        N_("Way to earn retired: {name}"),
        N_("Way to earn back: {name}"),
    ),
    "tier": (N_("New tier: {name}"), N_("Tier updated: {name}"), N_("Tier retired: {name}"), N_("Tier back: {name}")),
    "badge": (N_("New badge: {name}"), N_("Badge updated: {name}"), N_("Badge retired: {name}"), N_("Badge back: {name}")),
    "challenge": (
        N_("New challenge: {name}"),
        N_("Challenge updated: {name}"),
        N_("Challenge retired: {name}"),
        N_("Challenge back: {name}"),
    ),
    "quest": (
        N_("{name}: ×{multiplier} points from {start}"),
        N_("Changed: {name}, ×{multiplier} points from {start}"),
        N_("Cancelled: {name}"),
        N_("Back on: {name}, ×{multiplier} points from {start}"),
    ),
    "charity": (
        N_("New charity: {name}"),
        N_("Charity updated: {name}"),
        N_("Charity retired: {name}"),
        N_("Charity back: {name}"),
    ),
    "survey": (
        N_("New survey: {name}"),
        N_("Survey updated: {name}"),
        N_("Survey closed: {name}"),
        N_("Survey reopened: {name}"),
    ),
}
START_FORMAT = "EEE d MMM HH:mm"  # "Sat 5 Dec 12:00" in the program's language and timezone

# ============================================================================ option lists

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
RFM_LABELS = {
    "champions": N_("Champions"),
    "loyal": N_("Loyal"),
    "new": N_("New"),
    "at_risk": N_("At risk"),
    "hibernating": N_("Hibernating"),
    "others": N_("Others"),
}  # the analytics RFM classes (services.analytics.SEGMENT_LABELS)

EDITOR_KINDS = ("reward", "earning", "tier", "badge", "challenge", "quest", "charity", "survey", "segment")
RETIRABLE = frozenset({"reward", "earning", "tier", "badge", "challenge", "quest", "charity", "survey", "segment"})

MAX_POINTS = 1_000_000
MAX_NOTE = 1000
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
FORM_DATETIME = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> shows and sends
EVENT_CODE_RE = re.compile(r"[A-Z0-9_-]{1,40}")
QUESTION_LINE_RE = re.compile(r"^\s*(choice|stars|text)\s*:\s*(.*)$", re.IGNORECASE)
OPTIONAL_MARK_RE = re.compile(r"\s*\((optional|opcional|opțional|необязательно)\)\s*$", re.IGNORECASE)
REWARD_IMAGE_PREVIEW = 240  # px, the console's preview of a picked picture

# ============================================================================ errors


class FormInvalid(LoyaltyError):
    """One or more fields refused. ``message``/``code``/``params`` are the first refusal's
    (``params["field"]`` names its field); ``errors`` holds every refused field's own error."""

    def __init__(self, errors: dict[str, LoyaltyError]):
        first = next(iter(errors.values()))
        super().__init__(first.message, code=first.code, **first.params)
        self.errors = dict(errors)


# ============================================================================ views


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


@dataclass(frozen=True)
class ProgramOptions:
    """What the editor's selects and checkboxes offer (all of this merchant only)."""

    timezone: str
    currency: str
    tiers: list[tuple[str, str]]  # (key, name) by rank
    stores: list[tuple[int, str]]
    badges: list[tuple[str, str]]
    challenges: list[tuple[str, str]]
    segments: list[tuple[str, str]] = field(default_factory=list)  # ("seg:<id>", name) of active merchant segments
    retired_tiers: frozenset[str] = frozenset()  # keys of retired tiers (still listed: old rows may point at them)
    retired_badges: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReviewRow:
    rating_id: int
    reward_name: str
    first_name: str
    stars: int
    text: str
    updated_at: datetime
    hidden: bool
    hidden_reason: str


@dataclass(frozen=True)
class SubmissionRow:
    submission_id: int
    kind: str  # social | photo
    url: str
    has_photo: bool
    member: str
    created_at: datetime


# ============================================================================ form parsing


class _Form:
    """Reads raw form strings; every refusal is kept (first per field) and raised by ``check``."""

    def __init__(self, raw: dict | None, tz: str):
        self.raw = {str(k): v for k, v in (raw or {}).items()}
        self.tz = tz
        self.errors: dict[str, LoyaltyError] = {}

    def fail(self, name: str, message: str, code: str, **params: Any) -> None:
        self.errors.setdefault(name, LoyaltyError(message, code=code, field=name, **params))

    def check(self) -> None:
        if self.errors:
            raise FormInvalid(self.errors)

    def s(self, name: str) -> str:
        value = self.raw.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        if value is None or isinstance(value, bool):
            return "on" if value is True else ""
        return str(value).strip()

    def text(self, name: str, *, max_len: int, required: bool = False, multiline: bool = False) -> str:
        value = lines(self.s(name)) if multiline else one_line(self.s(name))
        if required and not value:
            self.fail(name, REQUIRED, "field_required")
        elif len(value) > max_len:
            self.fail(name, TOO_LONG, "field_too_long", max=max_len)
        return value

    def integer(self, name: str, *, lo: int = 0, hi: int = MAX_POINTS, required: bool = False) -> int | None:
        value = self.s(name).replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
        if not value:
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        if not re.fullmatch(r"[+-]?\d{1,12}", value):
            self.fail(name, NOT_A_WHOLE_NUMBER, "not_a_whole_number")
            return None
        number = int(value)
        if not lo <= number <= hi:
            self.fail(name, OUT_OF_RANGE, "number_out_of_range", min=lo, max=hi)
            return None
        return number

    def _decimal(self, name: str) -> Decimal | None:
        value = self.s(name).replace(",", ".").lstrip("×xX*").strip()
        if not value:
            return None
        if not re.fullmatch(r"\d{1,6}(\.\d{1,2})?", value):
            self.fail(name, NOT_A_DECIMAL, "not_a_decimal")
            return None
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern above admits only decimals
            self.fail(name, NOT_A_DECIMAL, "not_a_decimal")
            return None

    def multiplier(self, name: str, *, lo: Decimal, hi: Decimal, above_lo: bool = False, required: bool = True) -> int | None:
        """A multiplier typed as ×N ("2", "1.5", "1,5"), returned in percent (150)."""
        if not self.s(name):
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        value = self._decimal(name)
        if value is None:
            return None
        if value > hi or value < lo or (above_lo and value == lo):
            self.fail(name, MULTIPLIER_RANGE, "multiplier_out_of_range", min=_fmt_dec(lo), max=_fmt_dec(hi))
            return None
        return int(value * 100)

    def rate(self, name: str) -> str | None:
        """Points per currency unit of a purchase rule ("1", "0.5", "1.25")."""
        if not self.s(name):
            self.fail(name, REQUIRED, "field_required")
            return None
        value = self._decimal(name)
        if value is None:
            return None
        if not Decimal("0.01") <= value <= Decimal(1000):
            self.fail(name, OUT_OF_RANGE, "number_out_of_range", min="0.01", max=1000)
            return None
        return _fmt_dec(value)

    def choice(self, name: str, allowed, *, default: str | None = None, required: bool = True) -> str | None:
        value = self.s(name)
        if not value:
            if default is not None:
                return default
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        if value not in allowed:
            self.fail(name, UNKNOWN_OPTION, "unknown_option")
            return None
        return value

    def moment(self, name: str, *, required: bool = False) -> datetime | None:
        """A wall-clock time in the merchant's timezone -> aware UTC."""
        value = self.s(name)
        if not value:
            if required:
                self.fail(name, REQUIRED, "field_required")
            return None
        for fmt in DATETIME_FORMATS:
            try:
                local = datetime.strptime(value, fmt)
            except ValueError:
                continue
            if not 2000 <= local.year <= 2100:
                break
            return local_to_utc(local, self.tz)
        self.fail(name, BAD_DATETIME, "invalid_datetime")
        return None

    def window(self, end_name: str, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None and end <= start:
            self.fail(end_name, ENDS_BEFORE_START, "ends_before_start")

    def colour(self, name: str, *, default: str) -> str:
        value = self.s(name) or default
        if not re.fullmatch(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value):
            self.fail(name, BAD_COLOUR, "invalid_colour")
            return default
        digits = value.lstrip("#")
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return "#" + digits.lower()

    def flag(self, name: str) -> bool:
        return self.s(name).lower() in ("on", "true", "1", "yes")

    def keys(self, name: str, allowed: dict[str, str] | set[str], *, message: str, code: str) -> list[str]:
        """Several values: a comma-separated ``name`` and/or checkboxes named ``name:<value>``."""
        chosen: list[str] = [k.strip() for k in self.s(name).split(",") if k.strip()]
        prefix = name + ":"
        for raw_name in self.raw:
            if raw_name.startswith(prefix) and self.flag(raw_name):
                chosen.append(raw_name[len(prefix) :])
        result: list[str] = []
        for key in chosen:
            if key not in allowed:
                self.fail(name, message, code, value=key[:40])
            elif key not in result:
                result.append(key)
        return result


def _fmt_dec(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _pct_text(pct: int) -> str:
    return _fmt_dec(Decimal(pct) / Decimal(100))


def _local_text(at: datetime | None, tz: str) -> str:
    return utc_to_local(_aware(at), tz).strftime(FORM_DATETIME) if at is not None else ""


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _num(value: int | None) -> str:
    return "" if value is None else str(value)


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


# ============================================================================ shared plumbing


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


def _snapshot(row) -> dict:
    """Every column of ``row`` (copied), to tell whether a save changed anything."""
    return {c.name: copy.deepcopy(getattr(row, c.name)) for c in row.__table__.columns} if row is not None else {}


def _title(lang: str, template: str, **params: Any) -> str:
    title = " ".join(translate(lang, template, **params).split())
    return title if len(title) <= 120 else title[:119].rstrip() + "…"


@dataclass
class _Spec:
    kind: str  # changelog kind
    model: type
    fallback_key: str
    parse: Callable  # (f, session, merchant, row) -> values for the upsert
    upsert: Callable  # (session, merchant_id, key, values) -> row
    view: Callable  # (row, ctx) -> RowView
    start: Callable = field(default=lambda row: None)  # the rule's start (effective date)
    title_params: Callable = field(default=lambda row, lang, tz: {"name": row.name})
    order: tuple = ()
    publish: bool = True  # False: the merchant's own (segments): audited, never on members' "What's new"
    on_set_active: Callable | None = None  # (session, merchant, row, active, now) after the flag changed, same transaction


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


def _set_segment(row, segment_key: str | None):
    """Reward and challenge upserts (program_admin) predate targeting: set the key here, only when it changes."""
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


def _note(f: _Form) -> str:
    return f.text("publish_note", max_len=MAX_NOTE, multiline=True)


def _save(
    engine: Engine,
    actor: Actor | None,
    spec: _Spec,
    form: dict,
    publish_note: str,
    now: datetime | None,
    extra: Callable | None = None,
) -> RowView:
    admin = _admin(engine, actor)
    now = now or utcnow()

    def run(session: Session) -> RowView:
        merchant = _merchant(session, admin.merchant_id)
        tz = merchant.timezone or "UTC"
        f = _Form({**(form or {}), "publish_note": publish_note}, tz)
        row = _own_row(session, spec.model, merchant.id, _row_id(f.s("id")))
        note = _note(f)
        values = spec.parse(f, session, merchant, row)
        f.check()  # every refusal before anything is written
        if extra is not None:
            values.update(extra(session, merchant, row))
        before = _snapshot(row)
        key = (
            row.key
            if row is not None
            else _new_key(session, spec.model, merchant.id, values.get("name") or values.get("title", ""), spec.fallback_key)
        )
        saved = spec.upsert(session, merchant.id, key, values)
        published = row is None or before != _snapshot(saved)
        if published:
            admin_audit.record(
                session,
                admin,
                f"program.{'create' if row is None else 'update'}_{spec.kind}",
                target=f"{spec.kind}:{saved.key}",
                now=now,
            )
        if published and spec.publish:
            lang = merchant.default_language or "en"
            template = TITLES[spec.kind][0 if row is None else 1]
            start = spec.start(saved)
            changelog.record_change(
                session,
                merchant_id=merchant.id,
                kind=_change_kind(spec.kind),
                title=_title(lang, template, **spec.title_params(saved, lang, tz)),
                body=note,
                effective_at=max(_aware(start), now) if start is not None else now,
                author_id=admin.account_id,
                now=now,
                segment_key=getattr(saved, "segment_key", None),
            )
        return dataclasses.replace(spec.view(saved, _ctx(session, merchant, now)), published=published)

    return run_in_transaction(engine, run)


def _set_active(
    engine: Engine, actor: Actor | None, spec: _Spec, row_id: int | str, active: bool, publish_note: str, now: datetime | None
) -> RowView:
    admin = _admin(engine, actor)
    now = now or utcnow()

    def run(session: Session) -> RowView:
        merchant = _merchant(session, admin.merchant_id)
        f = _Form({"publish_note": publish_note}, merchant.timezone or "UTC")
        note = _note(f)
        f.check()
        row = _own_row(session, spec.model, merchant.id, _row_id(row_id))
        if row is None:
            raise NotFound(ROW_NOT_FOUND, code="row_not_found", field="id")
        published = row.is_active != active
        if published:
            admin_audit.record(
                session,
                admin,
                f"program.{'restore' if active else 'retire'}_{spec.kind}",
                target=f"{spec.kind}:{row.key}",
                now=now,
            )
            row.is_active = active
            session.add(row)
            session.flush()
            if spec.on_set_active is not None:
                spec.on_set_active(session, merchant, row, active, now)
            if spec.publish:
                lang = merchant.default_language or "en"
                template = TITLES[spec.kind][3 if active else 2]
                start = spec.start(row) if active else None
                changelog.record_change(
                    session,
                    merchant_id=merchant.id,
                    kind=_change_kind(spec.kind),
                    title=_title(lang, template, **spec.title_params(row, lang, merchant.timezone or "UTC")),
                    body=note,
                    effective_at=max(_aware(start), now) if start is not None else now,
                    author_id=admin.account_id,
                    now=now,
                    segment_key=getattr(row, "segment_key", None),
                )
        return dataclasses.replace(spec.view(row, _ctx(session, merchant, now)), published=published)

    return run_in_transaction(engine, run)


def _change_kind(kind: str) -> str:
    return kind if kind in changelog.KINDS else "program"


def _list(engine: Engine, actor: Actor | None, spec: _Spec, now: datetime | None) -> list[RowView]:
    admin = _admin(engine, actor)
    now = now or utcnow()
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        ctx = _ctx(session, merchant, now)
        rows = session.exec(select(spec.model).where(spec.model.merchant_id == merchant.id).order_by(*spec.order)).all()
        return [spec.view(r, ctx) for r in rows]


# ============================================================================ rewards


def _parse_reward(f: _Form, session: Session, merchant: Merchant, row: Reward | None) -> dict:
    tiers = {t.key: t for t in _tiers(session, merchant.id)}
    values = dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        kind=f.choice("kind", REWARD_KIND_LABELS),
        cost_points=f.integer("cost_points", lo=1, required=True),
        stock=f.integer("stock", lo=0),
        per_member_limit=f.integer("per_member_limit", lo=1, hi=1000),
        min_tier_key=None,
        valid_from=f.moment("valid_from"),
        valid_until=f.moment("valid_until"),
        voucher_validity_days=f.integer("voucher_validity_days", lo=1, hi=3650),
    )
    tier_key = f.s("min_tier")
    if tier_key and tier_key not in tiers:
        f.fail("min_tier", UNKNOWN_TIER, "unknown_tier", value=tier_key[:40])
    else:
        values["min_tier_key"] = tier_key or None
    values["segment_key"] = _segment_choice(f, session, merchant.id, row)
    f.window("valid_until", values["valid_from"], values["valid_until"])
    values["is_active"] = row.is_active if row is not None else True
    values["sort_order"] = row.sort_order if row is not None else 0
    values["image_id"] = row.image_id if row is not None else None
    return values


def _upsert_reward(session: Session, merchant_id: int, key: str, values: dict) -> Reward:
    values = dict(values)
    segment_key = values.pop("segment_key", None)
    return _set_segment(pa.upsert_reward(session, merchant_id, key, **values), segment_key)


def _reward_view(row: Reward, ctx: _Ctx) -> RowView:
    tier_key = ctx.tier_key_by_id.get(row.min_tier_id, "") if row.min_tier_id else ""
    facts: list[tuple[str, dict]] = [
        (N_("{points} points"), {"points": row.cost_points}),
        (REWARD_KIND_LABELS.get(row.kind, N_("Reward")), {}),
        (N_("Stock: {n}"), {"n": row.stock}) if row.stock is not None else (N_("Unlimited stock"), {}),
    ]
    if row.per_member_limit:
        facts.append((N_("Up to {n} per member"), {"n": row.per_member_limit}))
    if row.min_tier_id:
        facts.append((N_("{tier} and above"), {"tier": ctx.tier_names.get(row.min_tier_id, "")}))
    facts += _segment_fact(row.segment_key, ctx)
    facts += _window_facts(row.valid_from, row.valid_until)
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "cost_points": str(row.cost_points),
        "stock": _num(row.stock),
        "per_member_limit": _num(row.per_member_limit),
        "min_tier": tier_key,
        "valid_from": _local_text(row.valid_from, ctx.tz),
        "valid_until": _local_text(row.valid_until, ctx.tz),
        "voucher_validity_days": _num(row.voucher_validity_days),
        "segment": row.segment_key or "",
    }
    return RowView(
        row.id,
        row.key,
        row.name,
        _status(row.is_active, row.valid_from, row.valid_until, ctx.now),
        tuple(facts),
        form,
        True,
        row.image_id,
    )


def _reward_extra(image: bytes | None, remove_image: bool) -> Callable:
    from loyalty_app.services.media import store_image
    from loyalty_app.services.member_media import decode_upload

    picture = decode_upload(image, "reward") if image else None  # before the transaction: slow, and may refuse

    def extra(session: Session, merchant: Merchant, row: Reward | None) -> dict:
        if picture is not None:
            return {"image_id": store_image(session, merchant_id=merchant.id, kind="reward", image=picture, fmt="WEBP").id}
        if remove_image:
            return {"image_id": None}
        return {}

    return extra


REWARD = _Spec(
    "reward",
    Reward,
    "reward",
    _parse_reward,
    _upsert_reward,
    _reward_view,
    start=lambda r: r.valid_from,
    order=(Reward.sort_order, Reward.id),
)


def list_rewards(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, REWARD, now)


def save_reward(
    engine: Engine,
    admin: Actor | None,
    form: dict,
    *,
    publish_note: str = "",
    image: bytes | None = None,
    remove_image: bool = False,
    now: datetime | None = None,
) -> RowView:
    """Create or update a reward. ``image``: an uploaded picture (checked and re-encoded by
    ``member_media.decode_upload``, stored with the reward in the same transaction)."""
    _admin(engine, admin)
    return _save(engine, admin, REWARD, form, publish_note, now, extra=_reward_extra(image, remove_image))


def retire_reward(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, REWARD, row_id, False, publish_note, now)


def prepare_reward_image(data: bytes) -> tuple[bytes, str]:
    """Check an uploaded reward picture now (clear errors at once) and return the cleaned WebP
    bytes to save later, plus a small preview as a data URL."""
    from loyalty_app.services.member_media import decode_upload

    image = decode_upload(data or b"", "reward")
    buf = io.BytesIO()
    image.save(buf, format="WEBP", quality=85, method=4)
    thumb = image.copy()
    thumb.thumbnail((REWARD_IMAGE_PREVIEW, REWARD_IMAGE_PREVIEW))
    small = io.BytesIO()
    thumb.save(small, format="WEBP", quality=70)
    return buf.getvalue(), "data:image/webp;base64," + base64.b64encode(small.getvalue()).decode()


# ============================================================================ earning rules


def _parse_earning(f: _Form, session: Session, merchant: Merchant, row: EarningRule | None) -> dict:
    tiers = {t.key: t.name for t in _tiers(session, merchant.id)}
    name = f.text("name", max_len=80, required=True)
    action = f.choice("action", ACTION_LABELS)
    values: dict[str, Any] = dict(name=name, action=action or EarnAction.CHECK_IN.value, points=0, points_per_unit=None)
    if action == EarnAction.PURCHASE.value:
        values["points_per_unit"] = f.rate("points_per_unit")
    elif action is not None:
        values["points"] = f.integer("points", lo=1, hi=100_000, required=True) or 0
    limit_count = f.integer("limit_count", lo=1, hi=1000)
    period = f.choice("limit_period", LIMIT_PERIOD_LABELS, default=LimitPeriod.NONE.value)
    if limit_count is not None and period == LimitPeriod.NONE.value:
        f.fail("limit_period", LIMIT_PERIOD_REQUIRED, "limit_period_required")
    if limit_count is None and period not in (None, LimitPeriod.NONE.value) and "limit_count" not in f.errors:
        f.fail("limit_count", LIMIT_COUNT_REQUIRED, "limit_count_required")
    values.update(
        limit_count=limit_count if period != LimitPeriod.NONE.value else None,
        limit_period=period or LimitPeriod.NONE.value,
        valid_from=f.moment("valid_from"),
        valid_until=f.moment("valid_until"),
        tier_keys=f.keys("tier_keys", tiers, message=UNKNOWN_TIER, code="unknown_tier"),
        segment_key=_segment_choice(f, session, merchant.id, row),
        store_id=_store_choice(f, session, merchant.id),
    )
    f.window("valid_until", values["valid_from"], values["valid_until"])
    params = dict(row.params or {}) if row is not None else {}
    codes_text = f.s("event_codes")
    way = WAYS_TO_EARN.get(action)
    if way is not None and "event_codes" in way.params:  # the registry says which rules take event codes
        codes = [c.strip().upper() for c in re.split(r"[,\s;]+", codes_text) if c.strip()]
        if len(codes) > 50 or any(not EVENT_CODE_RE.fullmatch(c) for c in codes):
            f.fail("event_codes", BAD_EVENT_CODES, "invalid_event_codes")
        params["event_codes"] = list(dict.fromkeys(codes))
    values["params"] = params
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_earning(session: Session, merchant_id: int, key: str, values: dict) -> EarningRule:
    return pa.upsert_earning_rule(session, merchant_id, key, **values)


def _earning_view(row: EarningRule, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(ACTION_LABELS.get(row.action, N_("Reward")), {})]
    if row.action == EarnAction.PURCHASE.value:
        facts.append((N_("{rate} points per {currency}"), {"rate": row.points_per_unit or "0", "currency": ctx.currency}))
    else:
        facts.append((N_("{points} points"), {"points": row.points}))
    if row.limit_count and row.limit_period in LIMIT_FACTS:
        facts.append((LIMIT_FACTS[row.limit_period], {"n": row.limit_count}))
    if row.tier_keys:
        facts.append((N_("Only for: {tiers}"), {"tiers": ", ".join(ctx.tier_by_key.get(k, k) for k in row.tier_keys)}))
    facts += _segment_fact(row.segment_key, ctx)
    if row.store_id:
        facts.append((N_("Only at {store}"), {"store": ctx.store_names.get(row.store_id, "")}))
    facts += _window_facts(row.valid_from, row.valid_until)
    form = {
        "id": str(row.id),
        "name": row.name,
        "action": row.action,
        "points": str(row.points or ""),
        "points_per_unit": row.points_per_unit or "",
        "limit_count": _num(row.limit_count),
        "limit_period": row.limit_period,
        "valid_from": _local_text(row.valid_from, ctx.tz),
        "valid_until": _local_text(row.valid_until, ctx.tz),
        "tier_keys": ",".join(row.tier_keys or []),
        "segment": row.segment_key or "",
        "store": _num(row.store_id),
        "event_codes": ", ".join((row.params or {}).get("event_codes", [])),
    }
    return RowView(
        row.id,
        row.key,
        row.name or ACTION_LABELS.get(row.action, row.action),
        _status(row.is_active, row.valid_from, row.valid_until, ctx.now),
        tuple(facts),
        form,
        True,
    )


EARNING = _Spec(
    "earning",
    EarningRule,
    "rule",
    _parse_earning,
    _upsert_earning,
    _earning_view,
    start=lambda r: r.valid_from,
    title_params=lambda r, lang, tz: {"name": r.name or translate(lang, ACTION_LABELS.get(r.action, r.action))},
    order=(EarningRule.id,),
)


def list_earning_rules(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, EARNING, now)


def save_earning_rule(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _save(engine, admin, EARNING, form, publish_note, now)


def retire_earning_rule(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, EARNING, row_id, False, publish_note, now)


# ============================================================================ tiers


def _parse_tier(f: _Form, session: Session, merchant: Merchant, row: Tier | None) -> dict:
    others = [t for t in _tiers(session, merchant.id) if row is None or t.id != row.id]
    values = dict(
        name=f.text("name", max_len=60, required=True),
        rank=f.integer("rank", lo=0, hi=20, required=True),
        threshold=f.integer("threshold", lo=0, hi=10_000_000, required=True),
        colour=f.colour("colour", default="#888888"),
        description=f.text("description", max_len=300, multiline=True),
    )
    pct = f.multiplier("purchase_multiplier", lo=Decimal(1), hi=Decimal(10), required=False)
    multipliers = dict(row.multipliers or {}) if row is not None else {}
    if pct is None or pct == 100:
        multipliers.pop(EarnAction.PURCHASE.value, None)
    else:
        multipliers[EarnAction.PURCHASE.value] = pct
    values["multipliers"] = multipliers
    rank, threshold = values["rank"], values["threshold"]
    if rank is not None and any(t.rank == rank for t in others):
        f.fail("rank", RANK_TAKEN, "rank_taken")
    elif rank is not None and threshold is not None:
        if any((t.rank < rank and t.threshold >= threshold) or (t.rank > rank and t.threshold <= threshold) for t in others):
            f.fail("threshold", THRESHOLD_ORDER, "threshold_order")
    return values


def _upsert_tier(session: Session, merchant_id: int, key: str, values: dict) -> Tier:
    return pa.upsert_tier(session, merchant_id, key, **values)


def _tier_view(row: Tier, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [
        (N_("Rank {rank}"), {"rank": row.rank}),
        (N_("From {points} points earned"), {"points": row.threshold}),
    ]
    purchase = (row.multipliers or {}).get(EarnAction.PURCHASE.value)
    if purchase and int(purchase) != 100:
        facts.append((N_("Purchases ×{multiplier}"), {"multiplier": _pct_text(int(purchase))}))
    form = {
        "id": str(row.id),
        "name": row.name,
        "rank": str(row.rank),
        "threshold": str(row.threshold),
        "colour": row.colour,
        "purchase_multiplier": _pct_text(int(purchase)) if purchase else "1",
        "description": row.description,
    }
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), tuple(facts), form, True)


def _tier_set_active(session: Session, merchant: Merchant, row: Tier, active: bool, now: datetime) -> None:
    """No member is left in a retired tier: they move to the highest active tier below it."""
    if not active:
        move_members_off_tier(session, merchant_id=merchant.id, tier_id=row.id, now=now)


TIER = _Spec("tier", Tier, "tier", _parse_tier, _upsert_tier, _tier_view, order=(Tier.rank,), on_set_active=_tier_set_active)


def list_tiers(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, TIER, now)


def save_tier(engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None) -> RowView:
    return _save(engine, admin, TIER, form, publish_note, now)


def retire_tier(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    """Retire a tier: its members move at once to the highest active tier below it (a history
    row each); nobody reaches it any more. Rewards gated on it stay gated by its rank."""
    return _set_active(engine, admin, TIER, row_id, False, publish_note, now)


# ============================================================================ badges


def _parse_badge(f: _Form, session: Session, merchant: Merchant, row: Badge | None) -> dict:
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=60, required=True),
        description=f.text("description", max_len=200, multiline=True),
        kind=f.choice("kind", BADGE_KIND_LABELS),
        target=f.integer("target", lo=1, hi=1_000_000, required=True),
        icon=f.choice("icon", BADGE_ICONS, default="star"),
        param=None,
        sort_order=row.sort_order if row is not None else 0,
    )
    kind = values["kind"]
    if kind == BadgeKind.TIER_REACHED.value:
        tiers = {t.key for t in _tiers(session, merchant.id)}
        values["param"] = f.choice("param_tier", tiers)
    elif kind == BadgeKind.ACTION_COUNT.value:
        values["param"] = f.choice("param_action", ACTION_LABELS)
    elif kind == BadgeKind.CHALLENGE.value:
        keys = set(session.exec(select(Challenge.key).where(Challenge.merchant_id == merchant.id)).all())
        values["param"] = f.choice("param_challenge", keys)
    if kind is None:
        values["kind"] = BadgeKind.CHECK_INS.value
    return values


def _upsert_badge(session: Session, merchant_id: int, key: str, values: dict) -> Badge:
    return pa.upsert_badge(session, merchant_id, key, **values)


def _badge_view(row: Badge, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(BADGE_KIND_LABELS.get(row.kind, N_("Badges")), {}), (N_("Target: {n}"), {"n": row.target})]
    if row.kind == BadgeKind.TIER_REACHED.value and row.param:
        facts.append(("", {"text": ctx.tier_by_key.get(row.param, row.param)}))
    elif row.kind == BadgeKind.ACTION_COUNT.value and row.param:
        facts.append((ACTION_LABELS.get(row.param, N_("Reward")), {}))
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "kind": row.kind,
        "target": str(row.target),
        "icon": row.icon,
        "param_tier": (row.param or "") if row.kind == BadgeKind.TIER_REACHED.value else "",
        "param_action": (row.param or "") if row.kind == BadgeKind.ACTION_COUNT.value else "",
        "param_challenge": (row.param or "") if row.kind == BadgeKind.CHALLENGE.value else "",
    }
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), tuple(facts), form, True)


BADGE = _Spec("badge", Badge, "badge", _parse_badge, _upsert_badge, _badge_view, order=(Badge.sort_order, Badge.id))


def list_badges(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, BADGE, now)


def save_badge(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _save(engine, admin, BADGE, form, publish_note, now)


def retire_badge(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    """Retire a badge: no longer awarded (by its criterion or a challenge); members keep theirs."""
    return _set_active(engine, admin, BADGE, row_id, False, publish_note, now)


# ============================================================================ challenges


def _parse_challenge(f: _Form, session: Session, merchant: Merchant, row: Challenge | None) -> dict:
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        action=f.choice("action", CHALLENGE_ACTION_LABELS) or VISIT,
        target=f.integer("target", lo=1, hi=1000, required=True),
        recurrence=f.choice("recurrence", RECURRENCE_LABELS, default=Recurrence.ONE_OFF.value) or Recurrence.ONE_OFF.value,
        starts_at=f.moment("starts_at"),
        ends_at=f.moment("ends_at"),
        reward_points=f.integer("reward_points", lo=0, hi=100_000) or 0,
        reward_badge_key=None,
        hidden=f.flag("hidden"),
        segment_key=_segment_choice(f, session, merchant.id, row),
    )
    f.window("ends_at", values["starts_at"], values["ends_at"])
    badge_key = f.s("reward_badge")
    if badge_key:
        keys = set(session.exec(select(Badge.key).where(Badge.merchant_id == merchant.id)).all())
        if badge_key not in keys:
            f.fail("reward_badge", UNKNOWN_BADGE, "unknown_badge")
        else:
            values["reward_badge_key"] = badge_key
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_challenge(session: Session, merchant_id: int, key: str, values: dict) -> Challenge:
    values = dict(values)
    segment_key = values.pop("segment_key", None)
    return _set_segment(pa.upsert_challenge(session, merchant_id, key, **values), segment_key)


def _challenge_view(row: Challenge, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [
        (CHALLENGE_ACTION_LABELS.get(row.action, N_("Reward")), {}),
        (N_("Target: {n}"), {"n": row.target}),
        (RECURRENCE_LABELS.get(row.recurrence, N_("Once")), {}),
    ]
    if row.reward_points:
        facts.append((N_("{points} points"), {"points": row.reward_points}))
    if row.hidden:
        facts.append((N_("Hidden until completed"), {}))
    facts += _segment_fact(row.segment_key, ctx)
    facts += _window_facts(row.starts_at, row.ends_at)
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "action": row.action,
        "target": str(row.target),
        "recurrence": row.recurrence,
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
        "reward_points": str(row.reward_points),
        "reward_badge": ctx.badge_keys.get(row.reward_badge_id, "") if row.reward_badge_id else "",
        "hidden": "on" if row.hidden else "",
        "segment": row.segment_key or "",
    }
    return RowView(
        row.id, row.key, row.name, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


CHALLENGE = _Spec(
    "challenge",
    Challenge,
    "challenge",
    _parse_challenge,
    _upsert_challenge,
    _challenge_view,
    start=lambda r: r.starts_at,
    order=(Challenge.id,),
)


def list_challenges(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, CHALLENGE, now)


def save_challenge(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _save(engine, admin, CHALLENGE, form, publish_note, now)


def retire_challenge(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, CHALLENGE, row_id, False, publish_note, now)


# ============================================================================ quests


def _parse_quest(f: _Form, session: Session, merchant: Merchant, row: Quest | None) -> dict:
    tiers = {t.key: t.name for t in _tiers(session, merchant.id)}
    values: dict[str, Any] = dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        multiplier_pct=f.multiplier("multiplier", lo=Decimal(1), hi=Decimal(10), above_lo=True),
        starts_local=f.moment("starts_at", required=True),
        ends_local=f.moment("ends_at", required=True),
        tier_keys=f.keys("tier_keys", tiers, message=UNKNOWN_TIER, code="unknown_tier"),
        actions=f.keys("actions", ACTION_LABELS, message=UNKNOWN_ACTION, code="unknown_action"),
        store_id=_store_choice(f, session, merchant.id),
        segment_key=_segment_choice(f, session, merchant.id, row),
    )
    f.window("ends_at", values["starts_local"], values["ends_local"])
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_quest(session: Session, merchant_id: int, key: str, values: dict) -> Quest:
    return pa.upsert_quest(session, merchant_id, key, **values)  # aware UTC times are taken as they are


def _quest_view(row: Quest, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(N_("×{multiplier} points"), {"multiplier": _pct_text(row.multiplier_pct)})]
    facts += _window_facts(row.starts_at, row.ends_at)
    if row.tier_keys:
        facts.append((N_("Only for: {tiers}"), {"tiers": ", ".join(ctx.tier_by_key.get(k, k) for k in row.tier_keys)}))
    if row.store_id:
        facts.append((N_("Only at {store}"), {"store": ctx.store_names.get(row.store_id, "")}))
    facts += _segment_fact(row.segment_key, ctx)
    form = {
        "id": str(row.id),
        "name": row.name,
        "description": row.description,
        "multiplier": _pct_text(row.multiplier_pct),
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
        "tier_keys": ",".join(row.tier_keys or []),
        "actions": ",".join(row.actions or []),
        "store": _num(row.store_id),
        "segment": row.segment_key or "",
    }
    return RowView(
        row.id, row.key, row.name, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


def _quest_title(row: Quest, lang: str, tz: str) -> dict:
    return {
        "name": row.name,
        "multiplier": _pct_text(row.multiplier_pct),
        "start": format_datetime(lang, _aware(row.starts_at), tz, START_FORMAT),
    }


QUEST = _Spec(
    "quest",
    Quest,
    "quest",
    _parse_quest,
    _upsert_quest,
    _quest_view,
    start=lambda r: r.starts_at,
    title_params=_quest_title,
    order=(Quest.starts_at.desc(), Quest.id.desc()),
)  # type: ignore[attr-defined]


def list_quests(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, QUEST, now)


def save_quest(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    """``starts_at``/``ends_at`` are wall-clock times in the merchant's timezone."""
    return _save(engine, admin, QUEST, form, publish_note, now)


def retire_quest(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, QUEST, row_id, False, publish_note, now)


# ============================================================================ charities


def _parse_charity(f: _Form, session: Session, merchant: Merchant, row: Charity | None) -> dict:
    return dict(
        name=f.text("name", max_len=80, required=True),
        description=f.text("description", max_len=300, multiline=True),
        is_active=row.is_active if row is not None else True,
    )


def _upsert_charity(session: Session, merchant_id: int, key: str, values: dict) -> Charity:
    return pa.upsert_charity(session, merchant_id, key, **values)


def _charity_view(row: Charity, ctx: _Ctx) -> RowView:
    facts = (("", {"text": row.description}),) if row.description else ()
    form = {"id": str(row.id), "name": row.name, "description": row.description}
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), facts, form, True)


CHARITY = _Spec("charity", Charity, "charity", _parse_charity, _upsert_charity, _charity_view, order=(Charity.id,))


def list_charities(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, CHARITY, now)


def save_charity(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _save(engine, admin, CHARITY, form, publish_note, now)


def retire_charity(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, CHARITY, row_id, False, publish_note, now)


# ============================================================================ surveys


def questions_text(questions: list[dict]) -> str:
    """A survey's questions as the editor shows them, one per line:
    ``choice: How often? = Daily; Weekly``, ``stars: Rate our coffee``, ``text: Ideas? (optional)``."""
    lines = []
    for q in questions or []:
        line = f"{q.get('kind', 'text')}: {q.get('text', '')}"
        if q.get("kind") == "choice":
            line += " = " + "; ".join(q.get("options") or [])
        if not q.get("required", True):
            line += " (optional)"
        lines.append(line)
    return "\n".join(lines)


def parse_questions(f: _Form, name: str, existing: list[dict]) -> list[dict]:
    """The editor's lines -> the survey's question list (ids kept for unchanged question texts)."""
    lines = [line for line in f.s(name).replace("\r", "\n").split("\n") if line.strip()]
    if not 1 <= len(lines) <= 20:
        f.fail(name, QUESTIONS_COUNT, "invalid_questions")
        return []
    old_ids = {str(q.get("text", "")).strip().lower(): q.get("id") for q in existing or []}
    used: set[str] = set()
    questions: list[dict] = []
    for number, line in enumerate(lines, start=1):
        match = QUESTION_LINE_RE.match(line)
        if match is None:
            f.fail(name, QUESTION_KIND, "invalid_questions", line=number)
            return []
        kind, rest = match.group(1).lower(), match.group(2).strip()
        required = True
        optional = OPTIONAL_MARK_RE.search(rest)
        if optional:
            required, rest = False, rest[: optional.start()].strip()
        options: list[str] = []
        if kind == "choice":
            rest, _sep, tail = rest.partition("=")
            options = [o.strip() for o in tail.split(";") if o.strip()]
            if not 2 <= len(options) <= 12 or len(set(options)) != len(options) or any(len(o) > 80 for o in options):
                f.fail(name, QUESTION_OPTIONS, "invalid_questions", line=number)
                return []
        text = " ".join(rest.split())
        if not text or len(text) > 200:
            f.fail(name, QUESTION_TEXT, "invalid_questions", line=number)
            return []
        qid = old_ids.get(text.lower())
        if not qid or qid in used:
            qid = f"q{number}"
            while qid in used or qid in old_ids.values():
                qid += "x"
        used.add(qid)
        item: dict[str, Any] = {"id": qid, "text": text, "kind": kind, "required": required}
        if kind == "choice":
            item["options"] = options
        if kind == "text":
            item["max_length"] = engagement.DEFAULT_TEXT_MAX
        questions.append(item)
    try:
        return engagement.clean_questions(questions)
    except LoyaltyError:  # pragma: no cover - the checks above are stricter
        f.fail(name, QUESTIONS_COUNT, "invalid_questions")
        return []


def _parse_survey(f: _Form, session: Session, merchant: Merchant, row: Survey | None) -> dict:
    values = dict(
        title=f.text("name", max_len=120, required=True),
        description=f.text("description", max_len=300, multiline=True),
        questions=parse_questions(f, "questions", list(row.questions or []) if row is not None else []),
        starts_at=f.moment("starts_at"),
        ends_at=f.moment("ends_at"),
    )
    f.window("ends_at", values["starts_at"], values["ends_at"])
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_survey(session: Session, merchant_id: int, key: str, values: dict) -> Survey:
    return engagement.upsert_survey(session, merchant_id, key, **values)


def _survey_view(row: Survey, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(N_("Questions: {n}"), {"n": len(row.questions or [])})]
    facts += _window_facts(row.starts_at, row.ends_at)
    form = {
        "id": str(row.id),
        "name": row.title,
        "description": row.description,
        "questions": questions_text(row.questions or []),
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
    }
    return RowView(
        row.id, row.key, row.title, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


SURVEY = _Spec(
    "survey",
    Survey,
    "survey",
    _parse_survey,
    _upsert_survey,
    _survey_view,
    start=lambda r: r.starts_at,
    title_params=lambda r, lang, tz: {"name": r.title},
    order=(Survey.id,),
)


def list_surveys(engine: Engine, admin: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    return _list(engine, admin, SURVEY, now)


def save_survey(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _save(engine, admin, SURVEY, form, publish_note, now)


def retire_survey(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    return _set_active(engine, admin, SURVEY, row_id, False, publish_note, now)


# ============================================================================ segments


def _spend_bound(f: _Form, name: str, measure: str) -> int | None:
    """A spend bound: money ("50", "49,90" -> cents) or whole points, by the chosen measure."""
    if not f.s(name):
        return None
    if measure == "points":
        return f.integer(name, lo=0, hi=segment_rules.MAX_SPEND)
    value = f._decimal(name)
    if value is None:
        if name in f.errors:
            f.errors[name] = LoyaltyError(NOT_A_SPEND, code="not_an_amount", field=name)
        return None
    return int(value * 100)


def parse_criteria(f: _Form, session: Session, merchant_id: int) -> segment_rules.SegmentCriteria:
    """The segment form's conditions -> criteria; every refusal goes to its own field."""
    tiers = {t.key: t.name for t in _tiers(session, merchant_id)}
    measure = f.choice("spend_measure", SPEND_MEASURE_LABELS, default="amount") or "amount"
    criteria = segment_rules.SegmentCriteria(
        tier_keys=tuple(f.keys("tier_keys", tiers, message=UNKNOWN_TIER, code="unknown_tier")),
        visited_within_days=f.integer("visited_within_days", lo=1, hi=segment_rules.MAX_DAYS),
        not_visited_days=f.integer("not_visited_days", lo=1, hi=segment_rules.MAX_DAYS),
        spend_measure=measure,
        spend_days=f.integer("spend_days", lo=1, hi=segment_rules.MAX_DAYS),
        spend_min=_spend_bound(f, "spend_min", measure),
        spend_max=_spend_bound(f, "spend_max", measure),
        rfm_classes=tuple(f.keys("rfm_classes", RFM_LABELS, message=UNKNOWN_OPTION, code="unknown_option")),
        consent_channels=tuple(f.keys("consent_channels", CONSENT_LABELS, message=UNKNOWN_OPTION, code="unknown_option")),
    )
    numbers = ("visited_within_days", "not_visited_days", "spend_days", "spend_min", "spend_max")
    if not any(n in f.errors for n in numbers):  # cross-field checks only once each number reads well
        for name, error in segment_rules.criteria_errors(criteria).items():
            f.errors.setdefault(name, error)
    return criteria


def _parse_segment(f: _Form, session: Session, merchant: Merchant, row: Segment | None) -> dict:
    return dict(
        name=f.text("name", max_len=60, required=True),
        description=f.text("description", max_len=200, multiline=True),
        criteria=parse_criteria(f, session, merchant.id).as_dict(),
        is_active=row.is_active if row is not None else True,
    )


def _upsert_segment(session: Session, merchant_id: int, key: str, values: dict) -> Segment:
    segment_rules.validate(segment_rules.SegmentCriteria.from_dict(values["criteria"]))
    return pa.upsert_by_key(session, Segment, merchant_id, key, **values)


def _money_text(cents: int) -> str:
    return f"{cents // 100}" if cents % 100 == 0 else f"{cents // 100}.{cents % 100:02d}"


def criteria_facts(criteria: segment_rules.SegmentCriteria, ctx: _Ctx) -> list[tuple[str, dict]]:
    """The conditions in words, for the segment list."""
    c = criteria
    facts: list[tuple[str, dict]] = []
    if c.tier_keys:
        facts.append((N_("Tiers: {tiers}"), {"tiers": ", ".join(ctx.tier_by_key.get(k, k) for k in c.tier_keys)}))
    if c.visited_within_days is not None:
        facts.append((N_("Visited in the last {n} days"), {"n": c.visited_within_days}))
    if c.not_visited_days is not None:
        facts.append((N_("No visit in the last {n} days"), {"n": c.not_visited_days}))
    if c.uses_spend:
        fmt = (lambda v: str(v)) if c.spend_measure == "points" else _money_text
        if c.spend_min is not None and c.spend_max is not None:
            bounds = f"{fmt(c.spend_min)}–{fmt(c.spend_max)}"
        elif c.spend_min is not None:
            bounds = f"≥ {fmt(c.spend_min)}"
        else:
            bounds = f"≤ {fmt(c.spend_max)}"
        if c.spend_measure == "points":
            facts.append((N_("Points earned in the last {n} days: {range}"), {"n": c.spend_days, "range": bounds}))
        else:
            facts.append(
                (
                    N_("Spent in the last {n} days: {range} {currency}"),
                    {"n": c.spend_days, "range": bounds, "currency": ctx.currency},
                )
            )
    facts += [(RFM_LABELS[k], {}) for k in c.rfm_classes]
    facts += [(CONSENT_LABELS[k], {}) for k in c.consent_channels]
    return facts


def _criteria_form(c: segment_rules.SegmentCriteria) -> dict[str, str]:
    bound = (lambda v: _num(v)) if c.spend_measure == "points" else (lambda v: "" if v is None else _money_text(v))
    return {
        "tier_keys": ",".join(c.tier_keys),
        "visited_within_days": _num(c.visited_within_days),
        "not_visited_days": _num(c.not_visited_days),
        "spend_measure": c.spend_measure,
        "spend_days": _num(c.spend_days),
        "spend_min": bound(c.spend_min),
        "spend_max": bound(c.spend_max),
        "rfm_classes": ",".join(c.rfm_classes),
        "consent_channels": ",".join(c.consent_channels),
    }


def _segment_view(row: Segment, ctx: _Ctx, members: int | None = None) -> RowView:
    criteria = segment_rules.SegmentCriteria.from_dict(row.criteria)
    facts = criteria_facts(criteria, ctx)
    if members is not None:
        facts.insert(0, (N_("Members now: {n}"), {"n": members}))
    form = {"id": str(row.id), "name": row.name, "description": row.description, **_criteria_form(criteria)}
    return RowView(row.id, row.key, row.name, _status(row.is_active, None, None, ctx.now), tuple(facts), form, True)


def _segment_users(session: Session, merchant_id: int, ref: str, now: datetime) -> int:
    """Offers targeting the segment ``ref`` that are not retired and not over."""
    total = 0
    for model, end in (
        (Reward, Reward.valid_until),
        (Challenge, Challenge.ends_at),
        (Quest, Quest.ends_at),
        (EarningRule, EarningRule.valid_until),
    ):
        total += len(
            session.exec(
                select(model.id).where(
                    model.merchant_id == merchant_id, model.segment_key == ref, model.is_active, (end.is_(None)) | (end > now)
                )
            ).all()
        )
    return total


def _segment_set_active(session: Session, merchant: Merchant, row: Segment, active: bool, now: datetime) -> None:
    """A segment still targeted cannot be retired: its offers would silently reach nobody."""
    if active:
        return
    users = _segment_users(session, merchant.id, segment_rules.segment_ref(row.id), now)
    if users:
        raise LoyaltyError(SEGMENT_IN_USE, code="segment_in_use", n=users)


SEGMENT = _Spec(
    "segment",
    Segment,
    "segment",
    _parse_segment,
    _upsert_segment,
    _segment_view,
    order=(Segment.id,),
    publish=False,
    on_set_active=_segment_set_active,
)


def list_segments(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> list[RowView]:
    """The program's segments with how many members each holds now (retired ones: none)."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        ctx = _ctx(session, merchant, now)
        rows = list(session.exec(select(Segment).where(Segment.merchant_id == merchant.id).order_by(Segment.id)).all())
        counts = segment_service.member_count_by_segment(session, merchant.id, rows, now=now, tz=ctx.tz)
        return [_segment_view(r, ctx, counts.get(r.id, 0)) for r in rows]


def save_segment(
    engine: Engine, admin: Actor | None, form: dict, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    """Create or update a segment (audited; not published to members: see the module doc)."""
    return _save(engine, admin, SEGMENT, form, publish_note, now)


def retire_segment(
    engine: Engine, admin: Actor | None, row_id: int | str, *, publish_note: str = "", now: datetime | None = None
) -> RowView:
    """Retire a segment nobody targets any more (else ``segment_in_use``); it then matches nobody."""
    return _set_active(engine, admin, SEGMENT, row_id, False, publish_note, now)


def preview_segment(
    engine: Engine, actor: Actor | None, form: dict, *, now: datetime | None = None
) -> segment_service.SegmentPreview:
    """How many members the editor's (unsaved) conditions hold now, and a few names; refused
    fields come back as ``FormInvalid`` like a save."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        tz = merchant.timezone or "UTC"
        f = _Form(form, tz)
        criteria = parse_criteria(f, session, merchant.id)
        f.check()
        return segment_service.preview(session, merchant.id, criteria, now=now, tz=tz)


# ============================================================================ dispatch for the page

SPECS: dict[str, _Spec] = {s.kind: s for s in (REWARD, EARNING, TIER, BADGE, CHALLENGE, QUEST, CHARITY, SURVEY, SEGMENT)}
LISTS = {
    "reward": list_rewards,
    "earning": list_earning_rules,
    "tier": list_tiers,
    "badge": list_badges,
    "challenge": list_challenges,
    "quest": list_quests,
    "charity": list_charities,
    "survey": list_surveys,
    "segment": list_segments,
}
SAVES = {
    "reward": save_reward,
    "earning": save_earning_rule,
    "tier": save_tier,
    "badge": save_badge,
    "challenge": save_challenge,
    "quest": save_quest,
    "charity": save_charity,
    "survey": save_survey,
    "segment": save_segment,
}


def set_active(
    engine: Engine,
    admin: Actor | None,
    kind: str,
    row_id: int | str,
    active: bool,
    *,
    publish_note: str = "",
    now: datetime | None = None,
) -> RowView:
    """Retire (``active=False``) or bring back a row of a retirable kind."""
    if kind not in RETIRABLE or kind not in SPECS:
        raise LoyaltyError(UNKNOWN_OPTION, code="not_retirable")
    return _set_active(engine, admin, SPECS[kind], row_id, active, publish_note, now)


def new_form(kind: str, *, now: datetime | None = None, tz: str = "UTC") -> dict[str, str]:
    """The create form's starting values."""
    now = now or utcnow()
    start = utc_to_local(now, tz).replace(second=0, microsecond=0)
    defaults: dict[str, dict[str, str]] = {
        "reward": {"kind": RewardKind.FREE_PRODUCT.value},
        "earning": {"action": EarnAction.CHECK_IN.value, "limit_period": LimitPeriod.NONE.value},
        "tier": {"colour": "#888888", "purchase_multiplier": "1"},
        "badge": {"kind": BadgeKind.CHECK_INS.value, "target": "1", "icon": "star"},
        "challenge": {"action": VISIT, "target": "1", "recurrence": Recurrence.ONE_OFF.value, "reward_points": "0"},
        "quest": {
            "multiplier": "2",
            "starts_at": start.strftime(FORM_DATETIME),
            "ends_at": (start + timedelta(hours=2)).strftime(FORM_DATETIME),
        },
        "charity": {},
        "survey": {"questions": "stars: How do you rate us?"},
        "segment": {"spend_measure": "amount"},
    }
    return {"id": "", **defaults.get(kind, {})}


def program_options(engine: Engine, actor: Actor | None) -> ProgramOptions:
    admin = _admin(engine, actor)
    with read_session(engine) as session:
        merchant = _merchant(session, admin.merchant_id)
        tiers = _tiers(session, merchant.id)
        badge_rows = session.exec(
            select(Badge.key, Badge.name, Badge.is_active)
            .where(Badge.merchant_id == merchant.id)
            .order_by(Badge.sort_order, Badge.id)
        ).all()
        return ProgramOptions(
            timezone=merchant.timezone or "UTC",
            currency=merchant.currency,
            tiers=[(t.key, t.name) for t in tiers],
            stores=[(s.id, s.name) for s in _stores(session, merchant.id)],
            badges=[(k, n) for k, n, _a in badge_rows],
            challenges=[
                (k, n)
                for k, n in session.exec(
                    select(Challenge.key, Challenge.name).where(Challenge.merchant_id == merchant.id).order_by(Challenge.id)
                ).all()
            ],
            segments=[
                (segment_rules.segment_ref(i), n)
                for i, n in session.exec(
                    select(Segment.id, Segment.name)
                    .where(Segment.merchant_id == merchant.id, Segment.is_active)
                    .order_by(Segment.id)
                ).all()
            ],
            retired_tiers=frozenset(t.key for t in tiers if not t.is_active),
            retired_badges=frozenset(k for k, _n, active in badge_rows if not active),
        )


# ============================================================================ changelog


def list_changes(engine: Engine, admin: Actor | None, *, limit: int = 100) -> list[changelog.ChangeView]:
    _admin(engine, admin)
    return changelog.published_changes(engine, admin, limit=limit)


def annotate_change(engine: Engine, admin: Actor | None, change_id: int | str, note: str) -> changelog.ChangeView:
    _admin(engine, admin)
    text = str(change_id or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound(N_("This change cannot be found."), code="change_not_found")
    return changelog.annotate(engine, admin, change_id=int(text), note=note)


# ============================================================================ moderation


def list_reviews(engine: Engine, actor: Actor | None, *, limit: int = 100) -> list[ReviewRow]:
    """Written reviews of the program's rewards, newest first, hidden ones included."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    with read_session(engine) as s:
        rows = s.exec(
            select(RewardRating, Reward.name, Account.first_name)
            .join(Reward, Reward.id == RewardRating.reward_id)
            .join(Account, Account.id == RewardRating.account_id)
            .where(RewardRating.merchant_id == admin.merchant_id, RewardRating.review_text != "")
            .order_by(RewardRating.updated_at.desc(), RewardRating.id.desc())  # type: ignore[attr-defined]
            .limit(max(1, min(limit, 500)))
        ).all()
    return [
        ReviewRow(
            r.id,
            reward,
            first or "",
            r.stars,
            r.review_text,
            _aware(r.updated_at),
            r.hidden_at is not None,
            getattr(r, "hidden_reason", "") or "",
        )
        for r, reward, first in rows
    ]


def hide_review(engine: Engine, actor: Actor | None, rating_id: int | str, reason: str, *, now: datetime | None = None) -> None:
    """Hide a review from members (and from the rating averages), with the reason."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    f = _Form({"reason": reason}, "UTC")
    text = f.text("reason", max_len=300, required=True)
    if "reason" in f.errors and f.errors["reason"].code == "field_required":
        f.errors["reason"] = LoyaltyError(REASON_REQUIRED, code="reason_required", field="reason")
    f.check()
    reward_service.hide_review(
        engine,
        merchant_id=admin.merchant_id,
        rating_id=_review_id(rating_id),
        moderator_id=admin.account_id,
        hidden=True,
        reason=text,
        now=now,
    )
    _audit(engine, admin, "moderation.hide_review", f"review:{rating_id}", {"reason": text})


def show_review(engine: Engine, actor: Actor | None, rating_id: int | str) -> None:
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    reward_service.hide_review(
        engine, merchant_id=admin.merchant_id, rating_id=_review_id(rating_id), moderator_id=admin.account_id, hidden=False
    )
    _audit(engine, admin, "moderation.show_review", f"review:{rating_id}", {})


def _audit(engine: Engine, admin: Actor, action: str, target: str, detail: dict) -> None:
    """Moderation runs in the rewards/engagement services' own transactions; its trace follows."""
    with write_session(engine) as s:
        admin_audit.record(s, admin, action, target=target, detail=detail)


def _review_id(value: int | str) -> int:
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound(N_("Review not found."), code="review_not_found")
    return int(text)


def list_submissions(engine: Engine, actor: Actor | None, *, limit: int = 50) -> list[SubmissionRow]:
    """Social posts and contest photos waiting for review, oldest first, with the member's name."""
    pending = engagement.pending_submissions(engine, actor, limit=limit)
    ids = {p.account_id for p in pending}
    with read_session(engine) as s:
        names = dict(s.exec(select(Account.id, Account.first_name).where(Account.id.in_(ids))).all()) if ids else {}  # type: ignore[attr-defined]
        media = (
            dict(
                s.exec(
                    select(Submission.id, Submission.media_id).where(Submission.id.in_([p.submission_id for p in pending]))
                ).all()
            )
            if pending
            else {}
        )  # type: ignore[attr-defined]
    return [
        SubmissionRow(
            p.submission_id,
            p.kind,
            p.url,
            bool(media.get(p.submission_id)),
            names.get(p.account_id, "") or "",
            _aware(p.created_at),
        )
        for p in pending
    ]


def review_submission(
    engine: Engine, actor: Actor | None, submission_id: int | str, approve: bool, reason: str = "", *, now: datetime | None = None
) -> engagement.SubmissionView:
    """Approve (the member earns the action's points) or reject with a reason."""
    text = str(submission_id or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        _admin(engine, actor, Action.ADMIN_MODERATE)
        raise NotFound(SUBMISSION_NOT_FOUND, code="submission_not_found")
    view = engagement.review_submission(engine, actor, int(text), approve, reason, now=now)
    _audit(engine, actor, f"moderation.{'approve' if approve else 'reject'}_submission", f"submission:{text}", {"reason": reason})
    return view


def submission_photo(engine: Engine, actor: Actor | None, submission_id: int) -> tuple[str, bytes]:
    """(content type, bytes) of a contest photo, for the merchant's admins only."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    with read_session(engine) as s:
        row = s.get(Submission, submission_id)
        blob = s.get(MediaBlob, row.media_id) if row is not None and row.media_id else None
        if row is None or row.merchant_id != admin.merchant_id or blob is None or blob.merchant_id != admin.merchant_id:
            raise NotFound(SUBMISSION_NOT_FOUND, code="submission_not_found")
        return blob.content_type, blob.data


__all__ = [
    "BADGE_ICONS",
    "EDITOR_KINDS",
    "FormInvalid",
    "ProgramOptions",
    "RETIRABLE",
    "ReviewRow",
    "RowView",
    "SubmissionRow",
    "list_segments",
    "preview_segment",
    "retire_badge",
    "retire_segment",
    "retire_tier",
    "save_segment",
    "annotate_change",
    "hide_review",
    "list_badges",
    "list_challenges",
    "list_changes",
    "list_charities",
    "list_earning_rules",
    "list_quests",
    "list_reviews",
    "list_rewards",
    "list_submissions",
    "list_surveys",
    "list_tiers",
    "new_form",
    "prepare_reward_image",
    "program_options",
    "questions_text",
    "retire_challenge",
    "retire_charity",
    "retire_earning_rule",
    "retire_quest",
    "retire_reward",
    "retire_survey",
    "review_submission",
    "save_badge",
    "save_challenge",
    "save_charity",
    "save_earning_rule",
    "save_quest",
    "save_reward",
    "save_survey",
    "save_tier",
    "set_active",
    "show_review",
    "slug_key",
    "submission_photo",
]
