"""CRM webhooks: where a merchant wants events sent, and the outbox of deliveries.

The outbox row is written in the same transaction as the change it reports
(services/crm/webhooks/outbox.enqueue), so a crash loses no event and a rolled-back change sends nothing;
delivery (POST, signature, retries) happens later, outside any business transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow

# Only this tuple lists the events (endpoint.events is a JSON list, event_type a plain string): a
# new event needs no migration. Order = the console's order.
WEBHOOK_EVENTS = (
    "member.enrolled",
    "points.credited",
    "points.debited",
    "points.released",
    "points.expired",
    "voucher.redeemed",
    "consent.changed",
    "member.deleted",
)
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class WebhookEndpoint(SQLModel, table=True):
    """A merchant's receiving URL. The secret signs every body (HMAC-SHA256); it is generated
    here, never typed by the admin, and stored as is because signing needs it (only admins see
    it, on request, and every reveal is in the admin audit log)."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    url: str = Field(max_length=500)
    description: str = Field(default="", max_length=120)
    secret: str = Field(max_length=100)
    events: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # subset of WEBHOOK_EVENTS
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One event for one endpoint, until delivered or given up.

    ``status`` pending (due at ``next_attempt_at``; a worker that claims it pushes that time
    forward by a lease and counts the attempt, so no one else sends the same attempt) |
    delivered | failed (after the last attempt). ``event_id`` is the receiver's idempotency key:
    every retry of a delivery carries the same one."""

    __table_args__ = (
        Index("ix_webhookdelivery_due", "status", "next_attempt_at"),
        Index("ix_webhookdelivery_merchant_recent", "merchant_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    endpoint_id: int = Field(foreign_key="webhookendpoint.id", index=True)
    event_type: str = Field(max_length=40)
    event_id: str = Field(max_length=64, unique=True)
    payload: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_status_code: int | None = None
    last_error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
