"""Merchants, stores, accounts and server-side sessions.

Every program-owned row carries ``merchant_id``: one deployment hosts several merchants and
nothing crosses programs. An account (member, staff or merchant admin) belongs to one merchant.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow


class Role(str, enum.Enum):
    MEMBER = "member"
    STAFF = "staff"
    ADMIN = "admin"


class Merchant(SQLModel, table=True):
    """A loyalty program's owner; its member app lives under ``/m/<slug>/``."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(max_length=80)
    short_name: str = Field(max_length=24)
    description: str = Field(default="", max_length=300)
    timezone: str = Field(default="UTC", max_length=64)
    currency: str = Field(default="EUR", max_length=3)
    default_language: str = Field(default="en", max_length=5)
    # The published theme (see loyalty_app.domain.theme.Theme); drafts live elsewhere.
    theme: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    theme_version: int = Field(default=1)
    logo_id: int | None = Field(default=None, foreign_key="mediablob.id")
    created_at: datetime = Field(default_factory=utcnow)


class Store(SQLModel, table=True):
    """A physical shop or restaurant of a merchant."""

    __table_args__ = (UniqueConstraint("merchant_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    code: str = Field(max_length=40)
    name: str = Field(max_length=80)
    address: str = Field(default="", max_length=200)
    is_active: bool = Field(default=True)


class MediaBlob(SQLModel, table=True):
    """An uploaded or generated image, stored in the database so every worker can serve it."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int | None = Field(default=None, index=True)
    kind: str = Field(max_length=24)  # logo, avatar, background, reward, contest
    content_type: str = Field(max_length=40)
    sha256: str = Field(max_length=64, index=True)
    width: int = 0
    height: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    """A person in one merchant's program: a member, a staff member or a merchant admin."""

    __table_args__ = (
        UniqueConstraint("merchant_id", "email"),
        UniqueConstraint("merchant_id", "member_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    role: Role = Field(default=Role.MEMBER)
    email: str = Field(max_length=254)  # stored lower-cased
    password_hash: str = Field(max_length=255)
    first_name: str = Field(default="", max_length=60)
    last_name: str = Field(default="", max_length=60)
    language: str = Field(default="en", max_length=5)
    timezone: str = Field(default="UTC", max_length=64)
    birthday: date | None = None
    member_number: str = Field(max_length=16)  # short number for manual entry at the till
    avatar_id: int | None = Field(default=None, foreign_key="mediablob.id")
    background_id: int | None = Field(default=None, foreign_key="mediablob.id")
    # Marketing consent per channel: {"email": "2026-11-01T10:00:00", ...}; absent = no consent.
    # Staff and admins: their own member account, which they may never serve at a till.
    personal_account_id: int | None = Field(default=None, foreign_key="account.id")
    # Set by the merchant's fraud view: the member keeps earning but cannot spend or give points.
    spending_suspended_at: datetime | None = None
    spending_suspended_reason: str = Field(default="", max_length=300)
    consents: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class StaffStore(SQLModel, table=True):
    """Which stores a staff account may act for."""

    account_id: int = Field(foreign_key="account.id", primary_key=True)
    store_id: int = Field(foreign_key="store.id", primary_key=True)


class AuthSession(SQLModel, table=True):
    """A server-side sign-in session. Only the SHA-256 of its secret is stored.

    ``activation_hash`` is a one-time ticket: the sign-in event creates the session, the browser
    exchanges the ticket once at an HTTP endpoint that sets the HttpOnly session cookie.
    """

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    secret_hash: str | None = Field(default=None, max_length=64, index=True, unique=True)
    activation_hash: str | None = Field(default=None, max_length=64, index=True, unique=True)
    activation_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    idle_timeout_s: int
    expires_at: datetime  # absolute timeout
    revoked_at: datetime | None = None
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class LoginAttempt(SQLModel, table=True):
    """One sign-in try, for throttling per account and per IP."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(index=True)
    email: str = Field(max_length=254, index=True)
    ip: str = Field(max_length=64, index=True)
    success: bool
    # A refused-by-throttle attempt: recorded, but not counted as a failure (see services.platform.throttle).
    throttled: bool = Field(default=False)
    at: datetime = Field(default_factory=utcnow, index=True)


class SecurityEvent(SQLModel, table=True):
    """A refused action or notable security event: who, what, why (append-only log)."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int | None = Field(default=None, index=True)
    account_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=80)
    reason: str = Field(max_length=200)
    detail: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    ip: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow, index=True)
