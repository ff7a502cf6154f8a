"""The theme editor's form: the brand (name and logo), the three colours (picker and hex field),
the look (light or dark, corner radius, font) and the ready-made themes. Every edit goes to the
draft in ThemeEditorState, which the preview beside it renders; nothing here saves."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.dropzone import image_picker
from loyalty_app.domain.errors import N_
from loyalty_app.domain.theme import FONTS, PRESETS, RADIUS_MAX, RADIUS_MIN
from loyalty_app.domain.theme_contrast import MODE_LABELS
from loyalty_app.i18n import t
from loyalty_app.pages.admin_theme.readability import readability_panel
from loyalty_app.pages.admin_theme.state import FIELD_LABELS, ThemeEditorState
from loyalty_app.pages.admin_theme.widgets import MODE_ICONS, colour_dots, section, toggle_group

S = ThemeEditorState

LOGO_UPLOAD_ID = "theme-logo-upload"
FONT_LABELS = {
    "System": N_("System default"),
    "Inter": N_("Clean sans-serif"),
    "Nunito": N_("Rounded"),
    "Merriweather": N_("Serif"),
    "Space Grotesk": N_("Geometric"),
}


def _field_error(field: str) -> rx.Component:
    return rx.cond(
        S.field_errors.contains(field),
        rx.el.p(S.field_errors[field], class_name="te-field-error", role="alert", data_testid=f"error-{field}"),
    )


def _colour_field(field: str, label: str, hint: str) -> rx.Component:
    return rx.el.div(
        rx.el.label(t(label), html_for=f"te-{field}-hex", class_name="te-label"),
        rx.el.div(
            rx.el.input(
                type="color",
                default_value=getattr(S, field),
                key=S.keys[f"{field}-picker"],
                on_change=lambda v: S.pick_colour(field, v),
                class_name="te-swatch",
                aria_label=t(label),
                data_testid=f"picker-{field}",
            ),
            rx.el.input(
                id=f"te-{field}-hex",
                type="text",
                default_value=S.hex_text[field],
                key=S.keys[f"{field}-text"],
                on_change=lambda v: S.type_colour(field, v),
                on_blur=lambda v: S.check_colour(field, v),
                class_name="input te-hex",
                spell_check=False,
                auto_complete="off",
                max_length=7,
                aria_describedby=f"te-{field}-hint",
                aria_invalid=rx.cond(S.field_errors.contains(field), "true", "false"),
                data_testid=f"hex-{field}",
            ),
            class_name="te-colour-row",
        ),
        rx.el.p(t(hint), id=f"te-{field}-hint", class_name="small muted te-hint"),
        _field_error(field),
        class_name="te-field",
    )


def _logo_field() -> rx.Component:
    return rx.el.div(
        rx.el.span(t("Logo"), class_name="te-label"),
        rx.el.div(
            rx.cond(
                S.logo_url != "",
                rx.el.img(
                    src=S.logo_url,
                    alt=t("Current logo"),
                    class_name="te-logo",
                    width="56",
                    height="56",
                    data_testid="logo-preview",
                ),
                rx.el.span(rx.icon("image", size=22, aria_hidden="true"), class_name="te-logo te-logo-empty"),
            ),
            image_picker(
                upload_id=LOGO_UPLOAD_ID,
                label_id="te-logo-label",
                label=t("Upload a logo"),
                icon="image-up",
                button_class="btn btn-secondary te-logo-btn",
                on_drop=S.upload_logo,
                on_drop_rejected=S.logo_rejected,
                class_name="te-upload",
                test_id="logo-upload",
            ),
            rx.cond(
                S.logo_url != "",
                rx.el.button(
                    rx.icon("trash-2", size=18, aria_hidden="true"),
                    type="button",
                    class_name="btn btn-ghost te-icon-btn",
                    on_click=S.remove_logo,
                    aria_label=t("Remove the logo"),
                    title=t("Remove the logo"),
                    data_testid="logo-remove",
                ),
            ),
            class_name="te-logo-row",
        ),
        rx.el.p(
            t("Square PNG with a transparent background works best, at least 512 × 512 pixels. The app icons are made from it."),
            class_name="small muted te-hint",
        ),
        class_name="te-field",
    )


def _mode_toggle() -> rx.Component:
    return toggle_group(MODE_LABELS, S.mode, S.set_mode, label=t("Appearance"), test_prefix="mode", icons=MODE_ICONS)


def _presets() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                colour_dots(p.primary, p.accent, p.background if p.mode == "light" else "#161a22"),
                rx.el.span(t(p.label)),
                type="button",
                on_click=S.apply_preset(p.key),
                class_name="te-preset",
                data_testid=f"preset-{p.key}",
            )
            for p in PRESETS
        ],
        class_name="te-presets",
    )


def editor_form() -> rx.Component:
    return rx.el.div(
        section(
            t("Brand"),
            rx.el.div(
                rx.el.label(t("Brand name"), html_for="te-brand-name", class_name="te-label"),
                rx.el.input(
                    id="te-brand-name",
                    type="text",
                    default_value=S.brand_name,
                    key=S.keys["form"],
                    on_change=S.set_brand_name,
                    class_name="input",
                    max_length=40,
                    auto_complete="off",
                    data_testid="brand-name",
                ),
                rx.el.p(
                    t("Shown in the top bar and under the app icon (at most 24 characters)."), class_name="small muted te-hint"
                ),
                _field_error("brand_name"),
                class_name="te-field",
            ),
            _logo_field(),
        ),
        section(
            t("Colours"),
            _colour_field("primary", FIELD_LABELS["primary"], N_("Top bar, buttons, links and prices.")),
            _colour_field("accent", FIELD_LABELS["accent"], N_("Tier badge, progress bars and highlights.")),
            _colour_field("background", FIELD_LABELS["background"], N_("Behind everything in light mode.")),
            test_id="colours",
        ),
        readability_panel(),
        section(
            t("Look"),
            rx.el.div(
                rx.el.span(t("Appearance"), class_name="te-label"),
                _mode_toggle(),
                rx.el.p(
                    t("Dark mode uses dark cards and a lighter tone of your primary colour when needed."),
                    class_name="small muted te-hint",
                ),
                class_name="te-field",
            ),
            rx.el.div(
                rx.el.label(t("Corner radius"), html_for="te-radius", class_name="te-label"),
                rx.el.div(
                    rx.el.input(
                        id="te-radius",
                        type="range",
                        min=RADIUS_MIN,
                        max=RADIUS_MAX,
                        step=1,
                        default_value=S.radius,
                        key=S.keys["form"],
                        on_change=S.set_radius,
                        class_name="te-range",
                        data_testid="radius",
                    ),
                    rx.el.span(S.radius, " px", class_name="te-range-value", aria_hidden="true"),
                    class_name="te-range-row",
                ),
                class_name="te-field",
            ),
            rx.el.div(
                rx.el.label(t("Font"), html_for="te-font", class_name="te-label"),
                rx.el.select(
                    *[rx.el.option(t(FONT_LABELS[f]), value=f) for f in FONTS],
                    id="te-font",
                    value=S.font,
                    on_change=S.set_font,
                    class_name="select",
                    data_testid="font",
                ),
                rx.el.p(t("Fonts come from the member's phone: nothing is downloaded."), class_name="small muted te-hint"),
                class_name="te-field",
            ),
        ),
        section(
            t("Ready-made themes"),
            _presets(),
            rx.el.p(
                t("A preset changes colours, corners, font and appearance; your name and logo stay."),
                class_name="small muted te-hint",
            ),
        ),
        class_name="te-form",
    )
