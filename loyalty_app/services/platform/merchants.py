"""The loyalty programs (merchants) hosted here, as the app shows them before anyone signs in:
the front door's list, and one merchant's branding for the pages under ``/m/<slug>/``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain.theme import Theme
from loyalty_app.models import Merchant


@dataclass(frozen=True)
class Program:
    """One program on the front door's list."""

    slug: str
    name: str
    description: str
    logo_id: int | None


@dataclass(frozen=True)
class Branding:
    """What a merchant's pages show of it (its app frame), and the ids the session keeps."""

    merchant_id: int
    slug: str
    name: str
    short_name: str  # the published theme's brand name, else the merchant's short name
    logo_id: int | None
    timezone: str


def programs(engine: Engine | None) -> list[Program]:
    """Every program hosted here, by name (public: the front door lists them)."""
    with read_session(engine) as s:
        merchants = s.exec(select(Merchant).order_by(Merchant.name)).all()
    return [Program(slug=m.slug, name=m.name, description=m.description, logo_id=m.logo_id) for m in merchants]


def branding(engine: Engine | None, slug: str) -> Branding | None:
    """The merchant behind ``slug`` (public), or None when the slug is empty or unknown."""
    if not slug:
        return None
    with read_session(engine) as s:
        merchant = s.exec(select(Merchant).where(Merchant.slug == slug)).first()
    if merchant is None:
        return None
    theme = Theme.from_dict(merchant.theme)
    return Branding(
        merchant_id=merchant.id,
        slug=merchant.slug,
        name=merchant.name,
        short_name=theme.brand_name or merchant.short_name,
        logo_id=merchant.logo_id,
        timezone=merchant.timezone or "UTC",
    )
