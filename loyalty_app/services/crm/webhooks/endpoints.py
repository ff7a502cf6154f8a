"""The admin console's side: endpoints (list, create, edit, switch on/off), their secrets
(reveal, rotate), test events, recent deliveries and retrying one now; every change audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.models.webhooks import WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint
from loyalty_app.services.crm.webhooks.config import DESCRIPTION_MAX, MAX_ENDPOINTS, TEST_EVENT, Resolver, app_settings
from loyalty_app.services.crm.webhooks.outbox import _add_delivery
from loyalty_app.services.crm.webhooks.signing import new_secret
from loyalty_app.services.crm.webhooks.urls import WebhookFormInvalid, validate_url
from loyalty_app.services.platform import admin_audit, permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.settings import Settings


def _not_found() -> NotFound:
    return NotFound(N_("Webhook not found."), code="webhook_not_found")


@dataclass(frozen=True)
class EndpointView:
    endpoint_id: int
    url: str
    description: str
    events: tuple[str, ...]
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    delivery_id: int
    created_at: datetime
    event_type: str
    event_id: str
    endpoint_url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None  # pending only
    last_status_code: int | None
    last_error: str


def _admin(engine: Engine, actor: Actor | None) -> Actor:
    return permissions.authorize(engine, actor, Action.ADMIN_EXPORT, merchant_id=actor.merchant_id if actor else 0)


def _view(row: WebhookEndpoint) -> EndpointView:
    return EndpointView(
        row.id,
        row.url,
        row.description,
        tuple(e for e in WEBHOOK_EVENTS if e in (row.events or ())),
        row.is_active,
        row.created_at,
        row.updated_at,
    )


def _own_endpoint(s: Session, admin: Actor, endpoint_id: int, *, lock: bool = False) -> WebhookEndpoint:
    stmt = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        stmt = stmt.with_for_update()
    row = s.exec(stmt).first()
    if row is None or row.merchant_id != admin.merchant_id:
        raise _not_found()
    return row


def _audit(s: Session, admin: Actor, action: str, row: WebhookEndpoint, now: datetime | None, **detail: Any) -> None:
    """The admin audit entry of what was done to (or seen of) an endpoint: its URL and id."""
    admin_audit.record(s, admin, action, target=row.url[:120], detail={"endpoint_id": row.id, **detail}, now=now)


def list_endpoints(engine: Engine, actor: Actor | None) -> list[EndpointView]:
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        rows = s.exec(
            select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == admin.merchant_id).order_by(WebhookEndpoint.id)
        ).all()
        return [_view(r) for r in rows]


def recent_deliveries(engine: Engine, actor: Actor | None, *, limit: int = 50) -> list[DeliveryView]:
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        rows = s.exec(
            select(WebhookDelivery, WebhookEndpoint.url)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.merchant_id == admin.merchant_id)
            .order_by(WebhookDelivery.id.desc())  # type: ignore[union-attr]
            .limit(max(1, min(limit, 200)))
        ).all()
    return [
        DeliveryView(
            d.id,
            d.created_at,
            d.event_type,
            d.event_id,
            url,
            d.status,
            d.attempts,
            d.next_attempt_at if d.status == "pending" else None,
            d.last_status_code,
            d.last_error,
        )
        for d, url in rows
    ]


def _clean_form(data: dict, *, settings: Settings, resolve: Resolver | None) -> tuple[str, str, list[str], bool]:
    """Check every field before anything is written; all refusals come back at once."""
    errors: dict[str, LoyaltyError] = {}
    url = ""
    try:
        url = validate_url(str(data.get("url", "") or ""), settings=settings, resolve=resolve)
    except WebhookFormInvalid as err:
        errors.update(err.errors)
    description = one_line(data.get("description", "") or "")
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = LoyaltyError(
            N_("The description can have at most {maximum} characters."),
            code="description_too_long",
            field="description",
            maximum=DESCRIPTION_MAX,
        )
    raw_events = data.get("events")
    if isinstance(raw_events, str):
        wanted = [e for e in raw_events.split(",") if e]
    elif isinstance(raw_events, (list, tuple, set)):
        wanted = [str(e) for e in raw_events]
    else:  # checkboxes named "event:<type>"
        wanted = [
            k.split(":", 1)[1] for k, v in data.items() if str(k).startswith("event:") and v not in (False, "", None, "off")
        ]
    if any(e not in WEBHOOK_EVENTS for e in wanted):
        errors["events"] = LoyaltyError(N_("Choose events from the list."), code="unknown_event", field="events")
    elif not wanted:
        errors["events"] = LoyaltyError(N_("Choose at least one event to send."), code="events_required", field="events")
    active = str(data.get("is_active", "on")).lower() not in ("", "0", "false", "off", "no")
    if errors:
        raise WebhookFormInvalid(errors)
    return url, description, [e for e in WEBHOOK_EVENTS if e in wanted], active


def save_endpoint(
    engine: Engine,
    actor: Actor | None,
    data: dict,
    *,
    endpoint_id: int | None = None,
    settings: Settings | None = None,
    resolve: Resolver | None = None,
    now: datetime | None = None,
) -> tuple[EndpointView, str | None]:
    """Create (``endpoint_id`` None) or edit an endpoint. Returns its view and, on creation only,
    the new secret (shown once; "reveal" shows it again). Refused fields raise
    WebhookFormInvalid; nothing is half-saved."""
    admin = _admin(engine, actor)
    url, description, events, active = _clean_form(data, settings=settings or app_settings(), resolve=resolve)
    now = now or utcnow()
    with write_session(engine) as s:
        secret = None
        if endpoint_id:
            row = _own_endpoint(s, admin, endpoint_id, lock=True)
            changed = {
                k
                for k, v in (("url", url), ("description", description), ("events", events), ("is_active", active))
                if getattr(row, k) != v
            }
            row.url, row.description, row.events, row.is_active, row.updated_at = url, description, events, active, now
            action = "webhook.update"
        else:
            count = len(s.exec(select(WebhookEndpoint.id).where(WebhookEndpoint.merchant_id == admin.merchant_id)).all())
            if count >= MAX_ENDPOINTS:
                raise LoyaltyError(
                    N_("A program can have at most {maximum} webhooks."), code="too_many_webhooks", maximum=MAX_ENDPOINTS
                )
            secret = new_secret()
            row = WebhookEndpoint(
                merchant_id=admin.merchant_id,
                url=url,
                description=description,
                secret=secret,
                events=events,
                is_active=active,
                created_at=now,
                updated_at=now,
            )
            changed = {"url", "events"}
            action = "webhook.create"
        s.add(row)
        s.flush()
        _audit(s, admin, action, row, now, events=events, active=active, changed=sorted(changed))
        return _view(row), secret


def set_active(
    engine: Engine, actor: Actor | None, endpoint_id: int, active: bool, *, now: datetime | None = None
) -> EndpointView:
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id, lock=True)
        if row.is_active != active:
            row.is_active, row.updated_at = active, now
            s.add(row)
            _audit(s, admin, "webhook.enable" if active else "webhook.disable", row, now)
        return _view(row)


def reveal_secret(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> str:
    """The endpoint's signing secret, for the admin to paste into the CRM (audited)."""
    admin = _admin(engine, actor)
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id)
        _audit(s, admin, "webhook.reveal_secret", row, now)
        return row.secret


def rotate_secret(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> str:
    """A new secret at once: attempts from now on (retries included) are signed with it."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id, lock=True)
        row.secret, row.updated_at = new_secret(), now
        s.add(row)
        _audit(s, admin, "webhook.rotate_secret", row, now)
        return row.secret


def send_test_event(engine: Engine, actor: Actor | None, endpoint_id: int, *, now: datetime | None = None) -> int:
    """Queue a ``webhook.test`` event for this endpoint; returns the delivery id (the console
    then delivers it at once with ``deliver_due(delivery_id=...)``)."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = _own_endpoint(s, admin, endpoint_id)
        if not row.is_active:
            raise LoyaltyError(N_("Turn this webhook on before sending a test event."), code="webhook_inactive")
        delivery = _add_delivery(
            s,
            admin.merchant_id,
            row.id,
            TEST_EVENT,
            {"message": "Test event from the loyalty console", "endpoint_id": row.id},
            now,
        )
        s.flush()
        _audit(s, admin, "webhook.test", row, now)
        return delivery.id


def retry_now(engine: Engine, actor: Actor | None, delivery_id: int, *, now: datetime | None = None) -> None:
    """Make a failed (or waiting) delivery due now: one more attempt, even after the last one."""
    admin = _admin(engine, actor)
    now = now or utcnow()
    with write_session(engine) as s:
        row = s.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()).first()
        if row is None or row.merchant_id != admin.merchant_id:
            raise NotFound(N_("Delivery not found."), code="delivery_not_found")
        if row.status == "delivered":
            raise LoyaltyError(N_("This event was already delivered."), code="already_delivered")
        # Attempts keep counting: past MAX_ATTEMPTS a failure marks it failed again at once.
        row.status, row.next_attempt_at, row.updated_at = "pending", now, now
        s.add(row)
        admin_audit.record(s, admin, "webhook.retry", target=row.event_id, detail={"delivery_id": row.id}, now=now)
