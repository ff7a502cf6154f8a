"""The one theme model: a merchant's brand, as data.

The member app, the manifest, the icons and (later) the theme editor's preview all read a
``Theme``; nothing else defines brand colours.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.text import one_line

# Fonts members' phones already have: nothing is downloaded (the app works offline and sends no
# request to a font host). Each key keeps its historical name (stored in themes) and maps to a
# stack that starts with the named family when installed and falls back to a look-alike.
FONT_STACKS: dict[str, str] = {
    "System": 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif',
    "Inter": '"Inter", "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
    "Nunito": '"Nunito", ui-rounded, "SF Pro Rounded", "Varela Round", "Arial Rounded MT Bold", system-ui, sans-serif',
    "Merriweather": '"Merriweather", Georgia, "Iowan Old Style", "Noto Serif", "DejaVu Serif", serif',
    "Space Grotesk": '"Space Grotesk", "Avenir Next", Avenir, "Century Gothic", "Segoe UI", system-ui, sans-serif',
}
FONTS = tuple(FONT_STACKS)
MODES = ("light", "dark")
RADIUS_MIN, RADIUS_MAX = 0, 28  # px; the corner radius slider's bounds
BRAND_NAME_MAX = 24  # the home-screen label (Merchant.short_name) has room for 24 characters

_HEX = re.compile(r"^#?(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def normalize_hex(value: object) -> str | None:
    """``#rrggbb`` (lower case) for "#abc", "abc", "#AABBCC"...; None for anything else."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _HEX.match(text):
        return None
    text = text.lstrip("#").lower()
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    return "#" + text


def hex_to_rgb(value: str) -> tuple[int, int, int]:
    """(r, g, b) of "#rrggbb" or "#rgb" (the leading # is optional)."""
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _rgb_to_hex(rgb: Iterable[float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def mix(a: str, b: str, weight_a: float) -> str:
    """``weight_a`` of colour ``a`` and the rest of ``b``, in sRGB (like CSS color-mix in srgb)."""
    ra, rb = hex_to_rgb(a), hex_to_rgb(b)
    return _rgb_to_hex(x * weight_a + y * (1 - weight_a) for x, y in zip(ra, rb))


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = hex_to_rgb(hex_colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1.0 .. 21.0)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def readable_text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return "#111111" if contrast_ratio(background, "#111111") >= contrast_ratio(background, "#ffffff") else "#ffffff"


LIGHTNESS_STEP = 0.005  # HSL lightness step of the search below: 200 steps from black to white


def nearest_lightness(colour: str, passes: Callable[[str], bool]) -> str | None:
    """The colour closest to ``colour`` (same HSL hue and saturation, lightness moved as little
    as possible, either way) for which ``passes`` is true; ``colour`` itself when it passes;
    None when no lightness passes."""
    colour = normalize_hex(colour) or "#000000"
    if passes(colour):
        return colour
    r, g, b = (c / 255 for c in hex_to_rgb(colour))
    hue, lightness, saturation = colorsys.rgb_to_hls(r, g, b)
    seen = {colour}
    for step in range(1, round(1 / LIGHTNESS_STEP) + 1):
        for sign in (-1, 1):
            target = lightness + sign * step * LIGHTNESS_STEP
            if not 0.0 <= target <= 1.0:
                continue
            candidate = _rgb_to_hex(c * 255 for c in colorsys.hls_to_rgb(hue, target, saturation))
            if candidate not in seen:
                seen.add(candidate)
                if passes(candidate):  # checked on the rounded hex, so what we suggest really passes
                    return candidate
    return None


def nearest_passing(colour: str, against: str | Iterable[str], ratio: float) -> str | None:
    """The smallest lightness change of ``colour`` that reaches ``ratio`` against every colour
    in ``against`` (None if even black or white cannot)."""
    others = [against] if isinstance(against, str) else list(against)
    return nearest_lightness(colour, lambda c: all(contrast_ratio(c, o) >= ratio for o in others))


# Neutral colours of each mode. Light mode uses the page background the merchant picked; dark
# mode derives a background and a card surface tinted with the primary colour.
LIGHT_SURFACE, LIGHT_TEXT, LIGHT_MUTED, LIGHT_BORDER = "#ffffff", "#14171a", "#4b5563", "#e5e7eb"
DARK_BASE, DARK_SURFACE_BASE = "#0e1013", "#1b1e23"
DARK_TEXT, DARK_MUTED, DARK_BORDER = "#eef0f3", "#a9b1bc", "#30353d"
TEXT_RATIO, LARGE_RATIO = 4.5, 3.0  # WCAG 2.x AA: normal text, large text and UI components


@dataclass(frozen=True)
class Palette:
    """Every colour a theme puts on screen in one mode (what theme.css and the checks use)."""

    mode: str
    background: str
    surface: str
    text: str
    muted: str
    border: str
    primary: str
    on_primary: str
    accent: str
    on_accent: str

    @property
    def shade(self) -> str:
        """What the brand gradients (points card, member card...) fade towards: black under
        white text, white under dark text, so the far end stays readable (``--brand-shade``)."""
        return "#000000" if self.on_primary == "#ffffff" else "#ffffff"

    @property
    def hero_end(self) -> str:
        """Far end of the points card's gradient (app.css .hero: 70 % primary)."""
        return mix(self.primary, self.shade, 0.70)

    @property
    def card_end(self) -> str:
        """Far end of the member card's gradient (app.css .member-card: 60 % primary)."""
        return mix(self.primary, self.shade, 0.60)


def dark_extras(p: Palette) -> dict[str, str]:
    """Dark-mode values for the places of app.css written for a light page. They read these
    variables with their light colour as the fallback, so light themes never set them (and look
    exactly as before)."""
    return {
        "--field-bg": p.surface,
        "--field-border": "#454c57",
        "--ghost-bg": "#2a3039",
        "--media-bg": "#2a3039",
        "--tint-base": p.surface,
        "--track-base": "#3a404a",
        "--seg-base": p.background,
    }


def palette(theme: Theme, mode: str | None = None) -> Palette:
    """The colours of ``theme`` in ``mode`` (default: the theme's own mode).

    Unsafe stored values fall back to the defaults, so the result is always plain hex. In dark
    mode a primary colour too dark to read as a link on the dark page is lightened (same hue)
    until it reaches 4.5:1, the way dark themes use a lighter tone of the brand colour.
    """
    default = Theme()
    mode = mode if mode in MODES else (theme.mode if theme.mode in MODES else "light")
    primary = normalize_hex(theme.primary) or default.primary
    accent = normalize_hex(theme.accent) or default.accent
    if mode == "dark":
        background = mix(primary, DARK_BASE, 0.10)
        surface = mix(primary, DARK_SURFACE_BASE, 0.08)
        primary = nearest_passing(primary, (background, surface), TEXT_RATIO) or primary
        text, muted, border = DARK_TEXT, DARK_MUTED, DARK_BORDER
    else:
        background = normalize_hex(theme.background) or default.background
        surface, text, muted, border = LIGHT_SURFACE, LIGHT_TEXT, LIGHT_MUTED, LIGHT_BORDER
    return Palette(
        mode=mode,
        background=background,
        surface=surface,
        text=text,
        muted=muted,
        border=border,
        primary=primary,
        on_primary=readable_text_on(primary),
        accent=accent,
        on_accent=readable_text_on(accent),
    )


@dataclass(frozen=True)
class Theme:
    brand_name: str = "Loyalty"
    primary: str = "#0f766e"
    accent: str = "#f59e0b"
    background: str = "#f8fafc"
    radius: int = 16  # px
    mode: str = "light"  # light | dark
    font: str = "Inter"

    @property
    def on_primary(self) -> str:
        return readable_text_on(self.primary)

    @property
    def on_accent(self) -> str:
        return readable_text_on(self.accent)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> Theme:
        """Build from stored JSON, ignoring unknown keys and keeping defaults for missing ones."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, **changes) -> Theme:
        return replace(self, **changes)

    @property
    def font_stack(self) -> str:
        return FONT_STACKS.get(self.font, FONT_STACKS["System"])

    @property
    def safe_radius(self) -> int:
        try:
            return max(RADIUS_MIN, min(RADIUS_MAX, int(self.radius)))
        except (TypeError, ValueError):
            return Theme.radius

    def css_vars(self, mode: str | None = None) -> dict[str, str]:
        """CSS custom properties the member app reads (``var(--brand-primary)`` ...), for the
        theme's mode (or ``mode``), plus ``color-scheme``. Only validated values get out:
        plain hex colours, a clamped radius and a font stack from our own list, so a stored
        value can never break out of a CSS declaration."""
        p = palette(self, mode)
        light = p if p.mode == "light" else palette(self, "light")
        return {
            "--brand-primary": p.primary,
            "--brand-on-primary": p.on_primary,
            "--brand-accent": p.accent,
            "--brand-on-accent": p.on_accent,
            "--brand-background": p.background,
            "--brand-radius": f"{self.safe_radius}px",
            "--brand-font": self.font_stack,
            "--surface": p.surface,
            "--text": p.text,
            "--text-muted": p.muted,
            "--border": p.border,
            "--brand-shade": p.shade,
            "--bg-muted": "#262b33" if p.mode == "dark" else "#f3f4f6",
            # The merchant console stays light whatever the members' mode (app.css, theme editor block).
            "--brand-light-primary": light.primary,
            "--brand-light-on-primary": light.on_primary,
            "--brand-light-shade": light.shade,
            "color-scheme": p.mode,
            **(dark_extras(p) if p.mode == "dark" else {}),
        }


# ------------------------------------------------------------------ editing: validation, presets

BRAND_NAME_EMPTY = N_("Enter a brand name.")
BRAND_NAME_TOO_LONG = N_("The brand name can be at most {max} characters.")
BAD_COLOUR = {
    "primary": N_("The primary colour must be a hex colour like #1f5f46."),
    "accent": N_("The accent colour must be a hex colour like #f2a33a."),
    "background": N_("The background colour must be a hex colour like #faf6ef."),
}
BAD_RADIUS = N_("The corner radius must be a whole number from {min} to {max}.")
BAD_MODE = N_("Choose light or dark.")
BAD_FONT = N_("Choose a font from the list.")
COLOUR_FIELDS = ("primary", "accent", "background")


def clean_brand_name(value: object) -> str:
    """Trimmed, whitespace and newlines folded, control characters dropped (NUL and the like
    cannot be stored by PostgreSQL and have no place on a home-screen label)."""
    return one_line(value)


EDITABLE_FIELDS = ("brand_name", "primary", "accent", "background", "radius", "mode", "font")


def validate_theme(fields_: dict, base: Theme | None = None) -> Theme:
    """A Theme from editor input: ``base`` with the given fields replaced, every one checked.

    Raises LoyaltyError on the first bad field (codes theme_brand_name, theme_colour,
    theme_radius, theme_mode, theme_font); nothing of a bad input is kept. Unknown keys are
    ignored. Colours are normalised to lower-case #rrggbb, the name is trimmed.
    """
    base = base or Theme()
    changes: dict[str, Any] = {}
    if "brand_name" in fields_:
        name = clean_brand_name(fields_["brand_name"])
        if not name:
            raise LoyaltyError(BRAND_NAME_EMPTY, code="theme_brand_name")
        if len(name) > BRAND_NAME_MAX:
            raise LoyaltyError(BRAND_NAME_TOO_LONG, code="theme_brand_name", max=BRAND_NAME_MAX)
        changes["brand_name"] = name
    for key in COLOUR_FIELDS:
        if key in fields_:
            colour = normalize_hex(fields_[key])
            if colour is None:
                raise LoyaltyError(BAD_COLOUR[key], code="theme_colour", field=key)
            changes[key] = colour
    if "radius" in fields_:
        raw = fields_["radius"]
        try:
            radius = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            radius = None
        if radius is None or not RADIUS_MIN <= radius <= RADIUS_MAX:
            raise LoyaltyError(BAD_RADIUS, code="theme_radius", min=RADIUS_MIN, max=RADIUS_MAX)
        changes["radius"] = radius
    if "mode" in fields_:
        if fields_["mode"] not in MODES:
            raise LoyaltyError(BAD_MODE, code="theme_mode")
        changes["mode"] = fields_["mode"]
    if "font" in fields_:
        if fields_["font"] not in FONT_STACKS:
            raise LoyaltyError(BAD_FONT, code="theme_font")
        changes["font"] = fields_["font"]
    return replace(base, **changes)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str  # msgid
    primary: str
    accent: str
    background: str
    radius: int
    mode: str
    font: str

    def apply(self, theme: Theme) -> Theme:
        """``theme`` with this preset's look; the brand name stays the merchant's."""
        return replace(
            theme,
            primary=self.primary,
            accent=self.accent,
            background=self.background,
            radius=self.radius,
            mode=self.mode,
            font=self.font,
        )


# Ready themes; each passes every contrast check of its mode (tests/unit/test_theme_contrast.py).
PRESETS: tuple[Preset, ...] = (
    Preset("forest", N_("Forest"), "#1f5f46", "#f2a33a", "#faf6ef", 18, "light", "Nunito"),
    Preset("ocean", N_("Ocean"), "#0b5cab", "#ffb703", "#f3f7fb", 14, "light", "Inter"),
    Preset("berry", N_("Berry"), "#8e1f5a", "#f6c344", "#fdf6f9", 22, "light", "Nunito"),
    Preset("ink", N_("Ink & paper"), "#3b2f8f", "#e4572e", "#f6f4ff", 8, "light", "Merriweather"),
    Preset("midnight", N_("Midnight"), "#7c9cff", "#ffd166", "#f5f7ff", 16, "dark", "Space Grotesk"),
)
PRESETS_BY_KEY = {p.key: p for p in PRESETS}
