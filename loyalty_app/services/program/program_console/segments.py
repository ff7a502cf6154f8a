"""Merchant segments in the editor: the conditions form (``parse_criteria``) and its facts, the
member counts and preview, and the segment kind (audited, never published; not retired while targeted)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import segments as segment_rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import Challenge, EarningRule, Merchant, Quest, Reward, Segment
from loyalty_app.services.earning import segments as segment_service
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.upsert import upsert_by_key
from loyalty_app.services.program.program_console.editor import _Spec, retire_function, save_function
from loyalty_app.services.program.program_console.forms import UNKNOWN_OPTION, _Form, _num
from loyalty_app.services.program.program_console.labels import CONSENT_LABELS, RFM_LABELS, SPEND_MEASURE_LABELS
from loyalty_app.services.program.program_console.rows import (
    UNKNOWN_TIER,
    RowView,
    _admin,
    _Ctx,
    _ctx,
    _merchant,
    _status,
    _tiers,
)

SEGMENT_IN_USE = N_(
    "Offers still targeting this segment (rewards, challenges, quests, ways to earn): {n}. Change or retire them first."
)
NOT_A_SPEND = N_("Enter an amount, like 50 or 49.90.")


# ---------------------------------------------------------------- the conditions form and its facts


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
    return upsert_by_key(session, Segment, merchant_id, key, **values)


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


# ---------------------------------------------------------------- the segment kind


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


save_segment = save_function(
    SEGMENT, "save_segment", """Create or update a segment (audited; not published to members: see the package doc)."""
)
retire_segment = retire_function(
    SEGMENT,
    "retire_segment",
    """Retire a segment nobody targets any more (else ``segment_in_use``); it then matches nobody.""",
)


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
