"""Theme versions of a merchant: the one draft being edited and every published theme kept for
revert (services/program/theme_admin.py). What members see is ``Merchant.theme`` / ``theme_version`` /
``logo_id``, copied from a version when it is published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow

THEME_STATUSES = ("draft", "published", "archived")


class ThemeVersion(SQLModel, table=True):
    """One theme of a merchant.

    status: ``draft`` (at most one per merchant, enforced by a partial unique index too),
    ``published`` (the one members see; its ``version`` equals ``Merchant.theme_version``) or
    ``archived`` (published before, kept for revert). A draft carries the number it will get
    when published; the number is re-checked at publish time.
    """

    __table_args__ = (
        UniqueConstraint("merchant_id", "version"),
        Index(
            "uq_themeversion_one_draft",
            "merchant_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    version: int
    theme: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # domain.theme.Theme.to_dict()
    logo_id: int | None = Field(default=None, foreign_key="mediablob.id")
    status: str = Field(default="draft", max_length=12)  # draft | published | archived
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = None
    author_id: int | None = Field(default=None, foreign_key="account.id")
    note: str = Field(default="", max_length=200)
