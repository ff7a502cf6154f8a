"""What the till leaves behind besides points: fraud flags for the merchant and the open
member screens a credit should reach live."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class FraudFlag(SQLModel, table=True):
    """A suspicious event for the merchant's fraud view (velocity limit, staff anomaly, ...).

    Flags are raised by the services and only ever resolved (with a note), never deleted."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    kind: str = Field(max_length=32)  # velocity | own_account | self_referral | ...
    member_account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    staff_account_id: int | None = Field(default=None, foreign_key="account.id")
    store_id: int | None = Field(default=None, foreign_key="store.id")
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="account.id")
    resolution_note: str = Field(default="", max_length=300)


class LiveClient(SQLModel, table=True):
    """A browser tab where a member has the app open (Reflex client token), so a credit made
    elsewhere (at the till, by another worker) can be pushed to it. Rows older than a day are
    purged by the periodic jobs."""

    client_token: str = Field(primary_key=True, max_length=64)
    merchant_id: int = Field(foreign_key="merchant.id")
    account_id: int = Field(foreign_key="account.id", index=True)
    seen_at: datetime = Field(default_factory=utcnow, index=True)


class AdminAuditEntry(SQLModel, table=True):
    """What a merchant admin did (export, fraud decision, theme publish, rule change): who, what,
    on which object, when. Append-only, shown in the console."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="account.id")
    action: str = Field(max_length=48)
    target: str = Field(default="", max_length=120)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(default_factory=utcnow, index=True)
