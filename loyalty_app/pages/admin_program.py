"""Merchant console, program editor: /m/<slug>/admin-program?tab=...

Sub-tabs: rewards, earning rules, tiers, badges, challenges, quests, charities, surveys,
segments (each a
list with status and key facts, plus a create/edit form beside it on a desktop and below it on
a phone), the published changelog (with the merchant's notes) and moderation (reviews, social
posts and contest photos). Every save goes through ``services.program.program_console``, which checks
each field and writes the rule change and its changelog entry in one transaction; refused fields
come back translated, each under its own field.

Three flat states keep events light: ``ProgramState`` (the editors: only the open tab's rows),
``ChangelogState`` and ``ModerationState``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.news import KIND_LABELS
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.i18n import format_datetime, t, translate
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
KIND_OF_TAB = {tab: kind for tab, kind, _i, _l in TABS if kind}
FIX_FIELDS = N_("Some fields need a fix: see the messages below.")
SAVED = N_("Saved and published. Members see it on “What's new”.")
NOTHING_CHANGED = N_("Saved. Nothing had changed, so nothing was published.")
RETIRED = N_("Retired. Members no longer see it.")
RESTORED = N_("Available again.")
NOTE_SAVED = N_("Note saved. Members see it under the change.")
REVIEW_HIDDEN = N_("Review hidden.")
REVIEW_SHOWN = N_("Review shown again.")
APPROVED = N_("Approved: the member got the points.")
REJECTED = N_("Rejected. The member sees your reason.")
PICTURE_READY = N_("New picture ready: it is saved with the reward.")
SEGMENT_SAVED = N_("Segment saved. Offers targeted at it follow its members from now on.")
RETIRED_LABEL = N_("{name} (retired)")
PREVIEW_COUNT = N_("Members matching now: {n}.")
# Read the open editor's fields (as the form would submit them) for the segment preview.
READ_FORM_JS = (
    "Object.fromEntries(Array.from(new FormData(document.querySelector('[data-testid=\"form-segment\"]')"
    " || undefined).entries()).filter(([k]) => !k.startsWith('pf-')))"
)
UPLOAD_ID = "reward-image"
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
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


def _fmt_params(lang: str, tz: str, params: dict) -> dict:
    return {k: format_datetime(lang, v, tz, "short") if isinstance(v, datetime) else v for k, v in params.items()}


def _facts(lang: str, tz: str, facts) -> str:
    parts = []
    for msgid, params in facts:
        text = params.get("text", "") if not msgid else translate(lang, msgid, **_fmt_params(lang, tz, params))
        if text:
            parts.append(str(text))
    return " · ".join(parts)


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
        chosen_tiers = {k for k in values.get("tier_keys", "").split(",") if k}
        chosen_actions = {k for k in values.get("actions", "").split(",") if k}
        chosen_rfm = {k for k in values.get("rfm_classes", "").split(",") if k}
        chosen_consents = {k for k in values.get("consent_channels", "").split(",") if k}
        self.tier_choices = [{**o, "checked": "1" if o["value"] in chosen_tiers else ""} for o in self.tier_options]
        self.action_choices = [{**o, "checked": "1" if o["value"] in chosen_actions else ""} for o in self.action_choices]
        self.rfm_choices = [{**o, "checked": "1" if o["value"] in chosen_rfm else ""} for o in self.rfm_choices]
        self.consent_choices = [{**o, "checked": "1" if o["value"] in chosen_consents else ""} for o in self.consent_choices]
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
        self.action_choices = [
            {"value": a, "label": translate(lang, label), "checked": ""} for a, label in pc.ACTION_LABELS.items()
        ]
        self.rfm_choices = [{"value": k, "label": translate(lang, v), "checked": ""} for k, v in pc.RFM_LABELS.items()]
        self.consent_choices = [{"value": k, "label": translate(lang, v), "checked": ""} for k, v in pc.CONSENT_LABELS.items()]

    async def _load_rows(self) -> None:
        kind = self._kind()
        if not kind:
            return
        session, actor = await self._actor()
        rows = await off_loop(pc.LISTS[kind], get_engine(), actor)
        lang, tz = await current_language(self), self.timezone or session._merchant_tz
        status_labels = {k: translate(lang, v) for k, v in pc.STATUS_LABELS.items()}
        self.rows = [
            {
                "id": str(r.row_id),
                "name": r.name,
                "status": r.status,
                "status_label": status_labels[r.status],
                "facts": _facts(lang, tz, r.facts),
                "image": f"/m/{session.merchant_slug}/media/{r.image_id}" if r.image_id else "",
            }
            for r in rows
        ]
        self._forms = {
            str(r.row_id): {
                **r.form,
                "_name": r.name,
                "_status": r.status,
                "_image": f"/m/{session.merchant_slug}/media/{r.image_id}" if r.image_id else "",
            }
            for r in rows
        }

    def _new_form(self) -> None:
        kind = self._kind()
        if kind:
            self._apply_form(pc.new_form(kind, tz=self.timezone or "UTC"))

    @rx.event
    async def load(self):
        tab = str(self.router.page.params.get("tab", "") or "")
        self.tab = tab if tab in {t_ for t_, _k, _i, _l in TABS} else "rewards"
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
        if tab not in {t_ for t_, _k, _i, _l in TABS}:
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
            lang = await current_language(self)
            self.errors = {name: translate(lang, e.message, **e.params) for name, e in err.errors.items()}
            self.error = translate(lang, FIX_FIELDS)
            self.busy = False
            yield rx.call_script(FOCUS_BAD_FIELD_JS)
            return
        if ran is None:
            self.busy = False
            return
        actor, row = ran
        await self._load_rows()
        if kind == "segment":  # the offers' segment choices list the new one
            await self._load_options(await self.get_state(SessionState), actor)
        self.edit(str(row.row_id))
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
        await self._load_rows()
        if kind in ("segment", "tier", "badge"):  # their choices in other editors change
            await self._load_options(await self.get_state(SessionState), actor)
        self.edit(str(row.row_id))
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
            lang = await current_language(self)
            self.errors = {name: translate(lang, e.message, **e.params) for name, e in err.errors.items()}
            self.error = translate(lang, FIX_FIELDS)
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


class ChangelogState(rx.State):
    entries: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        ran = await run_service(self, pc.list_changes, action=Action.ADMIN_MANAGE_PROGRAM)
        if ran is None:
            return
        _actor, rows = ran
        lang, tz = await current_language(self), session._merchant_tz
        self.entries = [
            {
                "id": str(r.change_id),
                "kind": translate(lang, KIND_LABELS.get(r.kind, KIND_LABELS["program"])),
                "title": r.title,
                "body": r.body,
                "note": r.note,
                "when": translate(
                    lang,
                    N_("From {date}") if r.upcoming else N_("Since {date}"),
                    date=format_datetime(lang, r.effective_at, tz, "short"),
                ),
                "published": translate(lang, N_("Published {date}"), date=format_datetime(lang, r.published_at, tz, "short")),
            }
            for r in rows
        ]
        self.error = ""

    @rx.event
    async def annotate(self, form: dict[str, Any]):
        self.notice = self.error = ""
        change_id, note = str(form.get("change_id", "")), str(form.get("note", "") or "")
        if await run_service(self, pc.annotate_change, change_id, note, action=Action.ADMIN_MANAGE_PROGRAM) is None:
            return
        await self.load()
        self.notice = await translated(self, NOTE_SAVED)


class ModerationState(rx.State):
    reviews: list[dict[str, str]] = []
    submissions: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            actor = await require_actor(self, Action.ADMIN_MODERATE)
            reviews = await off_loop(pc.list_reviews, get_engine(), actor)
            pending = await off_loop(pc.list_submissions, get_engine(), actor)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        lang, tz, slug = await current_language(self), session._merchant_tz, session.merchant_slug
        self.reviews = [
            {
                "id": str(r.rating_id),
                "reward": r.reward_name,
                "member": r.first_name,
                "stars": "★" * r.stars + "☆" * (5 - r.stars),
                "text": r.text,
                "when": format_datetime(lang, r.updated_at, tz, "short"),
                "hidden": "1" if r.hidden else "",
                "reason": r.hidden_reason,
            }
            for r in reviews
        ]
        self.submissions = [
            {
                "id": str(s.submission_id),
                "kind": s.kind,
                "url": s.url,
                "member": s.member,
                "photo": f"/m/{slug}/admin-media/submission/{s.submission_id}" if s.has_photo else "",
                "when": format_datetime(lang, s.created_at, tz, "short"),
            }
            for s in pending
        ]
        self.error = ""

    async def _act(self, fn, notice: str, *args) -> None:
        self.notice = self.error = ""
        if await run_service(self, fn, *args, action=Action.ADMIN_MODERATE) is None:
            return
        await self.load()
        self.notice = await translated(self, notice)

    @rx.event
    async def hide(self, form: dict[str, Any]):
        await self._act(pc.hide_review, REVIEW_HIDDEN, str(form.get("rating_id", "")), str(form.get("reason", "") or ""))

    @rx.event
    async def show(self, rating_id: str):
        await self._act(pc.show_review, REVIEW_SHOWN, str(rating_id))

    @rx.event
    async def approve(self, submission_id: str):
        await self._act(pc.review_submission, APPROVED, str(submission_id), True, "")

    @rx.event
    async def reject(self, form: dict[str, Any]):
        await self._act(
            pc.review_submission, REJECTED, str(form.get("submission_id", "")), False, str(form.get("reason", "") or "")
        )


# =============================================================================== rendering

S = ProgramState


def _error_for(name: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(name),
        rx.el.p(
            rx.icon("circle-alert", size=14, aria_hidden="true"),
            S.errors[name],
            id=f"pe-{name}",
            class_name="pc-field-error",
            data_testid=f"field-error-{name}",
        ),
    )


def _wrap(name: str, label: str, control: rx.Component, help_: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.label(t(label), html_for=f"pf-{name}"),
        control,
        rx.el.p(t(help_), class_name="pc-help") if help_ else rx.fragment(),
        _error_for(name),
        class_name=rx.cond(S.errors.contains(name), "field pc-field pc-field-bad", "field pc-field"),
    )


def _invalid(name: str) -> dict:
    return {"aria_invalid": rx.cond(S.errors.contains(name), "true", "false"), "aria_describedby": f"pe-{name}"}


def text_field(
    name: str,
    label: str,
    *,
    help_: str = "",
    max_length: int = 200,
    inputmode: str = "",
    placeholder: str = "",
    type_: str = "text",
) -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.input(
            id=f"pf-{name}",
            name=name,
            type=type_,
            default_value=S.values[name],
            class_name="input",
            max_length=max_length,
            input_mode=inputmode or None,
            placeholder=placeholder or None,
            auto_complete="off",
            **_invalid(name),
        ),
        help_,
    )


def number_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    # type=text + inputmode: the browser never blocks a value, our own translated check answers it.
    return text_field(name, label, help_=help_, max_length=12, inputmode="numeric")


def decimal_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    return text_field(name, label, help_=help_, max_length=12, inputmode="decimal")


def when_field(name: str, label: str, *, help_: str = "") -> rx.Component:
    return text_field(name, label, help_=help_, max_length=20, type_="datetime-local")


def area_field(name: str, label: str, *, help_: str = "", rows: int = 3, max_length: int = 1000) -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.textarea(
            id=f"pf-{name}",
            name=name,
            default_value=S.values[name],
            rows=str(rows),
            class_name="input pc-textarea",
            max_length=max_length,
            **_invalid(name),
        ),
        help_,
    )


def select_field(
    name: str, label: str, options: dict[str, str], *, blank: str = "", variant: bool = False, help_: str = ""
) -> rx.Component:
    items = [rx.el.option(t(blank), value="")] if blank else []
    items += [rx.el.option(t(text), value=value) for value, text in options.items()]
    return _wrap(
        name,
        label,
        rx.el.select(
            *items,
            id=f"pf-{name}",
            name=name,
            default_value=S.values[name],
            class_name="select",
            on_change=S.set_variant if variant else None,
            **_invalid(name),
        ),
        help_,
    )


def dyn_select_field(name: str, label: str, options: rx.Var, *, blank: str = "", help_: str = "") -> rx.Component:
    return _wrap(
        name,
        label,
        rx.el.select(
            rx.el.option(t(blank) if blank else "", value=""),
            rx.foreach(options, lambda o: rx.el.option(o["label"], value=o["value"])),
            id=f"pf-{name}",
            name=name,
            default_value=S.values[name],
            class_name="select",
            **_invalid(name),
        ),
        help_,
    )


def checks_field(name: str, label: str, choices: rx.Var, help_: str = "") -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(t(label)),
        rx.el.div(
            rx.foreach(
                choices,
                lambda c: rx.el.label(
                    rx.el.input(
                        type="checkbox", name=f"{name}:" + c["value"], default_checked=c["checked"] != "", class_name="pc-check"
                    ),
                    rx.el.span(c["label"]),
                    class_name="pc-check-label",
                ),
            ),
            class_name="pc-checks",
        ),
        rx.el.p(t(help_), class_name="pc-help") if help_ else rx.fragment(),
        _error_for(name),
        class_name=rx.cond(S.errors.contains(name), "pc-fieldset pc-field-bad", "pc-fieldset"),
    )


def flag_field(name: str, label: str, help_: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.label(
            rx.el.input(type="checkbox", name=name, default_checked=S.values[name] == "on", class_name="pc-check"),
            rx.el.span(t(label)),
            class_name="pc-check-label",
        ),
        rx.el.p(t(help_), class_name="pc-help") if help_ else rx.fragment(),
        class_name="field",
    )


def _pair(*children: rx.Component) -> rx.Component:
    return rx.el.div(*children, class_name="pc-pair")


def reward_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        image_field(),
        _pair(select_field("kind", N_("Kind"), pc.REWARD_KIND_LABELS), number_field("cost_points", N_("Cost in points"))),
        _pair(
            number_field("stock", N_("Stock"), help_=N_("Empty: unlimited.")),
            number_field("per_member_limit", N_("Limit per member"), help_=N_("Empty: no limit.")),
        ),
        dyn_select_field("min_tier", N_("Tier needed"), S.tier_options, blank=N_("Every member")),
        _pair(when_field("valid_from", N_("Available from")), when_field("valid_until", N_("Available until"))),
        number_field("voucher_validity_days", N_("Voucher valid for (days)"), help_=N_("Empty: the program's default.")),
        dyn_select_field(
            "segment",
            N_("Only for"),
            S.segment_options,
            blank=N_("Every member"),
            help_=N_("Members outside the segment do not see it and cannot redeem it."),
        ),
    ]


def image_field() -> rx.Component:
    chosen = rx.cond(S.image_preview != "", S.image_preview, S.image_url)
    return rx.el.div(
        rx.el.span(t("Picture"), class_name="pc-label"),
        rx.el.div(
            rx.cond(
                chosen != "",
                rx.el.img(src=chosen, alt="", class_name="pc-thumb", width="120", height="90"),
                rx.el.div(rx.icon("image", size=28, aria_hidden="true"), class_name="pc-thumb pc-thumb-empty"),
            ),
            rx.el.div(
                rx.upload.root(
                    rx.el.span(
                        rx.icon("upload", size=16, aria_hidden="true"),
                        t("Choose a picture"),
                        class_name="btn btn-secondary pc-small-btn",
                    ),
                    id=UPLOAD_ID,
                    accept=ACCEPT,
                    multiple=False,
                    max_files=1,
                    max_size=MAX_UPLOAD_BYTES,
                    on_drop=S.pick_image(rx.upload_files(upload_id=UPLOAD_ID)),
                    on_drop_rejected=S.image_rejected,
                    class_name="pc-upload",
                    data_testid="reward-image-upload",
                ),
                rx.cond(
                    chosen != "",
                    rx.el.button(
                        t("Remove picture"), type="button", class_name="btn btn-ghost pc-small-btn", on_click=S.remove_image
                    ),
                ),
                rx.el.p(t("JPEG, PNG or WebP, up to {limit} MB", limit=MAX_UPLOAD_BYTES // (1024 * 1024)), class_name="pc-help"),
                class_name="pc-upload-side",
            ),
            class_name="pc-image",
        ),
        _error_for("image"),
        class_name="field",
    )


def earning_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        select_field("action", N_("Action"), pc.ACTION_LABELS, variant=True),
        rx.cond(
            S.variant == "purchase",
            decimal_field("points_per_unit", N_("Points per currency unit"), help_=N_("Like 1 or 0.5 points per euro spent.")),
            number_field("points", N_("Points")),
        ),
        rx.cond(
            S.variant == "attend_event",
            text_field(
                "event_codes",
                N_("Event codes"),
                max_length=500,
                help_=N_("The codes you hand out at events, separated by commas."),
            ),
        ),
        _pair(
            number_field("limit_count", N_("At most (times)")),
            select_field("limit_period", N_("How often"), pc.LIMIT_PERIOD_LABELS),
        ),
        _pair(when_field("valid_from", N_("Starts")), when_field("valid_until", N_("Ends"))),
        checks_field("tier_keys", N_("Only for these tiers"), S.tier_choices, help_=N_("None ticked: every member.")),
        _pair(
            dyn_select_field("segment", N_("Only for"), S.segment_options, blank=N_("Every member")),
            dyn_select_field("store", N_("Store"), S.store_options, blank=N_("Every store")),
        ),
    ]


def tier_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        _pair(
            number_field("rank", N_("Rank"), help_=N_("0 is the first tier; higher ranks are better.")),
            number_field("threshold", N_("Points earned to reach it")),
        ),
        _pair(
            text_field("colour", N_("Colour"), max_length=7, placeholder="#1F5F46"),
            decimal_field("purchase_multiplier", N_("Purchase points multiplier"), help_=N_("×1 to ×10, like 1.5.")),
        ),
        area_field("description", N_("Description"), max_length=300),
    ]


def badge_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        area_field("description", N_("Description"), max_length=200),
        select_field("kind", N_("Earned for"), pc.BADGE_KIND_LABELS, variant=True),
        rx.match(
            S.variant,
            ("tier_reached", dyn_select_field("param_tier", N_("Tier"), S.tier_options)),
            ("action_count", select_field("param_action", N_("Action"), pc.ACTION_LABELS, blank=N_("Choose…"))),
            ("challenge", dyn_select_field("param_challenge", N_("Challenge"), S.challenge_options)),
            rx.fragment(),
        ),
        _pair(number_field("target", N_("Target")), select_field("icon", N_("Icon"), {i: i for i in pc.BADGE_ICONS})),
    ]


def challenge_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        select_field("action", N_("Action"), pc.CHALLENGE_ACTION_LABELS),
        _pair(number_field("target", N_("Target")), select_field("recurrence", N_("Repeats"), pc.RECURRENCE_LABELS)),
        _pair(when_field("starts_at", N_("Starts")), when_field("ends_at", N_("Ends"))),
        _pair(
            number_field("reward_points", N_("Bonus points")),
            dyn_select_field("reward_badge", N_("Badge awarded"), S.badge_options, blank=N_("No badge")),
        ),
        flag_field("hidden", N_("Surprise: hidden until completed")),
        dyn_select_field("segment", N_("Only for"), S.segment_options, blank=N_("Every member")),
    ]


def quest_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=80),
        area_field("description", N_("Description"), max_length=300),
        decimal_field("multiplier", N_("Points multiplier"), help_=N_("Like 2 for double points (above ×1, at most ×10).")),
        _pair(when_field("starts_at", N_("Starts")), when_field("ends_at", N_("Ends"))),
        checks_field("tier_keys", N_("Only for these tiers"), S.tier_choices, help_=N_("None ticked: every member.")),
        checks_field(
            "actions", N_("Only for these actions"), S.action_choices, help_=N_("None ticked: every action, purchases too.")
        ),
        _pair(
            dyn_select_field("segment", N_("Only for"), S.segment_options, blank=N_("Every member")),
            dyn_select_field("store", N_("Store"), S.store_options, blank=N_("Every store")),
        ),
    ]


def charity_fields() -> list[rx.Component]:
    return [text_field("name", N_("Name"), max_length=80), area_field("description", N_("Description"), max_length=300)]


def survey_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Title"), max_length=120),
        area_field("description", N_("Description"), max_length=300),
        area_field(
            "questions",
            N_("Questions"),
            rows=6,
            max_length=6000,
            help_=N_(
                "One per line: “choice: Question = Answer 1; Answer 2”, “stars: Question” or “text: Question”. "
                "Add “(optional)” at the end of a question that may stay empty."
            ),
        ),
        _pair(when_field("starts_at", N_("Starts")), when_field("ends_at", N_("Ends"))),
    ]


def segment_fields() -> list[rx.Component]:
    return [
        text_field("name", N_("Name"), max_length=60),
        area_field("description", N_("Description"), max_length=200, help_=N_("Only you see segments; members never do.")),
        rx.el.p(t("Members match when every condition you fill in holds."), class_name="pc-help"),
        _error_for("criteria"),
        checks_field("tier_keys", N_("In one of these tiers"), S.tier_choices, help_=N_("None ticked: any tier.")),
        _pair(
            number_field("visited_within_days", N_("Visited in the last … days")),
            number_field("not_visited_days", N_("No visit in the last … days")),
        ),
        select_field("spend_measure", N_("Spending counted as"), pc.SPEND_MEASURE_LABELS),  # full width: long labels
        number_field("spend_days", N_("Over the last … days")),
        _pair(decimal_field("spend_min", N_("At least")), decimal_field("spend_max", N_("At most"))),
        checks_field("rfm_classes", N_("RFM class (as in analytics)"), S.rfm_choices, help_=N_("None ticked: any class.")),
        checks_field(
            "consent_channels", N_("Agreed to be contacted by"), S.consent_choices, help_=N_("Every ticked channel is needed.")
        ),
        rx.el.div(
            rx.el.button(
                rx.icon("users", size=16, aria_hidden="true"),
                t("Count members"),
                type="button",
                class_name="btn btn-secondary pc-small-btn",
                on_click=S.ask_preview,
                data_testid="segment-preview",
            ),
            rx.cond(
                S.preview != "",
                rx.el.p(
                    S.preview, " ", S.preview_names, class_name="pc-help", role="status", data_testid="segment-preview-result"
                ),
            ),
            class_name="pc-inline",
        ),
    ]


FIELDS = {
    "reward": reward_fields,
    "earning": earning_fields,
    "tier": tier_fields,
    "badge": badge_fields,
    "challenge": challenge_fields,
    "quest": quest_fields,
    "charity": charity_fields,
    "survey": survey_fields,
    "segment": segment_fields,
}


def editor_form(kind: str) -> rx.Component:
    return rx.el.form(
        *FIELDS[kind](),
        area_field(
            "publish_note",
            N_("What changed (shown to members)"),
            rows=2,
            max_length=1000,
            help_=N_("Optional. Published on “What's new” with the change."),
        )
        if kind != "segment"
        else rx.fragment(),
        rx.el.p(t("Times are in the shop's time zone: {tz}.", tz=S.timezone), class_name="pc-help"),
        rx.el.div(
            # Segments are never published: members do not see them.
            rx.el.button(
                rx.cond(S.busy, t("Saving…"), t("Save") if kind == "segment" else t("Save and publish")),
                type="submit",
                class_name="btn",
                disabled=S.busy,
                data_testid="program-save",
            ),
            rx.cond(
                S.editing_retirable,
                rx.cond(
                    S.editing_status == "retired",
                    rx.el.button(
                        t("Make available again"),
                        type="button",
                        class_name="btn btn-secondary",
                        on_click=S.restore,
                        data_testid="program-restore",
                    ),
                    rx.el.button(
                        t("Retire"), type="button", class_name="btn btn-danger", on_click=S.retire, data_testid="program-retire"
                    ),
                ),
            ),
            class_name="pc-actions",
        ),
        key=S.form_key,
        on_submit=S.save,
        no_validate=True,
        class_name="pc-form",
        data_testid=f"form-{kind}",
    )


def row_item(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.cond(
            r["image"] != "", rx.el.img(src=r["image"], alt="", class_name="pc-row-img", width="56", height="42", loading="lazy")
        ),
        rx.el.div(
            rx.el.p(
                rx.el.span(r["name"], class_name="pc-row-name"),
                rx.el.span(r["status_label"], class_name="pc-status pc-status-" + r["status"]),
                class_name="pc-row-head",
            ),
            rx.el.p(r["facts"], class_name="pc-row-facts"),
            class_name="pc-row-text",
        ),
        rx.el.button(
            rx.icon("pencil", size=16, aria_hidden="true"),
            t("Edit"),
            type="button",
            class_name="btn btn-secondary pc-small-btn",
            on_click=S.edit(r["id"]),
            aria_label=t("Edit {name}", name=r["name"]),
        ),
        class_name="pc-row",
        data_testid="program-row",
    )


def editor(kind: str) -> rx.Component:
    return rx.el.div(
        rx.el.section(
            rx.el.div(
                rx.el.h2(t("All"), class_name="pc-h2"),
                rx.el.button(
                    rx.icon("plus", size=16, aria_hidden="true"),
                    t("New"),
                    type="button",
                    class_name="btn pc-small-btn",
                    on_click=S.new,
                    data_testid="program-new",
                ),
                class_name="pc-list-head",
            ),
            rx.cond(
                S.rows.length() > 0,
                rx.el.ul(rx.foreach(S.rows, row_item), class_name="pc-list"),
                rx.cond(S.loaded, rx.el.p(t("Nothing here yet. Create the first one with the form."), class_name="muted")),
            ),
            class_name="card pc-list-card",
        ),
        rx.el.section(
            rx.el.h2(
                rx.cond(S.editing != "", t("Edit {name}", name=S.editing), t("Create new")),
                class_name="pc-h2",
                data_testid="program-form-title",
            ),
            editor_form(kind),
            id="pc-edit",
            class_name="card pc-panel",
            aria_label=t("Edit"),
        ),
        class_name="pc-layout",
    )


def change_item(c: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.p(
            rx.el.span(c["kind"], class_name="news-kind"),
            " · ",
            rx.el.span(c["when"]),
            " · ",
            rx.el.span(c["published"]),
            class_name="pc-row-facts",
        ),
        rx.el.p(c["title"], class_name="pc-row-name"),
        rx.cond(c["body"] != "", rx.el.p(c["body"], class_name="pc-change-body")),
        rx.el.form(
            rx.el.input(type="hidden", name="change_id", value=c["id"]),
            rx.el.label(t("Note for members"), html_for="pc-note-" + c["id"], class_name="pc-label"),
            rx.el.div(
                rx.el.input(
                    id="pc-note-" + c["id"],
                    name="note",
                    default_value=c["note"],
                    key=c["id"] + ":" + c["note"],
                    class_name="input",
                    max_length=500,
                    placeholder=t("Like: extended to Sundays too"),
                ),
                rx.el.button(t("Save note"), type="submit", class_name="btn btn-secondary pc-small-btn"),
                class_name="pc-inline",
            ),
            on_submit=ChangelogState.annotate,
            class_name="pc-note-form",
        ),
        class_name="pc-change",
        data_testid="change-item",
    )


def changelog_tab() -> rx.Component:
    return rx.el.section(
        rx.el.p(
            t("Every published change, newest first, as members see it on “What's new”. Add a note to explain a change."),
            class_name="muted",
        ),
        error_alert(ChangelogState.error),
        rx.cond(ChangelogState.notice != "", rx.el.div(ChangelogState.notice, class_name="alert alert-success", role="status")),
        rx.cond(
            ChangelogState.entries.length() > 0,
            rx.el.ul(rx.foreach(ChangelogState.entries, change_item), class_name="pc-list"),
            rx.el.p(t("No changes so far."), class_name="muted"),
        ),
        class_name="card",
    )


def review_item(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.p(
            rx.el.span(r["reward"], class_name="pc-row-name"),
            " ",
            rx.el.span(r["stars"], class_name="pc-stars", aria_hidden="true"),
            class_name="pc-row-head",
        ),
        rx.el.p(r["member"], " · ", r["when"], class_name="pc-row-facts"),
        rx.el.blockquote(r["text"], class_name="pc-quote"),
        rx.cond(
            r["hidden"] != "",
            rx.el.div(
                rx.el.p(
                    rx.icon("eye-off", size=14, aria_hidden="true"),
                    t("Hidden: {reason}", reason=r["reason"]),
                    class_name="pc-hidden-note",
                ),
                rx.el.button(
                    t("Show again"),
                    type="button",
                    class_name="btn btn-secondary pc-small-btn",
                    on_click=ModerationState.show(r["id"]),
                ),
                class_name="pc-inline",
            ),
            rx.el.form(
                rx.el.input(type="hidden", name="rating_id", value=r["id"]),
                rx.el.label(t("Reason to hide"), html_for="pc-hide-" + r["id"], class_name="sr-only"),
                rx.el.div(
                    rx.el.input(
                        id="pc-hide-" + r["id"],
                        name="reason",
                        class_name="input",
                        max_length=300,
                        placeholder=t("Reason to hide"),
                    ),
                    rx.el.button(t("Hide"), type="submit", class_name="btn btn-danger pc-small-btn"),
                    class_name="pc-inline",
                ),
                on_submit=ModerationState.hide,
                reset_on_submit=True,
            ),
        ),
        class_name="pc-change",
        data_testid="review-item",
    )


def submission_item(s: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.p(
            rx.el.span(rx.cond(s["kind"] == "photo", t("Contest photo"), t("Social post")), class_name="pc-row-name"),
            class_name="pc-row-head",
        ),
        rx.el.p(s["member"], " · ", s["when"], class_name="pc-row-facts"),
        rx.cond(
            s["photo"] != "",
            rx.el.a(
                rx.el.img(src=s["photo"], alt=t("Contest photo"), class_name="pc-photo", loading="lazy"),
                href=s["photo"],
                target="_blank",
                rel="noopener",
            ),
        ),
        rx.cond(
            s["url"] != "",
            rx.el.p(rx.el.a(s["url"], href=s["url"], target="_blank", rel="noopener noreferrer nofollow"), class_name="pc-url"),
        ),
        rx.el.div(
            rx.el.button(
                rx.icon("check", size=16, aria_hidden="true"),
                t("Approve"),
                type="button",
                class_name="btn pc-small-btn",
                on_click=ModerationState.approve(s["id"]),
            ),
            rx.el.form(
                rx.el.input(type="hidden", name="submission_id", value=s["id"]),
                rx.el.label(t("Reason to reject"), html_for="pc-reject-" + s["id"], class_name="sr-only"),
                rx.el.input(
                    id="pc-reject-" + s["id"],
                    name="reason",
                    class_name="input",
                    max_length=300,
                    placeholder=t("Reason to reject"),
                ),
                rx.el.button(t("Reject"), type="submit", class_name="btn btn-danger pc-small-btn"),
                on_submit=ModerationState.reject,
                reset_on_submit=True,
                class_name="pc-inline",
            ),
            class_name="pc-mod-actions",
        ),
        class_name="pc-change",
        data_testid="submission-item",
    )


def moderation_tab() -> rx.Component:
    return rx.fragment(
        error_alert(ModerationState.error),
        rx.cond(ModerationState.notice != "", rx.el.div(ModerationState.notice, class_name="alert alert-success", role="status")),
        rx.el.div(
            rx.el.section(
                rx.el.h2(t("Posts and photos to review"), class_name="pc-h2"),
                rx.cond(
                    ModerationState.submissions.length() > 0,
                    rx.el.ul(rx.foreach(ModerationState.submissions, submission_item), class_name="pc-list"),
                    rx.el.p(t("Nothing waiting for review."), class_name="muted"),
                ),
                class_name="card",
            ),
            rx.el.section(
                rx.el.h2(t("Reviews"), class_name="pc-h2"),
                rx.cond(
                    ModerationState.reviews.length() > 0,
                    rx.el.ul(rx.foreach(ModerationState.reviews, review_item), class_name="pc-list"),
                    rx.el.p(t("No written reviews yet."), class_name="muted"),
                ),
                class_name="card",
            ),
            class_name="admin-grid-2",
        ),
    )


def sub_tabs() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                rx.icon(icon, size=16, aria_hidden="true"),
                rx.el.span(t(label)),
                type="button",
                role="tab",
                class_name="pc-tab",
                aria_selected=rx.cond(S.tab == tab, "true", "false"),
                on_click=S.select_tab(tab),
                data_testid=f"program-tab-{tab}",
            )
            for tab, _kind, icon, label in TABS
        ],
        role="tablist",
        aria_label=t("Program"),
        class_name="pc-tabs",
    )


def program_page() -> rx.Component:
    return admin_frame(
        t("Program"),
        "admin-program",
        sub_tabs(),
        rx.cond(S.error != "", rx.el.div(S.error, class_name="alert alert-error", role="alert", data_testid="form-error")),
        rx.cond(
            S.notice != "", rx.el.div(S.notice, class_name="alert alert-success", role="status", data_testid="program-notice")
        ),
        rx.match(
            S.tab,
            *[(tab, editor(kind)) for tab, kind, _i, _l in TABS if kind],
            ("changelog", changelog_tab()),
            ("moderation", moderation_tab()),
            rx.fragment(),
        ),
    )
