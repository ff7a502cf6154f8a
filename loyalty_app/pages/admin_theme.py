"""Merchant console, theme editor: /m/<slug>/admin-theme.

The form on the left edits a draft; on the right two phone frames (light and dark) render the
member app's own components (top bar, points card, quest card, reward tiles, tab bar, member
card) with demo data, styled by CSS variables computed from the draft and set on the preview
container, so nothing reaches members until Publish. Every text/background pair of the draft
is checked against WCAG (domain/theme_contrast.py); failures are listed with the nearest
passing colour and an Apply button. Save draft, Publish (confirmed), Discard, and a version
history with Revert (services/program/theme_admin.py).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.cockpit import challenge_row, progress_bar, quest_card
from loyalty_app.components.console import admin_frame
from loyalty_app.components.rewards import reward_tile
from loyalty_app.components.shell import confirm_sheet, tab_bar
from loyalty_app.domain.errors import N_
from loyalty_app.domain.theme import (
    BAD_COLOUR,
    BRAND_NAME_MAX,
    BRAND_NAME_TOO_LONG,
    COLOUR_FIELDS,
    FONTS,
    PRESETS,
    PRESETS_BY_KEY,
    RADIUS_MAX,
    RADIUS_MIN,
    Theme,
    clean_brand_name,
    normalize_hex,
)
from loyalty_app.domain.theme_contrast import MODE_LABELS, check_theme, suggest_fix
from loyalty_app.i18n import format_datetime, localized_number, t, translate
from loyalty_app.services.members import member_media
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.platform.qr import qr_svg_data_uri
from loyalty_app.services.program import theme_admin
from loyalty_app.state.forms import current_language, error_message, form_id, off_loop, run_service, translated
from loyalty_app.state.session import SessionState, require_actor

LOGO_UPLOAD_ID = "theme-logo-upload"
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}
SCREENS = (("home", N_("Home")), ("rewards", N_("Rewards")), ("card", N_("Card")))
FONT_LABELS = {
    "System": N_("System default"),
    "Inter": N_("Clean sans-serif"),
    "Nunito": N_("Rounded"),
    "Merriweather": N_("Serif"),
    "Space Grotesk": N_("Geometric"),
}
FIELD_LABELS = {"primary": N_("Primary colour"), "accent": N_("Accent colour"), "background": N_("Page background")}
STATUS_LABELS = {"published": N_("Live"), "archived": N_("Earlier")}
WARNING_LINE = N_("{pair}: {ratio}:1, needs {required}:1")
SAVED = N_("Draft saved. Members still see the published theme.")
PUBLISHED = N_("Published. Members see the new theme now.")
DISCARDED = N_("Changes discarded. The editor shows the published theme again.")
REVERTED = N_("Version {version} is now the draft. Publish it to make it live again.")
LOGO_SAVED = N_("Logo uploaded to the draft. The app icons are made from it when you publish.")
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
# After a publish, this tab's console picks up the new theme.css at once (members: next page load).
RELOAD_THEME_CSS = (
    'document.querySelectorAll(\'link[rel="stylesheet"][href*="theme.css"]\').forEach(function (l) {'
    " l.href = new URL('theme.css?v=' + Date.now(), window.location.href).href; })"
)
# Demo data of the preview: nothing of a real member.
DEMO_QR = qr_svg_data_uri("THEME-PREVIEW-0000")


def _form_fields(theme: Theme) -> dict[str, Any]:
    return {k: getattr(theme, k) for k in ("brand_name", "primary", "accent", "background", "radius", "mode", "font")}


class ThemeEditorState(rx.State):
    # The draft being edited (valid values: they drive the preview and the colour pickers).
    brand_name: str = ""
    primary: str = "#0f766e"
    accent: str = "#f59e0b"
    background: str = "#f8fafc"
    radius: int = 16
    mode: str = "light"
    font: str = "Inter"
    logo_url: str = ""
    # What is typed in the hex fields (may be half-typed) and the per-field messages.
    hex_text: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    # Remount keys of the uncontrolled inputs (changed when a value is set from the server side).
    keys: dict[str, str] = {}
    # Derived from the draft.
    light_vars: dict[str, str] = {}
    dark_vars: dict[str, str] = {}
    warnings: list[dict[str, str]] = []
    checks: list[dict[str, str]] = []
    passed_count: int = 0
    # Status and history.
    has_draft: bool = False
    dirty: bool = False
    published_version: int = 0
    versions: list[dict[str, str]] = []
    preview_screen: str = "home"
    confirm_publish: bool = False
    publish_note: str = ""
    busy: bool = False
    error: str = ""
    notice: str = ""
    loaded: bool = False
    _logo_id: int | None = None
    _saved: dict = {}  # the form as last saved (draft) or published, for "unsaved changes"
    _rev: int = 0

    # ------------------------------------------------------------------ helpers

    def _theme(self) -> Theme:
        return Theme(
            brand_name=self.brand_name,
            primary=self.primary,
            accent=self.accent,
            background=self.background,
            radius=self.radius,
            mode=self.mode,
            font=self.font,
        )

    def _form(self) -> dict[str, Any]:
        return {**_form_fields(self._theme()), "logo_id": self._logo_id}

    def _bump(self, *names: str) -> None:
        self._rev += 1
        keys = dict(self.keys)
        for name in names:
            keys[name] = f"{name}-{self._rev}"
        self.keys = keys

    def _fill(self, theme: Theme, logo_id: int | None, slug: str) -> None:
        """Put ``theme`` into the form and remount every input with its value."""
        self.brand_name, self.radius, self.mode, self.font = theme.brand_name, int(theme.safe_radius), theme.mode, theme.font
        for field in COLOUR_FIELDS:
            setattr(self, field, normalize_hex(getattr(theme, field)) or getattr(Theme(), field))
        self.hex_text = {f: getattr(self, f) for f in COLOUR_FIELDS}
        self.field_errors = {}
        self._logo_id = logo_id
        self.logo_url = theme_admin.logo_url(slug, logo_id)
        self._bump("form", *[f"{f}-text" for f in COLOUR_FIELDS], *[f"{f}-picker" for f in COLOUR_FIELDS])

    async def _recompute(self) -> None:
        theme = self._theme()
        self.light_vars = {k: v for k, v in theme.css_vars("light").items() if k.startswith("--")}
        self.dark_vars = {k: v for k, v in theme.css_vars("dark").items() if k.startswith("--")}
        lang = await current_language(self)
        checks, warnings = [], []
        for c in check_theme(theme):
            label = translate(lang, c.label)
            row = {
                "key": f"{c.mode}-{c.key}",
                "mode": translate(lang, MODE_LABELS[c.mode]),
                "label": label,
                "ratio": c.ratio_text,
                "required": f"{c.required:g}",
                "fg": c.foreground,
                "bg": c.background,
                "ok": "1" if c.passes else "",
            }
            checks.append(row)
            if not c.passes and c.mode == theme.mode:
                suggestion = suggest_fix(theme, c) or ""
                warnings.append(
                    {
                        **row,
                        "text": translate(lang, WARNING_LINE, pair=label, ratio=float(c.ratio_text), required=c.required),
                        "field": c.field or "",
                        "field_label": translate(lang, FIELD_LABELS[c.field]) if c.field else "",
                        "suggestion": suggestion,
                    }
                )
        self.checks, self.warnings = checks, warnings
        self.passed_count = sum(1 for c in checks if c["ok"])
        self.dirty = self._form() != self._saved

    async def _actor(self):
        return await self.get_state(SessionState), await require_actor(self, Action.ADMIN_EDIT_THEME)

    async def _load_versions(self, actor, session) -> None:
        rows = await off_loop(theme_admin.list_versions, get_engine(), actor)
        lang = await current_language(self)
        self.versions = [
            {
                "version": str(v.version),
                "status": translate(lang, STATUS_LABELS.get(v.status, v.status)),
                "current": "1" if v.status == "published" else "",
                "when": format_datetime(lang, v.published_at, session._merchant_tz, "short") if v.published_at else "",
                "author": v.author,
                "note": v.note,
                "primary": normalize_hex(v.theme.primary) or "#000000",
                "accent": normalize_hex(v.theme.accent) or "#000000",
                "background": normalize_hex(v.theme.background) or "#ffffff",
                "name": v.theme.brand_name,
            }
            for v in rows
        ]

    async def _apply_view(self, view: theme_admin.EditorView) -> None:
        self._fill(view.theme, view.logo_id, view.slug)
        self.has_draft = view.has_draft
        self.published_version = view.published_version
        self._saved = self._form()
        await self._recompute()

    # ------------------------------------------------------------------ loading

    @rx.event
    async def load(self):
        self.error = self.notice = ""
        self.confirm_publish = self.busy = False
        try:
            session, actor = await self._actor()
            view = await off_loop(theme_admin.get_editor, get_engine(), actor)
            await self._apply_view(view)
            await self._load_versions(actor, session)
        except Exception as err:  # noqa: BLE001 - the page guard redirects strangers; refusals are logged
            self.error = await error_message(self, err)
            return
        self.loaded = True

    # ------------------------------------------------------------------ editing (nothing is saved)

    @rx.event
    async def set_brand_name(self, value: str):
        name = clean_brand_name(value)
        if len(name) > BRAND_NAME_MAX:
            self.field_errors = {
                **self.field_errors,
                "brand_name": await translated(self, BRAND_NAME_TOO_LONG, max=BRAND_NAME_MAX),
            }
            return
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "brand_name"}
        self.brand_name = name
        await self._recompute()

    @rx.event
    async def type_colour(self, field: str, value: str):
        """A hex field changed: a complete colour updates the preview at once."""
        if field not in COLOUR_FIELDS:
            return
        self.hex_text = {**self.hex_text, field: str(value or "")[:16]}
        colour = normalize_hex(value)
        if colour is None:
            return  # half typed: the message waits for the field to lose focus
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}
        if colour != getattr(self, field):
            setattr(self, field, colour)
            self._bump(f"{field}-picker")
            await self._recompute()

    @rx.event
    async def check_colour(self, field: str, value: str):
        """The hex field lost focus: say so when what is typed is not a colour."""
        if field not in COLOUR_FIELDS:
            return
        if normalize_hex(value) is None:
            self.field_errors = {**self.field_errors, field: await translated(self, BAD_COLOUR[field])}

    @rx.event
    async def pick_colour(self, field: str, value: str):
        """The colour picker moved."""
        colour = normalize_hex(value)
        if field not in COLOUR_FIELDS or colour is None:
            return
        setattr(self, field, colour)
        self.hex_text = {**self.hex_text, field: colour}
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}
        self._bump(f"{field}-text")
        await self._recompute()

    @rx.event
    async def set_radius(self, value: Any):
        try:
            radius = int(float(value))
        except (TypeError, ValueError, OverflowError):  # "1e309" is inf: no int
            return
        self.radius = max(RADIUS_MIN, min(RADIUS_MAX, radius))
        await self._recompute()

    @rx.event
    async def set_mode(self, mode: str):
        if mode in MODE_LABELS:
            self.mode = mode
            await self._recompute()

    @rx.event
    async def set_font(self, font: str):
        if font in FONTS:
            self.font = font
            await self._recompute()

    @rx.event
    async def apply_preset(self, key: str):
        preset = PRESETS_BY_KEY.get(key)
        if preset is None:
            return
        session = await self.get_state(SessionState)
        self._fill(preset.apply(self._theme()), self._logo_id, session.merchant_slug)
        await self._recompute()

    @rx.event
    async def apply_suggestion(self, field: str, colour: str):
        colour = normalize_hex(colour)
        if field not in COLOUR_FIELDS or colour is None:
            return
        setattr(self, field, colour)
        self.hex_text = {**self.hex_text, field: colour}
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}
        self._bump(f"{field}-text", f"{field}-picker")
        await self._recompute()

    @rx.event
    def show_screen(self, screen: str):
        if screen in dict(SCREENS):
            self.preview_screen = screen

    @rx.event
    async def remove_logo(self):
        self._logo_id = None
        self.logo_url = ""
        await self._recompute()

    # ------------------------------------------------------------------ saving

    @rx.event
    async def upload_logo(self, files: list[rx.UploadFile]):
        self.error = self.notice = ""
        if not files:
            return
        upload = files[0]
        data = await off_loop(upload.file.read, member_media.MAX_UPLOAD_BYTES + 1)
        ran = await run_service(self, theme_admin.upload_logo, data, upload.name or "", action=Action.ADMIN_EDIT_THEME)
        if ran is None:
            return
        _actor, blob_id = ran
        session = await self.get_state(SessionState)
        # The draft row now holds the logo; the rest of the form keeps its unsaved edits.
        self._logo_id = blob_id
        self.logo_url = theme_admin.logo_url(session.merchant_slug, blob_id)
        self.has_draft = True
        self._saved = {**self._saved, "logo_id": blob_id}
        await self._recompute()
        self.notice = await translated(self, LOGO_SAVED)

    @rx.event
    async def logo_rejected(self, rejected: list[dict[str, Any]]):
        self.notice = ""
        codes = {
            str(error.get("code", ""))
            for item in (rejected or [])
            if isinstance(item, dict)
            for error in (item.get("errors") or [])
            if isinstance(error, dict)
        }
        if "file-too-large" in codes:
            self.error = await translated(self, member_media.TOO_LARGE, limit=member_media.MAX_UPLOAD_MB)
        else:
            self.error = await translated(self, member_media.BAD_FORMAT)

    async def _save(self, actor) -> theme_admin.EditorView:
        return await off_loop(theme_admin.save_draft, get_engine(), actor, self._form())

    @rx.event
    async def save_draft(self):
        self.error = self.notice = ""
        self.busy = True
        yield
        ran = await run_service(self, theme_admin.save_draft, self._form(), action=Action.ADMIN_EDIT_THEME)
        if ran is not None:
            _actor, view = ran
            await self._apply_view(view)
            self.notice = await translated(self, SAVED)
        self.busy = False

    @rx.event
    def ask_publish(self):
        self.error = self.notice = ""
        self.publish_note = ""
        self.confirm_publish = True

    @rx.event
    def cancel_publish(self):
        self.confirm_publish = False

    @rx.event
    def set_publish_note(self, value: str):
        self.publish_note = str(value or "")[: theme_admin.NOTE_MAX]

    @rx.event
    async def publish(self):
        self.error = self.notice = ""
        self.busy = True
        yield
        try:
            session, actor = await self._actor()
            if self.dirty or not self.has_draft:
                await self._save(actor)
            view = await off_loop(theme_admin.publish, get_engine(), actor, note=self.publish_note)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            self.busy = self.confirm_publish = False
            return
        await self._apply_view(view)
        await self._load_versions(actor, session)
        # This admin's own top bar follows at once (members get it on their next page load).
        session.merchant_short_name = view.published_theme.brand_name or session.merchant_short_name
        session.logo_url = theme_admin.logo_url(view.slug, view.published_logo_id)
        self.notice = await translated(self, PUBLISHED)
        self.busy = self.confirm_publish = False
        yield rx.call_script(RELOAD_THEME_CSS)

    @rx.event
    async def discard(self):
        self.error = self.notice = ""
        try:
            _session, actor = await self._actor()
            if self.has_draft:
                await off_loop(theme_admin.discard_draft, get_engine(), actor)
            view = await off_loop(theme_admin.get_editor, get_engine(), actor)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        await self._apply_view(view)
        self.notice = await translated(self, DISCARDED)

    @rx.event
    async def revert(self, version: str):
        self.error = self.notice = ""
        ran = await run_service(self, theme_admin.revert, form_id(version) or 0, action=Action.ADMIN_EDIT_THEME)
        if ran is None:
            return
        _actor, view = ran
        await self._apply_view(view)
        self.notice = await translated(self, REVERTED, version=form_id(version))


S = ThemeEditorState


# ---------------------------------------------------------------------- the form


def _section(title: rx.Var, *children: rx.Component, test_id: str = "") -> rx.Component:
    return rx.el.section(
        rx.el.h2(title, class_name="te-section-title"), *children, class_name="card te-section", data_testid=test_id or None
    )


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


def _label_file_input(component: rx.Component, label_id: str) -> rx.Component:
    """Name the dropzone's hidden file input after the visible button (as on the profile page)."""
    stack = [component]
    while stack:
        node = stack.pop()
        if getattr(node, "tag", None) == "input":
            node.custom_attrs = {**node.custom_attrs, "aria-labelledby": label_id}
            return component
        stack.extend(getattr(node, "children", []))
    return component


def _logo_field() -> rx.Component:
    upload = rx.upload.root(
        rx.el.span(
            rx.icon("image-up", size=18, aria_hidden="true"),
            t("Upload a logo"),
            id="te-logo-label",
            class_name="btn btn-secondary te-logo-btn",
        ),
        id=LOGO_UPLOAD_ID,
        accept=ACCEPT,
        multiple=False,
        max_files=1,
        max_size=member_media.MAX_UPLOAD_BYTES,
        on_drop=S.upload_logo(rx.upload_files(upload_id=LOGO_UPLOAD_ID)),
        on_drop_rejected=S.logo_rejected,
        class_name="te-upload",
        data_testid="logo-upload",
    )
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
            _label_file_input(upload, "te-logo-label"),
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
    return rx.el.div(
        *[
            rx.el.button(
                rx.icon("sun" if key == "light" else "moon", size=16, aria_hidden="true"),
                t(label),
                type="button",
                aria_pressed=rx.cond(S.mode == key, "true", "false"),
                on_click=S.set_mode(key),
                class_name="te-seg-btn",
                data_testid=f"mode-{key}",
            )
            for key, label in MODE_LABELS.items()
        ],
        class_name="te-seg",
        role="group",
        aria_label=t("Appearance"),
    )


def _presets() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                rx.el.span(
                    rx.el.span(style={"background": p.primary}),
                    rx.el.span(style={"background": p.accent}),
                    rx.el.span(style={"background": p.background if p.mode == "light" else "#161a22"}),
                    class_name="te-preset-dots",
                    aria_hidden="true",
                ),
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


def _warnings() -> rx.Component:
    return rx.el.section(
        rx.el.h2(
            rx.icon("contrast", size=18, aria_hidden="true"),
            t("Readability"),
            class_name="te-section-title",
        ),
        rx.cond(
            S.warnings.length() > 0,
            rx.el.ul(
                rx.foreach(
                    S.warnings,
                    lambda w: rx.el.li(
                        rx.icon("triangle-alert", size=18, aria_hidden="true", class_name="te-warn-icon"),
                        rx.el.div(
                            rx.el.p(w["text"], class_name="te-warn-text"),
                            rx.el.span(
                                rx.el.span("Aa", class_name="te-sample", style={"color": w["fg"], "background": w["bg"]}),
                                rx.cond(
                                    w["suggestion"] != "",
                                    rx.fragment(
                                        rx.el.span(
                                            t("{field}: try {colour}", colour=w["suggestion"], field=w["field_label"]),
                                            class_name="small te-warn-try",
                                        ),
                                        rx.el.span(
                                            class_name="te-chip", style={"background": w["suggestion"]}, aria_hidden="true"
                                        ),
                                        rx.el.button(
                                            t("Apply"),
                                            type="button",
                                            on_click=S.apply_suggestion(w["field"], w["suggestion"]),
                                            class_name="btn btn-secondary te-small-btn",
                                            data_testid="apply-suggestion",
                                        ),
                                    ),
                                ),
                                class_name="te-warn-fix",
                            ),
                        ),
                        class_name="te-warn",
                        data_testid="contrast-warning",
                        data_pair=w["key"],
                    ),
                ),
                class_name="te-warn-list",
                role="list",
            ),
            rx.el.p(
                rx.icon("circle-check", size=18, aria_hidden="true"),
                t("Every text colour is easy to read (WCAG AA)."),
                class_name="te-ok",
                data_testid="contrast-ok",
            ),
        ),
        rx.el.details(
            rx.el.summary(t("All checks: {passed} of {total} pass", passed=S.passed_count, total=S.checks.length())),
            rx.el.table(
                rx.el.thead(rx.el.tr(rx.el.th(t("Mode")), rx.el.th(t("Pair")), rx.el.th(t("Ratio")), rx.el.th(t("Needs")))),
                rx.el.tbody(
                    rx.foreach(
                        S.checks,
                        lambda c: rx.el.tr(
                            rx.el.td(c["mode"]),
                            rx.el.td(
                                rx.el.span("Aa", class_name="te-sample", style={"color": c["fg"], "background": c["bg"]}),
                                c["label"],
                            ),
                            rx.el.td(c["ratio"], ":1", class_name=rx.cond(c["ok"] != "", "te-pass", "te-fail")),
                            rx.el.td(c["required"], ":1"),
                        ),
                    ),
                ),
                class_name="admin-table te-checks",
            ),
            class_name="te-details",
        ),
        class_name="card te-section te-readability",
        aria_live="polite",
        data_testid="contrast-panel",
    )


def editor_form() -> rx.Component:
    return rx.el.div(
        _section(
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
        _section(
            t("Colours"),
            _colour_field("primary", FIELD_LABELS["primary"], N_("Top bar, buttons, links and prices.")),
            _colour_field("accent", FIELD_LABELS["accent"], N_("Tier badge, progress bars and highlights.")),
            _colour_field("background", FIELD_LABELS["background"], N_("Behind everything in light mode.")),
            test_id="colours",
        ),
        _warnings(),
        _section(
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
        _section(
            t("Ready-made themes"),
            _presets(),
            rx.el.p(
                t("A preset changes colours, corners, font and appearance; your name and logo stay."),
                class_name="small muted te-hint",
            ),
        ),
        class_name="te-form",
    )


# ---------------------------------------------------------------------- the preview


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
            rx.icon("sun" if mode == "light" else "moon", size=15, aria_hidden="true"),
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
            rx.el.div(
                *[
                    rx.el.button(
                        t(label),
                        type="button",
                        aria_pressed=rx.cond(S.preview_screen == key, "true", "false"),
                        on_click=S.show_screen(key),
                        class_name="te-seg-btn",
                        data_testid=f"screen-{key}",
                    )
                    for key, label in SCREENS
                ],
                class_name="te-seg",
                role="group",
                aria_label=t("Preview screen"),
            ),
            class_name="te-preview-head",
        ),
        rx.el.p(t("Demo data. Members see nothing of this until you publish."), class_name="small muted te-hint"),
        rx.el.div(_phone("light", S.light_vars), _phone("dark", S.dark_vars), class_name="te-phones"),
        class_name="te-preview",
        data_testid="theme-preview",
    )


# ---------------------------------------------------------------------- status, history, page


def status_bar() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.cond(
                S.dirty,
                rx.el.span(
                    rx.icon("pencil", size=14, aria_hidden="true"),
                    t("Unsaved changes"),
                    class_name="te-status te-status-dirty",
                    data_testid="status-dirty",
                ),
                rx.cond(
                    S.has_draft,
                    rx.el.span(
                        rx.icon("file-pen", size=14, aria_hidden="true"),
                        t("Draft saved, not published"),
                        class_name="te-status te-status-draft",
                        data_testid="status-draft",
                    ),
                    rx.el.span(
                        rx.icon("circle-check", size=14, aria_hidden="true"),
                        t("Same as what members see"),
                        class_name="te-status te-status-live",
                        data_testid="status-live",
                    ),
                ),
            ),
            rx.el.span(
                t("Live version: {version}", version=S.published_version), class_name="small muted", data_testid="live-version"
            ),
            class_name="te-status-line",
        ),
        rx.el.div(
            rx.cond(
                S.dirty | S.has_draft,
                rx.el.button(
                    t("Discard changes"),
                    type="button",
                    class_name="btn btn-ghost",
                    on_click=S.discard,
                    disabled=S.busy,
                    data_testid="discard",
                ),
            ),
            rx.el.button(
                rx.icon("save", size=16, aria_hidden="true"),
                t("Save draft"),
                type="button",
                class_name="btn btn-secondary",
                on_click=S.save_draft,
                disabled=S.busy | ~S.dirty,
                data_testid="save-draft",
            ),
            rx.el.button(
                rx.icon("rocket", size=16, aria_hidden="true"),
                t("Publish"),
                type="button",
                class_name="btn",
                on_click=S.ask_publish,
                disabled=S.busy | ~(S.dirty | S.has_draft),
                data_testid="publish",
            ),
            class_name="te-actions",
        ),
        class_name="te-statusbar",
    )


def history() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.icon("history", size=18, aria_hidden="true"), t("Version history"), class_name="te-section-title"),
        rx.el.ul(
            rx.foreach(
                S.versions,
                lambda v: rx.el.li(
                    rx.el.span(
                        rx.el.span(style={"background": v["primary"]}),
                        rx.el.span(style={"background": v["accent"]}),
                        rx.el.span(style={"background": v["background"]}),
                        class_name="te-preset-dots",
                        aria_hidden="true",
                    ),
                    rx.el.div(
                        rx.el.p(
                            rx.el.strong(t("Version {version}", version=v["version"])),
                            " · ",
                            v["name"],
                            rx.el.span(v["status"], class_name=rx.cond(v["current"] != "", "te-vchip te-vchip-live", "te-vchip")),
                            class_name="te-version-title",
                        ),
                        rx.el.p(
                            v["when"],
                            rx.cond(v["author"] != "", rx.fragment(" · ", v["author"])),
                            rx.cond(v["note"] != "", rx.fragment(" · ", v["note"])),
                            class_name="small muted",
                        ),
                        class_name="te-version-text",
                    ),
                    rx.cond(
                        v["current"] == "",
                        rx.el.button(
                            rx.icon("undo-2", size=15, aria_hidden="true"),
                            t("Revert"),
                            type="button",
                            class_name="btn btn-secondary te-small-btn",
                            on_click=S.revert(v["version"]),
                            data_testid="revert",
                        ),
                    ),
                    class_name="te-version",
                    data_testid="theme-version",
                    data_version=v["version"],
                ),
            ),
            class_name="te-versions",
        ),
        rx.el.p(t("Revert makes an earlier version the draft; publish it to bring it back."), class_name="small muted te-hint"),
        class_name="card te-section",
        data_testid="theme-history",
    )


def publish_sheet() -> rx.Component:
    return confirm_sheet(
        open_=S.confirm_publish,
        title=t("Publish this theme?"),
        body=rx.el.div(
            rx.el.p(
                t("Members see it the next time they open or reload the app, with the new app icon and colours."),
                style={"margin": "0 0 12px"},
            ),
            rx.cond(
                S.warnings.length() > 0,
                rx.el.p(
                    rx.icon("triangle-alert", size=16, aria_hidden="true"),
                    t("Some text will be hard to read: see Readability."),
                    class_name="alert te-sheet-warn",
                ),
            ),
            rx.el.label(t("What changed? (optional)"), html_for="te-publish-note", class_name="te-label"),
            rx.el.input(
                id="te-publish-note",
                type="text",
                default_value="",
                key=S.keys["form"],
                on_change=S.set_publish_note,
                class_name="input",
                max_length=theme_admin.NOTE_MAX,
                data_testid="publish-note",
            ),
        ),
        confirm_label=t("Publish now"),
        busy_label=t("Publishing…"),
        cancel_label=t("Cancel"),
        on_confirm=S.publish,
        on_cancel=S.cancel_publish,
        busy=S.busy,
        test_id="confirm-publish",
    )


def theme_editor_page() -> rx.Component:
    return admin_frame(
        t("Theme"),
        "admin-theme",
        rx.cond(S.error != "", rx.el.div(S.error, class_name="alert alert-error", role="alert", data_testid="form-error")),
        rx.cond(S.notice != "", rx.el.div(S.notice, class_name="alert alert-success", role="status", data_testid="notice")),
        rx.cond(
            S.loaded,
            rx.fragment(
                status_bar(),
                rx.el.div(
                    rx.el.div(editor_form(), history(), class_name="te-main"),
                    rx.el.div(preview(), class_name="te-side"),
                    class_name="te-layout",
                ),
                publish_sheet(),
            ),
        ),
    )
