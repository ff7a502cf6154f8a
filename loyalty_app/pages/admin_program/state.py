"""ProgramState: the server side of the program editors (one per kind of rule: rewards, earning,
tiers, badges, challenges, quests, charities, surveys, segments).

It holds only the open tab's rows and the edit form's starting values (inputs are uncontrolled
and re-mounted through ``form_key``), and answers the editors' events: open a tab, new/edit,
save, retire/restore, the segment preview and the reward picture. The tabs and the messages these
handlers show live here because the state decides them.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import reflex as rx

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.i18n import format_datetime, translate
from loyalty_app.pages.admin_program.changelog import ChangelogState
from loyalty_app.pages.admin_program.moderation import ModerationState
from loyalty_app.services.members.member_media import MAX_UPLOAD_BYTES
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.program import program_console as pc
from loyalty_app.state.forms import current_language, error_message, off_loop, run_service, translated
from loyalty_app.state.session import SessionState, require_actor

# (tab, editor kind or "", lucide icon, label)
TABS = (
    ("rewards", "reward", "gift", N_("Rewards")),
    ("earning", "earning", "coins", N_("Earning")),
    ("tiers", "tier", "crown", N_("Tiers")),
    ("badges", "badge", "award", N_("Badges")),
    ("challenges", "challenge", "trophy", N_("Challenges")),
    ("quests", "quest", "zap", N_("Quests")),
    ("charities", "charity", "heart-handshake", N_("Charities")),
    ("surveys", "survey", "clipboard-list", N_("Surveys")),
    ("segments", "segment", "users", N_("Segments")),
    ("changelog", "", "scroll-text", N_("Changelog")),
    ("moderation", "", "shield-check", N_("Moderation")),
)
TAB_NAMES = frozenset(tab for tab, _k, _i, _l in TABS)
KIND_OF_TAB = {tab: kind for tab, kind, _i, _l in TABS if kind}
FIX_FIELDS = N_("Some fields need a fix: see the messages below.")
SAVED = N_("Saved and published. Members see it on “What's new”.")
NOTHING_CHANGED = N_("Saved. Nothing had changed, so nothing was published.")
RETIRED = N_("Retired. Members no longer see it.")
RESTORED = N_("Available again.")
PICTURE_READY = N_("New picture ready: it is saved with the reward.")
SEGMENT_SAVED = N_("Segment saved. Offers targeted at it follow its members from now on.")
RETIRED_LABEL = N_("{name} (retired)")
PREVIEW_COUNT = N_("Members matching now: {n}.")
# Read the open editor's fields (as the form would submit them) for the segment preview.
READ_FORM_JS = (
    "Object.fromEntries(Array.from(new FormData(document.querySelector('[data-testid=\"form-segment\"]')"
    " || undefined).entries()).filter(([k]) => !k.startsWith('pf-')))"
)
# After "Edit": bring the form into view when it is below the list (phones); on a desktop the
# form sits beside the list and is already visible. Either way it starts at its top.
SHOW_FORM_JS = (
    "setTimeout(() => { const el = document.getElementById('pc-edit'); if (!el) return; el.scrollTop = 0;"
    " const top = el.getBoundingClientRect().top; if (top < 0 || top > window.innerHeight - 120)"
    " el.scrollIntoView({behavior: 'smooth', block: 'start'}); }, 60)"
)
# After a refused save: focus the first field that needs a fix (its message is right under it).
FOCUS_BAD_FIELD_JS = (
    "setTimeout(() => document.querySelector('.pc-field-bad input, .pc-field-bad textarea, .pc-field-bad select')?.focus(), 60)"
)


def _fmt_params(lang: str, tz: str, params: dict) -> dict:
    return {k: format_datetime(lang, v, tz, "short") if isinstance(v, datetime) else v for k, v in params.items()}


def _facts(lang: str, tz: str, facts) -> str:
    parts = []
    for msgid, params in facts:
        text = params.get("text", "") if not msgid else translate(lang, msgid, **_fmt_params(lang, tz, params))
        if text:
            parts.append(str(text))
    return " · ".join(parts)


def _choices(lang: str, labels: dict[str, str]) -> list[dict[str, str]]:
    """Checkbox choices (none ticked) from a value -> msgid table."""
    return [{"value": k, "label": translate(lang, v), "checked": ""} for k, v in labels.items()]


def _ticked(options: list[dict[str, str]], chosen: str) -> list[dict[str, str]]:
    """``options`` as checkboxes, ticked where the value is in the comma-separated ``chosen``."""
    keys = {k for k in chosen.split(",") if k}
    return [{**o, "checked": "1" if o["value"] in keys else ""} for o in options]


class ProgramState(rx.State):
    """The editors. Only the open tab's rows are held; the edit form's starting values are in
    ``values`` (inputs are uncontrolled and re-mounted through ``form_key``)."""

    tab: str = "rewards"
    rows: list[dict[str, str]] = []
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    editing: str = ""  # the edited row's name; "" = a new one
    editing_status: str = ""
    editing_retirable: bool = False
    form_key: int = 0
    variant: str = ""  # the form's kind/action, to show the fields that apply
    notice: str = ""
    error: str = ""
    busy: bool = False
    loaded: bool = False
    tier_options: list[dict[str, str]] = []
    tier_choices: list[dict[str, str]] = []
    action_choices: list[dict[str, str]] = []
    store_options: list[dict[str, str]] = []
    badge_options: list[dict[str, str]] = []
    challenge_options: list[dict[str, str]] = []
    segment_options: list[dict[str, str]] = []
    rfm_choices: list[dict[str, str]] = []
    consent_choices: list[dict[str, str]] = []
    preview: str = ""
    preview_names: str = ""
    image_url: str = ""
    image_preview: str = ""
    timezone: str = ""
    currency: str = ""
    _editing_id: int = 0
    _image: bytes = b""
    _remove_image: bool = False
    _forms: dict[str, dict[str, str]] = {}

    async def _actor(self, action: Action = Action.ADMIN_MANAGE_PROGRAM):
        return await self.get_state(SessionState), await require_actor(self, action)

    def _kind(self) -> str:
        return KIND_OF_TAB.get(self.tab, "")

    def _apply_form(self, values: dict[str, str], *, name: str = "", status: str = "", row_id: int = 0, image: str = "") -> None:
        self.values = dict(values)
        self.errors = {}
        self.editing, self.editing_status, self._editing_id = name, status, row_id
        self.editing_retirable = bool(row_id) and self._kind() in pc.RETIRABLE
        self.variant = values.get("action") or values.get("kind") or ""
        self.tier_choices = _ticked(self.tier_options, values.get("tier_keys", ""))
        self.action_choices = _ticked(self.action_choices, values.get("actions", ""))
        self.rfm_choices = _ticked(self.rfm_choices, values.get("rfm_classes", ""))
        self.consent_choices = _ticked(self.consent_choices, values.get("consent_channels", ""))
        self.preview = self.preview_names = ""
        self.image_url, self.image_preview, self._image, self._remove_image = image, "", b"", False
        self.form_key += 1

    async def _load_options(self, session: SessionState, actor) -> None:
        options = await off_loop(pc.program_options, get_engine(), actor)
        lang = await current_language(self)
        self.timezone, self.currency = options.timezone, options.currency

        def label(name: str, retired: bool) -> str:
            return translate(lang, RETIRED_LABEL, name=name) if retired else name

        self.tier_options = [{"value": k, "label": label(n, k in options.retired_tiers)} for k, n in options.tiers]
        self.store_options = [{"value": str(i), "label": n} for i, n in options.stores]
        self.badge_options = [{"value": k, "label": label(n, k in options.retired_badges)} for k, n in options.badges]
        self.challenge_options = [{"value": k, "label": n} for k, n in options.challenges]
        self.segment_options = [{"value": k, "label": translate(lang, v)} for k, v in pc.SEGMENT_LABELS.items()] + [
            {"value": k, "label": n} for k, n in options.segments
        ]
        self.action_choices = _choices(lang, pc.ACTION_LABELS)
        self.rfm_choices = _choices(lang, pc.RFM_LABELS)
        self.consent_choices = _choices(lang, pc.CONSENT_LABELS)

    async def _load_rows(self) -> None:
        kind = self._kind()
        if not kind:
            return
        session, actor = await self._actor()
        rows = await off_loop(pc.LISTS[kind], get_engine(), actor)
        lang, tz = await current_language(self), self.timezone or session._merchant_tz
        status_labels = {k: translate(lang, v) for k, v in pc.STATUS_LABELS.items()}

        def image(image_id) -> str:
            return f"/m/{session.merchant_slug}/media/{image_id}" if image_id else ""

        self.rows = [
            {
                "id": str(r.row_id),
                "name": r.name,
                "status": r.status,
                "status_label": status_labels[r.status],
                "facts": _facts(lang, tz, r.facts),
                "image": image(r.image_id),
            }
            for r in rows
        ]
        self._forms = {str(r.row_id): {**r.form, "_name": r.name, "_status": r.status, "_image": image(r.image_id)} for r in rows}

    def _new_form(self) -> None:
        kind = self._kind()
        if kind:
            self._apply_form(pc.new_form(kind, tz=self.timezone or "UTC"))

    async def _reopen(self, actor, row, *, reload_options: bool) -> None:
        """After a write: reload the list (and the choices other editors offer), then edit the row again."""
        await self._load_rows()
        if reload_options:
            await self._load_options(await self.get_state(SessionState), actor)
        self.edit(str(row.row_id))

    async def _show_invalid(self, err: pc.FormInvalid) -> None:
        """Each refused field's message under its field, and the summary above the form."""
        lang = await current_language(self)
        self.errors = {name: translate(lang, e.message, **e.params) for name, e in err.errors.items()}
        self.error = translate(lang, FIX_FIELDS)

    @rx.event
    async def load(self):
        tab = str(self.router.page.params.get("tab", "") or "")
        self.tab = tab if tab in TAB_NAMES else "rewards"
        self.notice = self.error = ""
        try:
            session, actor = await self._actor()
            await self._load_options(session, actor)
            await self._load_rows()
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        self._new_form()
        self.loaded = True
        return self._side_load()

    def _side_load(self):
        if self.tab == "changelog":
            return ChangelogState.load
        if self.tab == "moderation":
            return ModerationState.load
        return None

    @rx.event
    async def select_tab(self, tab: str):
        if tab not in TAB_NAMES:
            return
        self.tab, self.notice, self.error, self.rows = tab, "", "", []
        try:
            await self._load_rows()
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
        self._new_form()
        script = rx.call_script(f"history.replaceState(null, '', '?tab=' + {json.dumps(tab)})")
        side = self._side_load()
        return [script, side] if side is not None else script

    @rx.event
    def new(self):
        self.notice = self.error = ""
        self._new_form()

    @rx.event
    def edit(self, row_id: str):
        values = self._forms.get(str(row_id))
        if values is None:
            return
        self.notice = self.error = ""
        self._apply_form(
            {k: v for k, v in values.items() if not k.startswith("_")},
            name=values["_name"],
            status=values["_status"],
            row_id=int(row_id),
            image=values["_image"],
        )
        return rx.call_script(SHOW_FORM_JS)

    @rx.event
    def set_variant(self, value: str):
        self.variant = str(value)

    @rx.event
    async def save(self, form: dict[str, Any]):
        kind = self._kind()
        if not kind or self.busy:
            return
        self.busy, self.notice, self.error = True, "", ""
        yield
        data = {str(k): v for k, v in (form or {}).items() if not str(k).startswith("pf-")}
        data["id"] = str(self._editing_id or "")  # the row being edited: server-side, re-checked by the service
        note = str(data.pop("publish_note", "") or "")
        kwargs: dict[str, Any] = {"publish_note": note}
        if kind == "reward":
            kwargs.update(image=self._image or None, remove_image=self._remove_image)
        try:
            ran = await run_service(
                self, pc.SAVES[kind], data, action=Action.ADMIN_MANAGE_PROGRAM, reraise=(pc.FormInvalid,), **kwargs
            )
        except pc.FormInvalid as err:
            await self._show_invalid(err)
            self.busy = False
            yield rx.call_script(FOCUS_BAD_FIELD_JS)
            return
        if ran is None:
            self.busy = False
            return
        actor, row = ran
        await self._reopen(actor, row, reload_options=kind == "segment")  # offers' segment choices list the new one
        saved = SEGMENT_SAVED if kind == "segment" else SAVED
        self.notice = await translated(self, saved if row.published else NOTHING_CHANGED)
        self.busy = False

    async def _set_active(self, active: bool):
        kind = self._kind()
        if not kind or not self._editing_id:
            return
        self.notice = self.error = ""
        ran = await run_service(self, pc.set_active, kind, self._editing_id, active, action=Action.ADMIN_MANAGE_PROGRAM)
        if ran is None:
            return
        actor, row = ran
        # Retiring a segment, tier or badge changes the choices other editors offer.
        await self._reopen(actor, row, reload_options=kind in ("segment", "tier", "badge"))
        self.notice = await translated(self, RESTORED if active else RETIRED)

    @rx.event
    async def retire(self):
        await self._set_active(False)

    @rx.event
    async def restore(self):
        await self._set_active(True)

    @rx.event
    def ask_preview(self):
        """Read the segment editor's current (unsaved) fields in the browser, then count."""
        return rx.call_script(READ_FORM_JS, callback=ProgramState.show_preview)

    @rx.event
    async def show_preview(self, form: dict[str, Any]):
        self.preview = self.preview_names = ""
        self.notice = self.error = ""
        fields = {str(k): v for k, v in (form or {}).items()}
        try:
            ran = await run_service(
                self, pc.preview_segment, fields, action=Action.ADMIN_MANAGE_PROGRAM, reraise=(pc.FormInvalid,)
            )
        except pc.FormInvalid as err:
            await self._show_invalid(err)
            return
        if ran is None:
            return
        _actor, result = ran
        self.errors = {}
        self.preview = await translated(self, PREVIEW_COUNT, n=result.count)
        self.preview_names = ", ".join(result.names)

    @rx.event
    async def pick_image(self, files: list[rx.UploadFile]):
        self.errors = {k: v for k, v in self.errors.items() if k != "image"}
        if not files:
            return
        data = await off_loop(files[0].file.read, MAX_UPLOAD_BYTES + 1)
        try:
            await self._actor()
            clean, preview = await off_loop(pc.prepare_reward_image, data)
        except LoyaltyError as err:
            self.errors = {**self.errors, "image": await error_message(self, err)}
            return
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        self._image, self._remove_image, self.image_preview = clean, False, preview
        self.notice = await translated(self, PICTURE_READY)

    @rx.event
    async def image_rejected(self, rejected: list[dict[str, Any]]):
        from loyalty_app.services.members.member_media import BAD_FORMAT, MAX_UPLOAD_MB, TOO_LARGE

        codes = {
            str(e.get("code", ""))
            for item in (rejected or [])
            if isinstance(item, dict)
            for e in (item.get("errors") or [])
            if isinstance(e, dict)
        }
        message = TOO_LARGE if "file-too-large" in codes else BAD_FORMAT
        self.errors = {**self.errors, "image": await translated(self, message, limit=MAX_UPLOAD_MB)}

    @rx.event
    def remove_image(self):
        self._image, self.image_preview, self.image_url, self._remove_image = b"", "", "", True
