"""The theme editor's live preview: two phone frames (light and dark) rendering the member app's
own components (top bar, points card, quest card, reward tiles, tab bar, member card) with demo
data, styled by the CSS variables ThemeEditorState computes from the draft and sets on each
frame, so the merchant sees the draft as members would before anything is published."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.cockpit import challenge_row, progress_bar, quest_card
from loyalty_app.components.rewards import reward_tile
from loyalty_app.components.shell import tab_bar
from loyalty_app.domain.theme_contrast import MODE_LABELS
from loyalty_app.i18n import localized_number, t
from loyalty_app.pages.admin_theme.state import SCREENS, ThemeEditorState
from loyalty_app.pages.admin_theme.widgets import MODE_ICONS, toggle_group
from loyalty_app.services.platform.qr import qr_svg_data_uri

S = ThemeEditorState

PREVIEW_VARS = (
    "--brand-primary",
    "--brand-on-primary",
    "--brand-accent",
    "--brand-on-accent",
    "--brand-background",
    "--brand-radius",
    "--brand-font",
    "--surface",
    "--text",
    "--text-muted",
    "--border",
    "--brand-shade",
    "--bg-muted",
    # dark themes only (domain/theme.py dark_extras); the light screen keeps the console's light values
    "--field-bg",
    "--field-border",
    "--ghost-bg",
    "--media-bg",
    "--tint-base",
    "--track-base",
    "--seg-base",
)
# Demo data of the preview: nothing of a real member.
DEMO_QR = qr_svg_data_uri("THEME-PREVIEW-0000")


def _preview_style(vars_: rx.Var, mode: str) -> dict:
    return {**{name: vars_[name] for name in PREVIEW_VARS}, "colorScheme": mode}


def _preview_top_bar() -> rx.Component:
    return rx.el.header(
        rx.cond(S.logo_url != "", rx.el.img(src=S.logo_url, alt="", class_name="topbar-logo", width="36", height="36")),
        rx.el.p(S.brand_name, class_name="topbar-title"),
        class_name="topbar",
        data_testid="preview-topbar",
    )


_QUEST = {"multiplier": "×2", "name": t("Double points weekend"), "ends": "18:00", "ends_at": ""}
_CHALLENGE = {"name": t("Visit 5 times this month"), "pct": 60, "progress": "3/5"}


def _reward(rid: str, name: rx.Var, cost: int, status: str, kind: str, **extra) -> dict:
    return {
        "id": rid,
        "image": "",
        "kind": kind,
        "status": status,
        "name": name,
        "cost": cost,
        "rating": extra.get("rating", ""),
        "rating_pct": extra.get("pct", 0),
        "rating_count": extra.get("count", 0),
        "tier": t("Gold"),
        "missing": extra.get("missing", 0),
        "from": "",
    }


_REWARDS = [
    _reward("1", t("Welcome treat"), 150, "ok", "free_product", rating="4.8", pct=96, count=32),
    _reward("2", t("10% off your order"), 400, "ok", "discount", rating="4.5", pct=90, count=12),
    _reward("3", t("Tasting evening"), 1500, "insufficient_points", "event_ticket", missing=260),
    _reward("4", t("Members' gift box"), 2400, "tier_locked", "free_product"),
]


def _preview_home() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.p(t("Hi, {name}", name="Ana"), class_name="hero-greeting"),
            rx.el.p(localized_number(1240), class_name="hero-points"),
            rx.el.p(t("Available points"), class_name="hero-points-label"),
            rx.el.span(rx.icon("crown", size=14, aria_hidden="true"), t("Gold"), class_name="tier-chip"),
            progress_bar(rx.Var.create(74), t("Progress to {tier}", tier=t("Platinum"))),
            rx.el.p(
                t("{points} points to {tier}", points="260", tier=t("Platinum")),
                class_name="small",
                style={"margin": 0, "fontWeight": 700},
            ),
            class_name="hero",
        ),
        quest_card(rx.Var.create(_QUEST)),
        rx.el.section(
            rx.el.h2(t("Challenges")),
            rx.el.ul(challenge_row(rx.Var.create(_CHALLENGE)), class_name="list"),
            class_name="card",
        ),
        rx.el.h2(t("Picked for you"), class_name="section-title"),
        rx.el.div(*[reward_tile(rx.Var.create(r)) for r in _REWARDS[:2]], class_name="grid-2 rw-grid"),
    )


def _preview_rewards() -> rx.Component:
    return rx.fragment(
        rx.el.div(rx.el.h1(t("Rewards"), class_name="rw-title"), class_name="rw-head"),
        rx.el.p(
            rx.icon("coins", size=18, aria_hidden="true"),
            rx.el.span(t("You have {points} points", points=localized_number(1240))),
            class_name="rw-balance",
        ),
        rx.el.div(
            rx.el.span(t("Can afford"), class_name="seg-btn", aria_pressed="true"),
            rx.el.span(t("Price"), class_name="seg-btn", aria_pressed="false"),
            rx.el.span(t("Top rated"), class_name="seg-btn", aria_pressed="false"),
            class_name="seg",
        ),
        rx.el.div(*[reward_tile(rx.Var.create(r)) for r in _REWARDS], class_name="grid-2 rw-grid"),
    )


def _preview_card() -> rx.Component:
    return rx.el.section(
        rx.el.p(S.brand_name, style={"margin": 0, "fontWeight": 800, "opacity": 0.9}),
        rx.el.p("Ana Popescu", style={"margin": "6px 0 0", "fontSize": "1.3rem", "fontWeight": 900}),
        rx.el.span(rx.icon("crown", size=14, aria_hidden="true"), t("Gold"), class_name="tier-chip", style={"marginTop": "8px"}),
        rx.el.div(
            rx.el.img(
                src=DEMO_QR, alt="", width="200", height="200", style={"display": "block", "width": "200px", "height": "200px"}
            ),
            class_name="qr",
        ),
        rx.el.p(t("Member number"), class_name="small", style={"margin": "4px 0 4px", "opacity": 0.85}),
        rx.el.p("1234 5678", class_name="number"),
        class_name="member-card",
    )


def _phone(mode: str, vars_: rx.Var) -> rx.Component:
    label = MODE_LABELS[mode]
    screen = rx.el.div(
        rx.el.div(
            _preview_top_bar(),
            rx.el.div(
                rx.match(
                    S.preview_screen,
                    ("rewards", _preview_rewards()),
                    ("card", _preview_card()),
                    _preview_home(),
                ),
                class_name="content",
            ),
            rx.match(S.preview_screen, ("rewards", tab_bar("rewards")), ("card", tab_bar("card")), tab_bar("home")),
            class_name="app-frame",
        ),
        class_name="te-screen",
        style=_preview_style(vars_, mode),
        custom_attrs={"inert": True},
        data_testid=f"preview-{mode}-screen",
    )
    return rx.el.figure(
        rx.el.figcaption(
            rx.icon(MODE_ICONS[mode], size=15, aria_hidden="true"),
            t(label),
            rx.cond(S.mode == mode, rx.el.span(t("Members see this"), class_name="te-live-chip")),
            class_name="te-caption",
        ),
        rx.el.div(screen, class_name="te-phone"),
        class_name=rx.cond(S.mode == mode, "te-figure te-figure-active", "te-figure"),
        data_testid=f"preview-{mode}",
    )


def preview() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.el.h2(t("Live preview"), class_name="te-section-title"),
            toggle_group(SCREENS, S.preview_screen, S.show_screen, label=t("Preview screen"), test_prefix="screen"),
            class_name="te-preview-head",
        ),
        rx.el.p(t("Demo data. Members see nothing of this until you publish."), class_name="small muted te-hint"),
        rx.el.div(_phone("light", S.light_vars), _phone("dark", S.dark_vars), class_name="te-phones"),
        class_name="te-preview",
        data_testid="theme-preview",
    )
