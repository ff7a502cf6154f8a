"""WCAG contrast checks of a theme: every text/background pair it puts on members' screens.

Pure: no Reflex, no database. The theme editor shows the failing pairs as warnings, each with
the nearest colour that passes (the smallest lightness change of the field the merchant picks),
and the tests pin the maths to known ratios (black on white is 21:1, #777 on white 4.48:1).

Ratios follow WCAG 2.x success criteria 1.4.3 (text: 4.5:1, large text 3:1) and 1.4.11 (user
interface components and graphics: 3:1). The pairs mirror assets/app.css: when a rule there
puts one theme colour on another, the pair belongs here.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalty_app.domain.errors import N_
from loyalty_app.domain.theme import (
    LARGE_RATIO,
    MODES,
    TEXT_RATIO,
    Palette,
    Theme,
    contrast_ratio,
    nearest_lightness,
    nearest_passing,
    palette,
    relative_luminance,
)

__all__ = [
    "PAIRS",
    "ContrastCheck",
    "PairSpec",
    "check_theme",
    "contrast_ratio",
    "failing",
    "nearest_passing",
    "relative_luminance",
    "suggest_fix",
]


@dataclass(frozen=True)
class PairSpec:
    """One foreground/background pair the member app draws, by Palette attribute."""

    key: str
    label: str  # msgid
    fg: str
    bg: str
    required: float
    field: str | None  # the Theme field that changes this pair (what a suggestion adjusts)
    kind: str = "text"  # text | large | ui


PAIRS: tuple[PairSpec, ...] = (
    PairSpec("text_background", N_("Text on the page background"), "text", "background", TEXT_RATIO, "background"),
    PairSpec("muted_background", N_("Secondary text on the page background"), "muted", "background", TEXT_RATIO, "background"),
    PairSpec("text_surface", N_("Text on cards"), "text", "surface", TEXT_RATIO, None),
    PairSpec("muted_surface", N_("Secondary text and tab labels on cards"), "muted", "surface", TEXT_RATIO, None),
    PairSpec("on_primary", N_("Text on the primary colour (top bar, buttons)"), "on_primary", "primary", TEXT_RATIO, "primary"),
    PairSpec(
        "on_primary_card", N_("Text on the points and member card gradients"), "on_primary", "card_end", TEXT_RATIO, "primary"
    ),
    PairSpec(
        "points_hero",
        N_("Points balance on the points card (large text)"),
        "on_primary",
        "hero_end",
        LARGE_RATIO,
        "primary",
        "large",
    ),
    PairSpec("primary_background", N_("Links and prices on the page background"), "primary", "background", TEXT_RATIO, "primary"),
    PairSpec("primary_surface", N_("Links, prices and the selected tab on cards"), "primary", "surface", TEXT_RATIO, "primary"),
    PairSpec("on_accent", N_("Text on the accent colour (tier badge, chips)"), "on_accent", "accent", TEXT_RATIO, "accent"),
)
PAIRS_BY_KEY = {p.key: p for p in PAIRS}

MODE_LABELS = {"light": N_("Light"), "dark": N_("Dark")}


@dataclass(frozen=True)
class ContrastCheck:
    """The result for one pair in one mode."""

    key: str
    mode: str
    label: str  # msgid
    foreground: str
    background: str
    ratio: float
    required: float
    kind: str
    field: str | None  # Theme field a suggestion changes; None when the merchant cannot change it

    @property
    def passes(self) -> bool:
        return self.ratio >= self.required

    @property
    def ratio_text(self) -> str:
        """Rounded DOWN to one decimal, so 4.48 never reads as a passing "4.5"."""
        return f"{int(self.ratio * 10) / 10:.1f}"


def _adjustable(spec: PairSpec, mode: str) -> str | None:
    # Dark mode derives its page and card colours from the primary: the picked background is a
    # light-mode colour only.
    if mode == "dark" and spec.field == "background":
        return None
    return spec.field


def _check(spec: PairSpec, p: Palette) -> ContrastCheck:
    fg, bg = getattr(p, spec.fg), getattr(p, spec.bg)
    return ContrastCheck(
        key=spec.key,
        mode=p.mode,
        label=spec.label,
        foreground=fg,
        background=bg,
        ratio=contrast_ratio(fg, bg),
        required=spec.required,
        kind=spec.kind,
        field=_adjustable(spec, p.mode),
    )


def check_theme(theme: Theme, modes: tuple[str, ...] = MODES) -> list[ContrastCheck]:
    """Every pair of ``theme`` in each of ``modes`` (light and dark by default)."""
    out: list[ContrastCheck] = []
    for mode in modes:
        p = palette(theme, mode)
        out.extend(_check(spec, p) for spec in PAIRS)
    return out


def failing(theme: Theme, modes: tuple[str, ...] = MODES) -> list[ContrastCheck]:
    return [c for c in check_theme(theme, modes) if not c.passes]


def suggest_fix(theme: Theme, check: ContrastCheck) -> str | None:
    """The nearest value of ``check.field`` (same hue, lightness moved as little as possible)
    with which this pair passes, the derived colours (on-colours, dark tones) recomputed for
    every candidate; None when the pair passes already, or nothing the merchant picks fixes it."""
    if check.passes or check.field is None:
        return None
    spec = PAIRS_BY_KEY[check.key]
    field = check.field
    start = getattr(theme, field)

    def passes(candidate: str) -> bool:
        p = palette(theme.with_changes(**{field: candidate}), check.mode)
        return contrast_ratio(getattr(p, spec.fg), getattr(p, spec.bg)) >= spec.required

    found = nearest_lightness(start, passes)
    return found if found and found != start else None
