"""Small key/value facts about this installation (e.g. which demo data version is loaded)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class AppMeta(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow)
