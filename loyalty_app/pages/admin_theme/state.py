"""The theme editor's state: the draft being edited, what is derived from it (the preview's CSS
variables, the contrast checks), the version history, and every handler the editor's form, preview
and publish bar call (services/program/theme_admin.py does the saving). The components that render
it live beside it in this package; nothing here renders."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.dropzone import rejected_image_message
from loyalty_app.domain.errors import N_
from loyalty_app.domain.theme import (
    BAD_COLOUR,
    BRAND_NAME_MAX,
    BRAND_NAME_TOO_LONG,
    COLOUR_FIELDS,
    FONTS,
    PRESETS_BY_KEY,
    RADIUS_MAX,
    RADIUS_MIN,
    Theme,
    clean_brand_name,
    normalize_hex,
)
from loyalty_app.domain.theme_contrast import MODE_LABELS, check_theme, suggest_fix
from loyalty_app.i18n import format_datetime, translate
from loyalty_app.services.members import member_media
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.program import theme_admin
from loyalty_app.state.forms import current_language, error_message, form_id, off_loop, run_service, translated
from loyalty_app.state.session import SessionState, require_actor

SCREENS = (("home", N_("Home")), ("rewards", N_("Rewards")), ("card", N_("Card")))
FIELD_LABELS = {"primary": N_("Primary colour"), "accent": N_("Accent colour"), "background": N_("Page background")}
STATUS_LABELS = {"published": N_("Live"), "archived": N_("Earlier")}
WARNING_LINE = N_("{pair}: {ratio}:1, needs {required}:1")
SAVED = N_("Draft saved. Members still see the published theme.")
PUBLISHED = N_("Published. Members see the new theme now.")
DISCARDED = N_("Changes discarded. The editor shows the published theme again.")
REVERTED = N_("Version {version} is now the draft. Publish it to make it live again.")
LOGO_SAVED = N_("Logo uploaded to the draft. The app icons are made from it when you publish.")
# After a publish, this tab's console picks up the new theme.css at once (members: next page load).
RELOAD_THEME_CSS = (
    'document.querySelectorAll(\'link[rel="stylesheet"][href*="theme.css"]\').forEach(function (l) {'
    " l.href = new URL('theme.css?v=' + Date.now(), window.location.href).href; })"
)


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

    def _clear_error(self, field: str) -> None:
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != field}

    async def _set_colour(self, field: str, value: str, *remount: str) -> None:
        """Put a valid ``value`` in colour ``field`` (its hex text too) and remount the ``remount``
        inputs; anything else is ignored."""
        colour = normalize_hex(value)
        if field not in COLOUR_FIELDS or colour is None:
            return
        setattr(self, field, colour)
        self.hex_text = {**self.hex_text, field: colour}
        self._clear_error(field)
        self._bump(*remount)
        await self._recompute()

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
        self._clear_error("brand_name")
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
        self._clear_error(field)
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
        await self._set_colour(field, value, f"{field}-text")

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
        await self._set_colour(field, colour, f"{field}-text", f"{field}-picker")

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
        self.error = await rejected_image_message(self, rejected)

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
