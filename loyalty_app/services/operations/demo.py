"""Idempotent demo data: two merchants with their own themes, stores, people and history.

Running it twice changes nothing: every object is looked up by its natural key first, and the
program history is written through the ledger with idempotency keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image, ImageDraw
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import get_engine, read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.theme import Theme, hex_to_rgb
from loyalty_app.models import Account, AppMeta, Merchant, Store
from loyalty_app.services.members import accounts
from loyalty_app.services.members.media import store_image
from loyalty_app.services.operations.demo_program import _font, seed_demo_program

DEMO_PASSWORD = "demo-password-1"


@dataclass(frozen=True)
class DemoMerchant:
    slug: str
    name: str
    short_name: str
    description: str
    timezone: str
    theme: Theme
    stores: tuple[tuple[str, str, str], ...]  # (code, name, address)
    members: tuple[tuple[str, str, str, str], ...]  # (email, first, last, language)
    staff_email: str
    admin_email: str
    size: str


CAFE = DemoMerchant(
    slug="cafe",
    name="Bean & Leaf Café",
    short_name="Bean & Leaf",
    description="Coffee, tea and pastries. Collect beans, unlock treats.",
    timezone="Europe/Bucharest",
    theme=Theme(
        brand_name="Bean & Leaf",
        primary="#1f5f46",
        accent="#f2a33a",
        background="#faf6ef",
        radius=18,
        mode="light",
        font="Nunito",
    ),
    stores=(
        ("old-town", "Bean & Leaf Old Town", "Strada Lipscani 12, Bucharest"),
        ("riverside", "Bean & Leaf Riverside", "Splaiul Independenței 200, Bucharest"),
    ),
    members=(
        ("member@demo.test", "Ana", "Popescu", "en"),
        ("sofia@demo.test", "Sofía", "García", "es"),
        ("mihai@demo.test", "Mihai", "Ionescu", "ro"),
    ),
    staff_email="staff@demo.test",
    admin_email="admin@demo.test",
    size="full",
)

BOOKS = DemoMerchant(
    slug="books",
    name="Paper Lantern Books",
    short_name="Paper Lantern",
    description="An independent bookshop. Read more, earn more.",
    timezone="Europe/Madrid",
    theme=Theme(
        brand_name="Paper Lantern",
        primary="#3b2f8f",
        accent="#e4572e",
        background="#f6f4ff",
        radius=10,
        mode="light",
        font="Merriweather",
    ),
    stores=(("centro", "Paper Lantern Centro", "Calle Mayor 5, Madrid"),),
    members=(("member@demo.test", "Lucía", "Martín", "es"),),
    staff_email="staff@demo.test",
    admin_email="admin@demo.test",
    size="small",
)

DEMO_MERCHANTS = (CAFE, BOOKS)
DEMO_LOGINS = {m.slug: [("member", m.members[0][0]), ("staff", m.staff_email), ("admin", m.admin_email)] for m in DEMO_MERCHANTS}


def make_logo(spec: DemoMerchant, size: int = 512) -> Image.Image:
    """A simple brand mark: the primary colour, an accent ring and the initials."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    primary, accent = hex_to_rgb(spec.theme.primary), hex_to_rgb(spec.theme.accent)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=primary + (255,))
    ring = size // 9
    draw.ellipse((ring, ring, size - ring, size - ring), outline=accent + (255,), width=size // 22)
    # A small leaf/flame mark above the initials.
    cx, top = size // 2, int(size * 0.2)
    leaf = [(cx + int(math.sin(t / 20 * math.pi) * size * 0.07), top + int(t / 20 * size * 0.14)) for t in range(21)]
    leaf += [(2 * cx - x, y) for x, y in reversed(leaf)]
    draw.polygon(leaf, fill=accent + (255,))
    initials = "".join(w[0] for w in spec.short_name.replace("&", " ").split()[:2]).upper()
    font = _font(int(size * 0.3))
    box = draw.textbbox((0, 0), initials, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    draw.text(((size - w) / 2 - box[0], size * 0.56 - h / 2 - box[1]), initials, font=font, fill=(255, 255, 255, 255))
    return img


def _ensure_merchant(engine: Engine, spec: DemoMerchant) -> tuple[int, list[int]]:
    with write_session(engine) as s:
        merchant = s.exec(select(Merchant).where(Merchant.slug == spec.slug)).first()
        if merchant is None:
            merchant = Merchant(
                slug=spec.slug,
                name=spec.name,
                short_name=spec.short_name,
                description=spec.description,
                timezone=spec.timezone,
                theme=spec.theme.to_dict(),
            )
            s.add(merchant)
            s.flush()
            logo = store_image(s, merchant_id=merchant.id, kind="logo", image=make_logo(spec))
            merchant.logo_id = logo.id
        store_ids = []
        for code, name, address in spec.stores:
            store = s.exec(select(Store).where(Store.merchant_id == merchant.id, Store.code == code)).first()
            if store is None:
                store = Store(merchant_id=merchant.id, code=code, name=name, address=address)
                s.add(store)
                s.flush()
            store_ids.append(store.id)
        return merchant.id, store_ids


def _existing(engine: Engine, merchant_id: int, email: str) -> Account | None:
    with read_session(engine) as s:
        return s.exec(select(Account).where(Account.merchant_id == merchant_id, Account.email == email)).first()


def _ensure_people(engine: Engine, spec: DemoMerchant, merchant_id: int, store_ids: list[int], now: datetime) -> list[int]:

    member_ids = []
    for email, first, last, lang in spec.members:
        acc = _existing(engine, merchant_id, email)
        if acc is None:
            acc = accounts.sign_up_member(
                engine,
                merchant_id=merchant_id,
                email=email,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                language=lang,
                now=now - timedelta(days=200),
            )
        member_ids.append(acc.id)
    if _existing(engine, merchant_id, spec.staff_email) is None:
        accounts.create_staff(
            engine,
            merchant_id=merchant_id,
            email=spec.staff_email,
            password=DEMO_PASSWORD,
            first_name="Sam",
            last_name="Till",
            store_ids=store_ids,
        )
    if _existing(engine, merchant_id, spec.admin_email) is None:
        accounts.create_admin(
            engine,
            merchant_id=merchant_id,
            email=spec.admin_email,
            password=DEMO_PASSWORD,
            first_name="Alex",
            last_name="Owner",
        )
    return member_ids


DEMO_VERSION = "1"
_MARKER = "demo_data_version"


def seed_demo_data(engine: Engine | None = None, *, now: datetime | None = None) -> str:
    """Create (or leave as is) both demo merchants; return a one-line summary.

    Every step is idempotent on its own; a marker row written after a complete run makes the
    next start skip the checks entirely (a crash half way leaves no marker, so it resumes).
    ``now`` is the moment the history leads up to (tests seed on chosen calendar days).
    """

    engine = engine or get_engine()
    now = now or utcnow()
    with write_session(engine) as s:
        marker = s.get(AppMeta, _MARKER)
        if marker is not None and marker.value == DEMO_VERSION:
            return "demo data already loaded"
    lines = []
    for spec in DEMO_MERCHANTS:
        merchant_id, store_ids = _ensure_merchant(engine, spec)
        member_ids = _ensure_people(engine, spec, merchant_id, store_ids, now)
        seed_demo_program(engine, merchant_id, member_ids, store_ids, now, size=spec.size)
        lines.append(f"{spec.slug}: {len(store_ids)} stores, {len(member_ids)} members")
    with write_session(engine) as s:
        marker = s.get(AppMeta, _MARKER) or AppMeta(key=_MARKER, value=DEMO_VERSION)
        marker.value = DEMO_VERSION
        s.add(marker)
    return "demo data ready (" + "; ".join(lines) + ")"
