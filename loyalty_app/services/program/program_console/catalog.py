"""The catalog's kinds: rewards (with their picture, checked before the transaction) and charities."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyalty_app.domain.errors import N_
from loyalty_app.models import Charity, Merchant, Reward
from loyalty_app.services.members.media import store_image
from loyalty_app.services.members.member_media import decode_upload
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin as pa
from loyalty_app.services.program.program_console.editor import _save, _Spec, list_function, retire_function, save_function
from loyalty_app.services.program.program_console.forms import _Form, _local_text, _num
from loyalty_app.services.program.program_console.labels import REWARD_KIND_LABELS
from loyalty_app.services.program.program_console.rows import (
    UNKNOWN_TIER,
    RowView,
    _admin,
    _Ctx,
    _segment_choice,
    _segment_fact,
    _status,
    _tiers,
    _upsert_with_segment,
    _window_facts,
)

REWARD_IMAGE_PREVIEW = 240  # px, the console's preview of a picked picture


# ---------------------------------------------------------------- rewards


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
    return _upsert_with_segment(pa.upsert_reward, session, merchant_id, key, values)


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


list_rewards = list_function(REWARD, "list_rewards")


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


retire_reward = retire_function(REWARD, "retire_reward")


def prepare_reward_image(data: bytes) -> tuple[bytes, str]:
    """Check an uploaded reward picture now (clear errors at once) and return the cleaned WebP
    bytes to save later, plus a small preview as a data URL."""

    image = decode_upload(data or b"", "reward")
    buf = io.BytesIO()
    image.save(buf, format="WEBP", quality=85, method=4)
    thumb = image.copy()
    thumb.thumbnail((REWARD_IMAGE_PREVIEW, REWARD_IMAGE_PREVIEW))
    small = io.BytesIO()
    thumb.save(small, format="WEBP", quality=70)
    return buf.getvalue(), "data:image/webp;base64," + base64.b64encode(small.getvalue()).decode()


# ---------------------------------------------------------------- charities


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


list_charities = list_function(CHARITY, "list_charities")
save_charity = save_function(CHARITY, "save_charity")
retire_charity = retire_function(CHARITY, "retire_charity")
