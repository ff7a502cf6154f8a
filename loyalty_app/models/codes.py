"""Nonces of member codes already accepted at a till (each code works once)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class UsedMemberCode(SQLModel, table=True):
    nonce: str = Field(primary_key=True, max_length=32)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    account_id: int = Field(foreign_key="account.id")
    expires_at: datetime = Field(index=True)  # rows past this can be purged: the code is dead anyway
    used_at: datetime = Field(default_factory=utcnow)
    used_by: int | None = Field(default=None, foreign_key="account.id")
