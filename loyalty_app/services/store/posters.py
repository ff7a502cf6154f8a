"""Printable check-in posters: one per store, A4 portrait, PNG and PDF (qrcode + Pillow).

The poster carries the merchant's brand (theme colours, logo, name), the store's name, a large
QR holding the absolute check-in URL (``services.store.checkins``: signed, never expires), a call to
action in the merchant's default language and the URL in print under the code, for phones that
cannot scan. Admins only (``Action.ADMIN_MANAGE_PROGRAM``).

The PDF is one A4 page holding the same picture (Pillow's PDF writer; JPEG at high quality, at
200 dpi the QR modules are ~20 px wide, far above what JPEG blurs).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.domain.theme import Theme, contrast_ratio, hex_to_rgb, readable_text_on
from loyalty_app.i18n import translate
from loyalty_app.models import MediaBlob, Merchant, Store
from loyalty_app.pwa.brand import safe_colour
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.store import checkins
from loyalty_app.settings import SUPPORTED_LANGUAGES

# A4 at 200 dpi.
DPI = 200
PAGE_W, PAGE_H = 1654, 2339

POSTER_TITLE = N_("Scan to check in")
POSTER_SUBTITLE = N_("Once a day, earn points and badges")
POSTER_HINT = N_("Open your phone's camera and point it at the code")

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu/", "/usr/share/fonts/truetype/noto/", "/usr/share/fonts/TTF/")
_FONT_FILES = {
    "bold": ("DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf"),
    "regular": ("DejaVuSans.ttf", "NotoSans-Regular.ttf"),
    "mono": ("DejaVuSansMono.ttf", "NotoSansMono-Regular.ttf"),
}


@dataclass(frozen=True)
class PosterStore:
    """A store as the admin's poster list shows it."""

    id: int
    name: str
    address: str
    code: str


@dataclass(frozen=True)
class PosterFile:
    data: bytes
    filename: str
    content_type: str


@dataclass(frozen=True)
class PosterSpec:
    """Everything drawn on a poster: plain values, so rendering needs no database."""

    merchant_name: str
    store_name: str
    store_address: str
    primary: str
    accent: str
    url: str
    title: str
    subtitle: str
    hint: str
    logo: bytes | None = None


# --------------------------------------------------------------------------------- data access


def list_stores(engine: Engine, actor: Actor | None) -> list[PosterStore]:
    """The merchant's active stores, for the admin's poster card."""
    admin = permissions.authorize(engine, actor, Action.ADMIN_MANAGE_PROGRAM, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        rows = s.exec(
            select(Store).where(Store.merchant_id == admin.merchant_id, Store.is_active == True).order_by(Store.name)  # noqa: E712
        ).all()
        return [PosterStore(r.id, r.name, r.address, r.code) for r in rows]


def _admin_store(engine: Engine, actor: Actor | None, store_id: int) -> tuple[Actor, Merchant, Store, bytes | None]:
    """Authorize, then load the store (NotFound for unknown, inactive or other merchants')."""
    admin = permissions.authorize(engine, actor, Action.ADMIN_MANAGE_PROGRAM, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        store = s.get(Store, store_id) if isinstance(store_id, int) and store_id > 0 else None
        if store is not None and store.merchant_id != admin.merchant_id:
            permissions.record_actor_event(engine, admin, "poster", "store_of_other_merchant", {"store_id": store_id})
            store = None
        if store is None or not store.is_active:
            raise NotFound(N_("Store not found."), code="store_not_found")
        merchant = s.get(Merchant, admin.merchant_id)
        logo = None
        if merchant.logo_id:
            blob = s.get(MediaBlob, merchant.logo_id)
            if blob is not None and blob.merchant_id in (None, merchant.id):
                logo = bytes(blob.data)
        s.expunge_all()
    return admin, merchant, store, logo


def checkin_url(engine: Engine, actor: Actor | None, *, store_id: int) -> str:
    """The absolute URL a store's poster encodes: ``{APP_ORIGIN}/m/<slug>/checkin?s=<token>``."""
    _admin, merchant, store, _logo = _admin_store(engine, actor, store_id)
    return checkins.checkin_url_for(merchant.slug, checkins.store_token(merchant.id, store.id))


def poster_spec(engine: Engine, actor: Actor | None, *, store_id: int, language: str | None = None) -> PosterSpec:
    _admin, merchant, store, logo = _admin_store(engine, actor, store_id)
    lang = language or merchant.default_language
    lang = lang if lang in SUPPORTED_LANGUAGES else "en"
    theme = Theme.from_dict(merchant.theme)
    default = Theme()
    return PosterSpec(
        merchant_name=merchant.name,
        store_name=store.name,
        store_address=store.address or "",
        primary=safe_colour(theme.primary, default.primary),
        accent=safe_colour(theme.accent, default.accent),
        url=checkins.checkin_url_for(merchant.slug, checkins.store_token(merchant.id, store.id)),
        title=translate(lang, POSTER_TITLE),
        subtitle=translate(lang, POSTER_SUBTITLE),
        hint=translate(lang, POSTER_HINT),
        logo=logo,
    )


def poster_filename(spec_store_name: str, store_id: int, ext: str) -> str:
    """``checkin-poster-<store name>.<ext>``, ASCII only (a safe Content-Disposition)."""
    stem = re.sub(r"[^a-z0-9]+", "-", spec_store_name.lower()).strip("-")[:60] or f"store-{store_id}"
    return f"checkin-poster-{stem}.{ext}"


def poster_file(engine: Engine, actor: Actor | None, *, store_id: int, fmt: str, language: str | None = None) -> PosterFile:
    """The poster as a download: ``fmt`` is ``png`` or ``pdf``."""
    if fmt not in ("png", "pdf"):
        raise NotFound(N_("Store not found."), code="poster_format")
    spec = poster_spec(engine, actor, store_id=store_id, language=language)
    image = render_poster(spec)
    if fmt == "png":
        data, content_type = png_bytes(image), "image/png"
    else:
        data, content_type = pdf_bytes(image), "application/pdf"
    return PosterFile(data=data, filename=poster_filename(spec.store_name, store_id, fmt), content_type=content_type)


def poster_png(engine: Engine, actor: Actor | None, *, store_id: int, language: str | None = None) -> bytes:
    return poster_file(engine, actor, store_id=store_id, fmt="png", language=language).data


def poster_pdf(engine: Engine, actor: Actor | None, *, store_id: int, language: str | None = None) -> bytes:
    return poster_file(engine, actor, store_id=store_id, fmt="pdf", language=language).data


# ------------------------------------------------------------------------------------ rendering


@lru_cache(maxsize=64)
def _font(kind: str, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for folder in _FONT_DIRS:
        for name in _FONT_FILES[kind]:
            try:
                return ImageFont.truetype(folder + name, size)
            except OSError:
                continue
    return ImageFont.load_default(size=size)


def _mix(a: str, b: str, t: float) -> tuple[int, int, int]:
    ra, rb = hex_to_rgb(a), hex_to_rgb(b)
    return tuple(round(x + (y - x) * t) for x, y in zip(ra, rb))  # type: ignore[return-value]


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> int:
    box = draw.textbbox((0, 0), text, font=font)
    return box[2] - box[0]


def _wrap(draw: ImageDraw.ImageDraw, text: str, kind: str, size: int, max_width: int, max_lines: int = 2, min_size: int = 24):
    """Lines of ``text`` and the font that fits them in ``max_width`` (shrinks, then wraps)."""
    while True:
        font = _font(kind, size)
        lines: list[str] = []
        for word in text.split():
            if lines and _text_width(draw, f"{lines[-1]} {word}", font) <= max_width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        if (len(lines) <= max_lines and all(_text_width(draw, line, font) <= max_width for line in lines)) or size <= min_size:
            return lines or [""], font
        size = int(size * 0.92)


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font, fill, *, width: int = PAGE_W) -> int:
    """Draw ``text`` centred at top ``y``; returns the y under it."""
    box = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (box[2] - box[0])) / 2 - box[0], y - box[1]), text, font=font, fill=fill)
    return y + (box[3] - box[1])


def _lines(draw, y: int, lines: list[str], font, fill, gap: int) -> int:
    for i, line in enumerate(lines):
        y = _centered(draw, y, line, font, fill) + (gap if i < len(lines) - 1 else 0)
    return y


def qr_image(url: str, size: int, ink: tuple[int, int, int]) -> Image.Image:
    """The QR at exactly ``size`` px or a bit less (whole pixels per module), quiet zone included."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, box_size=1)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the border
    modules = len(matrix)
    box = max(1, size // modules)
    img = Image.new("RGB", (modules, modules), (255, 255, 255))
    px = img.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                px[x, y] = ink
    return img.resize((modules * box, modules * box), Image.Resampling.NEAREST)


def _logo_tile(logo: bytes | None, size: int, spec: PosterSpec) -> Image.Image:
    """The merchant's logo on a rounded white tile; the initials when there is no logo."""
    tile = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 4, fill=255)
    art: Image.Image | None = None
    if logo:
        try:
            art = Image.open(io.BytesIO(logo)).convert("RGBA").resize((size, size), Image.Resampling.LANCZOS)
        except Exception:  # noqa: BLE001 - a broken logo must not break the poster
            art = None
    if art is None:
        art = Image.new("RGBA", (size, size), (*hex_to_rgb(spec.accent), 255))
        draw = ImageDraw.Draw(art)
        initials = "".join(w[0] for w in spec.merchant_name.split()[:2]).upper() or "?"
        font = _font("bold", int(size * 0.4))
        box = draw.textbbox((0, 0), initials, font=font)
        draw.text(
            ((size - (box[2] - box[0])) / 2 - box[0], (size - (box[3] - box[1])) / 2 - box[1]),
            initials,
            font=font,
            fill=readable_text_on(spec.accent),
        )
    tile.paste(art, (0, 0), Image.composite(art.getchannel("A"), Image.new("L", (size, size), 0), mask))
    return tile


def render_poster(spec: PosterSpec) -> Image.Image:
    """Draw the A4 poster (RGB, 200 dpi)."""
    primary, accent = spec.primary, spec.accent
    on_primary = readable_text_on(primary)
    img = Image.new("RGB", (PAGE_W, PAGE_H), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    dark_text = (31, 35, 40)
    muted = (88, 96, 105)

    # Brand band with a soft accent arc, logo, merchant and store names.
    band_h = 640
    draw.rectangle((0, 0, PAGE_W, band_h), fill=hex_to_rgb(primary))
    draw.ellipse((PAGE_W - 520, -420, PAGE_W + 380, 380), fill=_mix(primary, "#ffffff", 0.12))
    draw.ellipse((-360, band_h - 260, 360, band_h + 420), fill=_mix(primary, "#000000", 0.18))
    draw.rectangle((0, band_h, PAGE_W, PAGE_H), fill=(255, 255, 255))
    draw.rectangle((0, band_h - 14, PAGE_W, band_h), fill=hex_to_rgb(accent))

    logo_size = 200
    tile = _logo_tile(spec.logo, logo_size, spec)
    plate = Image.new("RGBA", (logo_size + 24, logo_size + 24), (0, 0, 0, 0))
    ImageDraw.Draw(plate).rounded_rectangle(
        (0, 0, logo_size + 23, logo_size + 23), radius=(logo_size + 24) // 4, fill=(255, 255, 255, 255)
    )
    plate.paste(tile, (12, 12), tile)
    img.paste(plate, ((PAGE_W - plate.width) // 2, 70), plate)

    y = 70 + plate.height + 36
    lines, font = _wrap(draw, spec.merchant_name, "bold", 84, PAGE_W - 240, max_lines=1, min_size=40)
    y = _lines(draw, y, lines, font, on_primary, 10) + 22
    lines, font = _wrap(draw, spec.store_name, "regular", 54, PAGE_W - 240, max_lines=1, min_size=30)
    _lines(draw, y, lines, font, on_primary, 8)

    # Call to action.
    y = band_h + 80
    lines, font = _wrap(draw, spec.title, "bold", 128, PAGE_W - 200, max_lines=2, min_size=60)
    y = _lines(draw, y, lines, font, hex_to_rgb(primary) if contrast_ratio(primary, "#ffffff") >= 4.5 else dark_text, 24) + 34
    lines, font = _wrap(draw, spec.subtitle, "regular", 58, PAGE_W - 240, max_lines=2, min_size=32)
    y = _lines(draw, y, lines, font, dark_text, 14) + 60

    # The QR on a card with an accent frame; brand ink when it contrasts like black does.
    ink = hex_to_rgb(primary) if contrast_ratio(primary, "#ffffff") >= 7 else (17, 17, 17)
    footer_h = 150
    space = PAGE_H - footer_h - 230 - y  # leave room for the hint and URL under the code
    qr = qr_image(spec.url, min(1040, space - 60), ink)
    card = qr.width + 60
    x0 = (PAGE_W - card) // 2
    draw.rounded_rectangle((x0 - 10, y - 10, x0 + card + 10, y + card + 10), radius=56, fill=hex_to_rgb(accent))
    draw.rounded_rectangle((x0, y, x0 + card, y + card), radius=48, fill=(255, 255, 255))
    img.paste(qr, (x0 + 30, y + 30))
    y += card + 56

    lines, font = _wrap(draw, spec.hint, "regular", 42, PAGE_W - 240, max_lines=2, min_size=26)
    y = _lines(draw, y, lines, font, muted, 10) + 26
    printed = re.sub(r"^https?://", "", spec.url)
    lines, font = _wrap(draw, printed, "mono", 34, PAGE_W - 160, max_lines=1, min_size=18)
    _lines(draw, y, lines, font, dark_text, 6)

    # Footer: brand colour with the merchant and the store address.
    draw.rectangle((0, PAGE_H - footer_h, PAGE_W, PAGE_H), fill=hex_to_rgb(primary))
    draw.rectangle((0, PAGE_H - footer_h, PAGE_W, PAGE_H - footer_h + 10), fill=hex_to_rgb(accent))
    footer = spec.merchant_name + (f"  ·  {spec.store_address}" if spec.store_address else "")
    lines, font = _wrap(draw, footer, "regular", 38, PAGE_W - 160, max_lines=1, min_size=20)
    _lines(draw, PAGE_H - footer_h + 10 + (footer_h - 10 - 38) // 2, lines, font, on_primary, 0)
    return img


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True, dpi=(DPI, DPI))
    return buf.getvalue()


def pdf_bytes(image: Image.Image) -> bytes:
    """One A4 page (595 x 842 pt) holding the poster."""
    buf = io.BytesIO()
    image.save(buf, format="PDF", resolution=DPI, quality=95, subsampling=0, title="Check-in poster", creator="Open Loyalty PWA")
    return buf.getvalue()
