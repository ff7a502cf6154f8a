"""The slice of a merchant the PWA shell needs, read once per request.

Why a snapshot: the manifest, the icons, the service worker and the offline page are built
outside any DB session (and icons are cached across requests), so they work from plain,
immutable values instead of a live ORM object.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.theme import Theme
from loyalty_app.models import MediaBlob, Merchant
from loyalty_app.settings import SUPPORTED_LANGUAGES

# Slugs are path segments chosen by us; anything else is refused before touching the DB.
SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_HEX_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_DEFAULT_THEME = Theme()


def safe_colour(value: object, fallback: str) -> str:
    """``value`` if it is a #rgb/#rrggbb colour, else ``fallback``.

    Theme colours are typed in by merchant admins and end up inside CSS, JSON and PNGs:
    only plain hex colours get through, so nothing can break out of a CSS declaration.
    """
    if isinstance(value, str) and _HEX_COLOUR.match(value.strip()):
        value = value.strip().lower()
        if len(value) == 4:
            value = "#" + "".join(c * 2 for c in value[1:])
        return value
    return fallback


@dataclass(frozen=True)
class PwaBrand:
    """Everything the PWA shell shows of one merchant."""

    merchant_id: int
    slug: str
    name: str
    short_name: str
    description: str
    language: str
    primary: str
    on_primary: str
    background: str
    theme_version: int
    logo_id: int | None

    @property
    def scope(self) -> str:
        return f"/m/{self.slug}/"

    @property
    def fingerprint(self) -> str:
        """Short hash of every field that changes a generated file.

        The cache key is (merchant_id, theme_version) as published, plus this fingerprint, so an
        edit that forgot to bump theme_version (or a renamed merchant) still shows up.
        """
        raw = json.dumps(
            [
                self.slug,
                self.name,
                self.short_name,
                self.description,
                self.language,
                self.primary,
                self.background,
                self.theme_version,
                self.logo_id,
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    @property
    def cache_key(self) -> tuple[int, int, str]:
        return (self.merchant_id, self.theme_version, self.fingerprint)


def brand_from_merchant(merchant: Merchant) -> PwaBrand:
    theme = Theme.from_dict(merchant.theme)
    primary = safe_colour(theme.primary, _DEFAULT_THEME.primary)
    language = merchant.default_language if merchant.default_language in SUPPORTED_LANGUAGES else "en"
    short_name = (merchant.short_name or merchant.name or merchant.slug).strip()
    assert merchant.id is not None, "a stored merchant"
    return PwaBrand(
        merchant_id=merchant.id,
        slug=merchant.slug,
        name=(merchant.name or short_name).strip(),
        short_name=short_name,
        description=(merchant.description or "").strip(),
        language=language,
        primary=primary,
        on_primary=Theme(primary=primary).on_primary,
        background=safe_colour(theme.background, _DEFAULT_THEME.background),
        theme_version=int(merchant.theme_version or 1),
        logo_id=merchant.logo_id,
    )


def load_brand(slug: str, engine: Engine | None = None) -> PwaBrand | None:
    """The merchant behind ``slug``, or None when there is none (the caller answers 404)."""
    if not SLUG_PATTERN.match(slug):
        return None
    with read_session(engine) as session:
        merchant = session.exec(select(Merchant).where(Merchant.slug == slug)).first()
        return brand_from_merchant(merchant) if merchant is not None else None


def load_logo_bytes(brand: PwaBrand, engine: Engine | None = None) -> bytes | None:
    """The merchant's logo image bytes; never another merchant's blob, even if logo_id says so."""
    if brand.logo_id is None:
        return None
    with read_session(engine) as session:
        return _logo_bytes(session, brand)


def _logo_bytes(session: Session, brand: PwaBrand) -> bytes | None:
    blob = session.get(MediaBlob, brand.logo_id)
    if blob is None or blob.merchant_id not in (None, brand.merchant_id):
        return None
    return bytes(blob.data)
