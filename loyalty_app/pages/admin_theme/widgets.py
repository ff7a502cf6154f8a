"""Small pieces the theme editor's panels share: a titled card section, a row of toggle buttons
(light/dark, the preview's screens) and the three colour dots of a theme (presets, versions)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from loyalty_app.i18n import t

MODE_ICONS = {"light": "sun", "dark": "moon"}


def section(title: rx.Var, *children: rx.Component, icon: str = "", test_id: str = "") -> rx.Component:
    heading = (rx.icon(icon, size=18, aria_hidden="true"), title) if icon else (title,)
    return rx.el.section(
        rx.el.h2(*heading, class_name="te-section-title"), *children, class_name="card te-section", data_testid=test_id or None
    )


def toggle_group(
    options: dict[str, str] | tuple[tuple[str, str], ...],
    current: rx.Var,
    on_pick: Callable[[str], rx.EventSpec],
    *,
    label: rx.Var,
    test_prefix: str,
    icons: dict[str, str] | None = None,
) -> rx.Component:
    """One pressed button per ``(key, label msgid)`` option; ``current`` is the pressed key."""
    return rx.el.div(
        *[
            rx.el.button(
                *([rx.icon(icons[key], size=16, aria_hidden="true")] if icons else []),
                t(text),
                type="button",
                aria_pressed=rx.cond(current == key, "true", "false"),
                on_click=on_pick(key),
                class_name="te-seg-btn",
                data_testid=f"{test_prefix}-{key}",
            )
            for key, text in (options.items() if isinstance(options, dict) else options)
        ],
        class_name="te-seg",
        role="group",
        aria_label=label,
    )


def colour_dots(primary: rx.Var | str, accent: rx.Var | str, background: rx.Var | str) -> rx.Component:
    return rx.el.span(
        rx.el.span(style={"background": primary}),
        rx.el.span(style={"background": accent}),
        rx.el.span(style={"background": background}),
        class_name="te-preset-dots",
        aria_hidden="true",
    )
