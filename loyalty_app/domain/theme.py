"""The one theme model: a merchant's brand, as data.

The member app, the manifest, the icons and (later) the theme editor's preview all read a
``Theme``; nothing else defines brand colours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

FONTS = ("Inter", "Nunito", "Merriweather", "Space Grotesk", "System")


def _hex_to_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def relative_luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = _hex_to_rgb(hex_colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1.0 .. 21.0)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def readable_text_on(background: str) -> str:
    """Black or white, whichever reads better on ``background``."""
    return "#111111" if contrast_ratio(background, "#111111") >= contrast_ratio(background, "#ffffff") else "#ffffff"


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
    def from_dict(cls, data: dict | None) -> "Theme":
        """Build from stored JSON, ignoring unknown keys and keeping defaults for missing ones."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_changes(self, **changes) -> "Theme":
        return replace(self, **changes)

    def css_vars(self) -> dict[str, str]:
        """CSS custom properties the member app reads (``var(--brand-primary)`` ...)."""
        return {
            "--brand-primary": self.primary,
            "--brand-on-primary": self.on_primary,
            "--brand-accent": self.accent,
            "--brand-on-accent": self.on_accent,
            "--brand-background": self.background,
            "--brand-radius": f"{self.radius}px",
            "--brand-font": self.font if self.font != "System" else "system-ui",
        }
