"""Home-screen icons drawn with Pillow, from the merchant's logo or a branded monogram.

Why generated: each merchant has its own installable app, and a theme publish or a new logo
must change the icon without anyone exporting five PNG sizes by hand.

Geometry (what launchers expect):
- "any" icons are shown as they are, so the logo fills the square (transparency allowed).
- "maskable" icons get cropped by the launcher to a circle, squircle or rounded square; only
  the central circle of radius 40 % is guaranteed visible (the W3C safe zone). The background is
  full-bleed and the mark is fitted into the square inscribed in that circle.
- The apple-touch-icon must be opaque (iOS turns transparency black) and iOS rounds its corners.
"""

from __future__ import annotations

import io
import logging
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageColor, ImageDraw, ImageFont

from loyalty_app.pwa.brand import PwaBrand

log = logging.getLogger(__name__)

# Fraction of the icon that is guaranteed visible on a maskable icon: a circle of this radius.
MASKABLE_SAFE_RADIUS = 0.40
# Side of the square inscribed in the safe circle, minus a hair so anti-aliasing stays inside.
MASKABLE_CONTENT = 2 * MASKABLE_SAFE_RADIUS / math.sqrt(2) - 0.01
APPLE_CONTENT = 0.72
# Bump when the drawing code changes, so ETags and service worker caches change with it.
RENDERER_VERSION = "1"

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/opentype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
)


@dataclass(frozen=True)
class IconSpec:
    name: str  # URL file name without .png
    size: int
    purpose: str  # "any" | "maskable" | "apple"


ICON_SPECS: dict[str, IconSpec] = {
    spec.name: spec
    for spec in (
        IconSpec("icon-192", 192, "any"),
        IconSpec("icon-512", 512, "any"),
        IconSpec("maskable-192", 192, "maskable"),
        IconSpec("maskable-512", 512, "maskable"),
        IconSpec("apple-touch-icon", 180, "apple"),
    )
}


def monogram_letter(brand: PwaBrand) -> str:
    """First letter or digit of the short name (then the name), upper-cased."""
    for text in (brand.short_name, brand.name, brand.slug):
        for char in text or "":
            if char.isalnum():
                return unicodedata.normalize("NFC", char.upper())[0]
    return "?"


@lru_cache(maxsize=1)
def _font_path() -> str | None:
    for path in FONT_CANDIDATES:
        try:
            ImageFont.truetype(path, 12)
            return path
        except OSError:
            continue
    log.warning("No TrueType font found (install fonts-dejavu-core); monogram icons use Pillow's default font")
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    if path is not None:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _draw_letter(canvas: Image.Image, letter: str, box_side: float, colour: tuple[int, int, int]) -> None:
    """Draw ``letter`` centred by its ink (not its line box), fitting a square of ``box_side``."""
    reference = 200
    left, top, right, bottom = _font(reference).getbbox(letter)
    ink = max(right - left, bottom - top, 1)
    font = _font(max(8, int(reference * box_side / ink)))
    left, top, right, bottom = font.getbbox(letter)
    x = (canvas.width - (right - left)) / 2 - left
    y = (canvas.height - (bottom - top)) / 2 - top
    ImageDraw.Draw(canvas).text((x, y), letter, font=font, fill=colour + (255,))


def _fit(image: Image.Image, side: int) -> Image.Image:
    """Scale ``image`` to fit a ``side`` square, keeping its aspect ratio."""
    scale = side / max(image.width, image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _paste_centred(canvas: Image.Image, mark: Image.Image) -> None:
    offset = ((canvas.width - mark.width) // 2, (canvas.height - mark.height) // 2)
    canvas.alpha_composite(mark, offset)


def decode_logo(data: bytes | None) -> Image.Image | None:
    """The logo as RGBA, or None when absent or unreadable (the monogram is used instead)."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            logo = image.convert("RGBA")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("Merchant logo could not be decoded, using a monogram: %s", exc)
        return None
    bbox = logo.getbbox()  # trim transparent margins so the safe-zone maths uses the real mark
    return logo.crop(bbox) if bbox else None


def render_icon(spec: IconSpec, brand: PwaBrand, logo: Image.Image | None) -> Image.Image:
    """Draw one icon. ``logo`` is an RGBA image (see ``decode_logo``) or None for a monogram."""
    size = spec.size
    primary = ImageColor.getrgb(brand.primary)[:3]
    on_primary = ImageColor.getrgb(brand.on_primary)[:3]
    background = ImageColor.getrgb(brand.background)[:3]

    if spec.purpose == "any":
        canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        if logo is not None:
            _paste_centred(canvas, _fit(logo, size))
        else:
            ImageDraw.Draw(canvas).rounded_rectangle((0, 0, size - 1, size - 1), radius=round(size * 0.22), fill=primary + (255,))
            _draw_letter(canvas, monogram_letter(brand), size * 0.5, on_primary)
        return canvas

    content = MASKABLE_CONTENT if spec.purpose == "maskable" else APPLE_CONTENT
    fill = background if logo is not None else primary
    canvas = Image.new("RGBA", (size, size), fill + (255,))
    if logo is not None:
        _paste_centred(canvas, _fit(logo, int(size * content)))
    else:
        _draw_letter(canvas, monogram_letter(brand), size * content * 0.8, on_primary)
    return canvas.convert("RGB") if spec.purpose == "apple" else canvas


def icon_png(spec: IconSpec, brand: PwaBrand, logo_bytes: bytes | None) -> bytes:
    """Encoded PNG for one icon."""
    image = render_icon(spec, brand, decode_logo(logo_bytes))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
