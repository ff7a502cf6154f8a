"""Profile page: /m/<slug>/profile — photo and cockpit background, language, details,
marketing consent per channel, "Download my data", sign out and deleting the account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from loyalty_app.components.member_photo import avatar_view, photo_backdrop_props
from loyalty_app.components.shell import error_alert, field, member_frame
from loyalty_app.i18n import format_datetime, t
from loyalty_app.services.member_app import account_closing
from loyalty_app.services.members import member_media, profile
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.settings import SUPPORTED_LANGUAGES
from loyalty_app.state.forms import off_loop, run_service, translated
from loyalty_app.state.language import LanguageState
from loyalty_app.state.member_media import MemberMediaState
from loyalty_app.state.session import SessionState, current_actor, require_actor

LANGUAGE_NAMES = {"en": "English", "es": "Español", "ro": "Română", "ru": "Русский"}
CONSENT_LABELS = {
    "email": ("Email", "mail"),
    "sms": ("Text messages (SMS)", "message-square"),
    "push": ("Push notifications", "bell"),
}
UPLOAD_IDS = {"avatar": "avatar-upload", "background": "background-upload"}
# What the phone's picker offers; the server decides from the bytes anyway.
ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}
CONSENT_DATE_PATTERN = "d MMM y"  # "12 Nov 2026", in the member's language and time zone


class ProfileState(rx.State):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    birthday: str = ""
    timezone: str = "UTC"
    member_number: str = ""
    error: str = ""
    notice: str = ""
    # Pictures (the URLs live in MemberMediaState, shared with the home page).
    media_error: str = ""
    media_notice: str = ""
    # Marketing consent: given or not per channel, and the date it was given / withdrawn.
    consent_granted: dict[str, bool] = {channel: False for channel in profile.CONSENT_CHANNELS}
    consent_when: dict[str, str] = {channel: "" for channel in profile.CONSENT_CHANNELS}
    consent_error: str = ""
    # Deleting the account: a confirmation step that asks for the password again.
    delete_open: bool = False
    delete_busy: bool = False
    delete_error: str = ""
    _consent_at: dict[str, str] = {}

    @rx.var
    def initial(self) -> str:
        return (self.first_name[:1] or "?").upper()

    @rx.var
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    async def _show_consents(self, statuses: dict[str, profile.ConsentStatus]) -> None:
        lang = (await self.get_state(LanguageState)).lang
        granted, when, stamps = {}, {}, {}
        for channel, status in statuses.items():
            granted[channel] = status.granted
            when[channel] = format_datetime(lang, status.at, self.timezone, CONSENT_DATE_PATTERN) if status.at else ""
            stamps[channel] = status.at.isoformat() if status.at else ""
        self.consent_granted, self.consent_when, self._consent_at = granted, when, stamps

    async def _refresh_consent_dates(self) -> None:
        """Re-format the dates after a language change."""
        statuses = {
            channel: profile.ConsentStatus(
                channel, self.consent_granted.get(channel, False), datetime.fromisoformat(stamp) if stamp else None
            )
            for channel, stamp in {c: self._consent_at.get(c, "") for c in profile.CONSENT_CHANNELS}.items()
        }
        await self._show_consents(statuses)

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        actor = await current_actor(self)
        if actor is None or session._account_id != actor.account_id:
            return  # the page guard redirects signed-out visitors
        try:
            actor = await require_actor(self, Action.VIEW_OWN_MEMBER_DATA, target_account_id=actor.account_id)
        except Exception:  # noqa: BLE001 - staff are sent to their own page by the guard
            return
        account = await off_loop(profile.own_profile, get_engine(), actor)
        if account is None:
            return
        self.first_name, self.last_name, self.email = account.first_name, account.last_name, account.email
        self.birthday = account.birthday.isoformat() if account.birthday else ""
        self.timezone = account.timezone or "UTC"
        self.member_number = account.member_number
        self.error = self.notice = self.media_error = self.media_notice = self.consent_error = ""
        self.delete_open, self.delete_busy, self.delete_error = False, False, ""
        await self._show_consents(profile.consent_statuses(account.consents))
        media = await self.get_state(MemberMediaState)
        media._apply(session.merchant_slug, account.avatar_id, account.background_id)

    @rx.event
    async def save(self, form: dict):
        self.error = self.notice = ""
        session = await self.get_state(SessionState)
        ran = await run_service(
            self,
            profile.update_profile,
            action=Action.EDIT_OWN_PROFILE,
            own=True,
            first_name=str(form.get("first_name", "")),
            last_name=str(form.get("last_name", "")),
            birthday=str(form.get("birthday", "")),
            timezone=str(form.get("timezone", "")),
        )
        if ran is None:
            return
        _actor, account = ran
        self.first_name, self.last_name = account.first_name, account.last_name
        self.timezone = account.timezone or "UTC"
        session.first_name = account.first_name
        await self._refresh_consent_dates()
        self.notice = await translated(self, "Saved")

    @rx.event
    async def choose_language(self, lang: str):
        """Change the language now, on this device, and on the account (remembered)."""
        self.error = self.notice = ""
        if lang not in SUPPORTED_LANGUAGES:
            return
        language = await self.get_state(LanguageState)
        if await run_service(self, profile.set_language, lang, action=Action.EDIT_OWN_PROFILE, own=True) is None:
            return
        language._apply(lang)
        await self._refresh_consent_dates()
        return LanguageState.choose(lang)

    # ------------------------------------------------------------------ pictures

    async def _store_picture(self, kind: str, files: list[rx.UploadFile]):
        self.media_error = self.media_notice = ""
        if not files:
            return
        upload = files[0]
        # Read at most one byte over the limit: the service refuses it without reading more.
        data = await off_loop(upload.file.read, member_media.MAX_UPLOAD_BYTES + 1)
        session = await self.get_state(SessionState)
        ran = await run_service(
            self,
            member_media.set_member_image,
            action=Action.EDIT_OWN_PROFILE,
            own=True,
            error_var="media_error",
            kind=kind,
            data=data,
            filename=upload.name or "",
        )
        if ran is None:
            return
        _actor, blob_id = ran
        media = await self.get_state(MemberMediaState)
        url = member_media.image_url(session.merchant_slug, kind, blob_id)
        if kind == "avatar":
            media.avatar_url = url
            self.media_notice = await translated(self, "Your photo is saved.")
        else:
            media.background_url = url
            self.media_notice = await translated(self, "Your background picture is saved.")

    @rx.event
    async def upload_avatar(self, files: list[rx.UploadFile]):
        await self._store_picture("avatar", files)

    @rx.event
    async def upload_background(self, files: list[rx.UploadFile]):
        await self._store_picture("background", files)

    @rx.event
    async def upload_rejected(self, rejected: list[dict[str, Any]]):
        """The phone's picker let through a file the dropzone refused (type or size)."""
        self.media_notice = ""
        codes = {
            str(error.get("code", ""))
            for item in (rejected or [])
            if isinstance(item, dict)
            for error in (item.get("errors") or [])
            if isinstance(error, dict)
        }
        if "file-too-large" in codes:
            self.media_error = await translated(self, member_media.TOO_LARGE, limit=member_media.MAX_UPLOAD_MB)
        else:
            self.media_error = await translated(self, member_media.BAD_FORMAT)

    @rx.event
    async def remove_picture(self, kind: str):
        self.media_error = self.media_notice = ""
        if kind not in member_media.KINDS:
            return
        ran = await run_service(
            self, member_media.remove_member_image, action=Action.EDIT_OWN_PROFILE, own=True, error_var="media_error", kind=kind
        )
        if ran is None:
            return
        media = await self.get_state(MemberMediaState)
        if kind == "avatar":
            media.avatar_url = ""
            self.media_notice = await translated(self, "Your photo is removed.")
        else:
            media.background_url = ""
            self.media_notice = await translated(self, "Your background picture is removed.")

    # ------------------------------------------------------------------ consent

    @rx.event
    async def toggle_consent(self, channel: str):
        self.consent_error = ""
        if channel not in profile.CONSENT_CHANNELS:
            return
        wanted = not self.consent_granted.get(channel, False)
        ran = await run_service(
            self, profile.set_consent, channel, wanted, action=Action.EDIT_OWN_PROFILE, own=True, error_var="consent_error"
        )
        if ran is None:
            return
        _actor, statuses = ran
        await self._show_consents(statuses)

    # ------------------------------------------------------------------ deleting the account

    @rx.event
    def open_delete(self):
        self.delete_open, self.delete_error = True, ""

    @rx.event
    def close_delete(self):
        if not self.delete_busy:
            self.delete_open, self.delete_error = False, ""

    @rx.event
    async def delete_account(self, form: dict):
        if self.delete_busy:
            return
        self.delete_error = ""
        self.delete_busy = True
        yield
        ran = await run_service(
            self,
            account_closing.delete_account,
            action=Action.EDIT_OWN_PROFILE,
            own=True,
            error_var="delete_error",
            password=str(form.get("password", "")),
            ip=self.router.session.client_ip or "",
        )
        if ran is None:
            self.delete_busy = False
            return
        self.delete_busy = False
        self.delete_open = False
        media = await self.get_state(MemberMediaState)
        media._apply("", None, None)
        # Sessions are already revoked; the sign-out endpoint clears the cookie and lands on sign-in.
        yield SessionState.sign_out


# ---------------------------------------------------------------------------- components


def language_switch() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                LANGUAGE_NAMES[code],
                type="button",
                lang=code,
                aria_pressed=rx.cond(LanguageState.lang == code, "true", "false"),
                on_click=ProfileState.choose_language(code),
                data_testid=f"lang-{code}",
            )
            for code in SUPPORTED_LANGUAGES
        ],
        class_name="lang-switch",
        role="group",
        aria_label=t("Language"),
    )


def _alert(message: rx.Var, kind: str, test_id: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.el.div(
            message,
            class_name=f"alert alert-{kind}",
            role="alert" if kind == "error" else "status",
            data_testid=test_id,
        ),
    )


def _label_file_input(component: rx.Component, label_id: str) -> rx.Component:
    """Name the dropzone's (visually hidden) file input after the visible button text: Reflex
    builds that ``<input type=file>`` itself and takes no props for it."""
    stack = [component]
    while stack:
        node = stack.pop()
        if getattr(node, "tag", None) == "input":
            node.custom_attrs = {**node.custom_attrs, "aria-labelledby": label_id}
            return component
        stack.extend(getattr(node, "children", []))
    raise RuntimeError("rx.upload rendered no file input")  # pragma: no cover - Reflex changed its Upload


def _upload_button(kind: str, label: rx.Var, icon: str) -> rx.Component:
    handler = ProfileState.upload_avatar if kind == "avatar" else ProfileState.upload_background
    label_id = f"{kind}-upload-label"
    upload = rx.upload.root(
        rx.el.span(rx.icon(icon, size=18, aria_hidden="true"), label, id=label_id, class_name="btn btn-secondary pf-pick"),
        id=UPLOAD_IDS[kind],
        accept=ACCEPT,
        multiple=False,
        max_files=1,
        max_size=member_media.MAX_UPLOAD_BYTES,
        on_drop=handler(rx.upload_files(upload_id=UPLOAD_IDS[kind])),
        on_drop_rejected=ProfileState.upload_rejected,
        class_name="pf-upload",
        data_testid=f"{kind}-upload",
    )
    return _label_file_input(upload, label_id)


def profile_head() -> rx.Component:
    return rx.el.section(
        rx.el.div(**photo_backdrop_props("pf-banner"), data_testid="profile-banner"),
        rx.el.div(avatar_view(ProfileState.initial), class_name="pf-avatar-wrap"),
        rx.el.p(ProfileState.full_name, class_name="pf-name"),
        rx.el.p(t("Member number"), class_name="muted small pf-label"),
        rx.el.p(ProfileState.member_number, class_name="pf-number", data_testid="member-number"),
        class_name="card pf-head",
    )


def pictures_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Photo and background")),
        rx.el.p(t("JPEG, PNG or WebP, up to 5 MB. Only you and our staff at the till see them."), class_name="muted small"),
        _alert(ProfileState.media_error, "error", "media-error"),
        _alert(ProfileState.media_notice, "success", "media-notice"),
        rx.el.div(
            rx.el.p(t("Your photo"), class_name="pf-row-title"),
            rx.el.div(
                _upload_button("avatar", t("Choose a photo"), "camera"),
                rx.cond(
                    MemberMediaState.avatar_url != "",
                    rx.el.button(
                        t("Remove"),
                        type="button",
                        class_name="btn btn-ghost",
                        on_click=ProfileState.remove_picture("avatar"),
                        data_testid="avatar-remove",
                    ),
                ),
                class_name="pf-actions",
            ),
            class_name="pf-row",
        ),
        rx.el.div(
            rx.el.p(t("Home screen background"), class_name="pf-row-title"),
            rx.cond(
                MemberMediaState.background_url != "",
                rx.el.img(
                    src=MemberMediaState.background_url,
                    alt=t("Your background picture"),
                    class_name="pf-bg-preview",
                    data_testid="background-img",
                ),
            ),
            rx.el.div(
                _upload_button("background", t("Choose a picture"), "image"),
                rx.cond(
                    MemberMediaState.background_url != "",
                    rx.el.button(
                        t("Remove"),
                        type="button",
                        class_name="btn btn-ghost",
                        on_click=ProfileState.remove_picture("background"),
                        data_testid="background-remove",
                    ),
                ),
                class_name="pf-actions",
            ),
            class_name="pf-row",
        ),
        class_name="card",
    )


def _consent_row(channel: str) -> rx.Component:
    label, icon = CONSENT_LABELS[channel]
    granted = ProfileState.consent_granted[channel].to(bool)
    when = ProfileState.consent_when[channel].to(str)
    label_id = f"consent-{channel}-label"
    status_id = f"consent-{channel}-status"
    return rx.el.li(
        rx.el.span(rx.icon(icon, size=20, aria_hidden="true"), class_name="pf-consent-icon"),
        rx.el.div(
            rx.el.p(t(label), id=label_id, class_name="pf-consent-name"),
            rx.el.p(
                rx.cond(
                    granted,
                    t("Given on {date}", date=when),
                    rx.cond(when != "", t("Withdrawn on {date}", date=when), t("Not given")),
                ),
                id=status_id,
                class_name="muted small pf-consent-status",
                data_testid=f"consent-{channel}-status",
            ),
            class_name="pf-consent-text",
        ),
        rx.el.button(
            rx.el.span(class_name="pf-switch-knob"),
            type="button",
            role="switch",
            aria_checked=rx.cond(granted, "true", "false"),
            aria_labelledby=label_id,
            aria_describedby=status_id,
            class_name="pf-switch",
            on_click=ProfileState.toggle_consent(channel),
            data_testid=f"consent-{channel}",
        ),
        class_name="pf-consent",
    )


def consent_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Offers and news")),
        rx.el.p(
            t("Choose how {shop} may send you offers. You can change this at any time.", shop=SessionState.merchant_short_name),
            class_name="muted small",
        ),
        _alert(ProfileState.consent_error, "error", "consent-error"),
        rx.el.ul(*[_consent_row(channel) for channel in profile.CONSENT_CHANNELS], class_name="pf-consents"),
        class_name="card",
    )


def data_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Your data")),
        rx.el.p(
            t("Everything we keep about you: profile, points history, vouchers, reviews and more, in one JSON file."),
            class_name="muted small",
        ),
        rx.el.a(
            rx.icon("download", size=18, aria_hidden="true"),
            t("Download my data"),
            href="/m/" + SessionState.merchant_slug + "/me/export.json",
            # A real download, not a client-side route (rx.el.a renders React Router's Link).
            reload_document=True,
            download=True,
            class_name="btn btn-secondary btn-block",
            data_testid="export-data",
        ),
        class_name="card",
    )


def delete_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Delete my account")),
        rx.cond(
            ProfileState.delete_open,
            rx.el.form(
                rx.el.p(t("This cannot be undone."), class_name="pf-warn"),
                rx.el.ul(
                    rx.el.li(t("Your points, badges and history are gone for good.")),
                    rx.el.li(t("Vouchers you have not used yet are cancelled.")),
                    rx.el.li(t("You can join again later with the same email, as a new member.")),
                    class_name="pf-delete-list",
                ),
                field(t("Password"), name="password", type_="password", autocomplete="current-password", max_length=1024),
                _alert(ProfileState.delete_error, "error", "delete-error"),
                rx.el.div(
                    rx.el.button(
                        rx.cond(ProfileState.delete_busy, t("Deleting…"), t("Delete my account for good")),
                        type="submit",
                        class_name="btn btn-danger btn-block",
                        disabled=ProfileState.delete_busy,
                        data_testid="delete-confirm",
                    ),
                    rx.el.button(
                        t("Keep my account"),
                        type="button",
                        class_name="btn btn-ghost btn-block",
                        on_click=ProfileState.close_delete,
                        disabled=ProfileState.delete_busy,
                        data_testid="delete-cancel",
                    ),
                    class_name="pf-delete-actions",
                ),
                on_submit=ProfileState.delete_account,
                reset_on_submit=False,
                data_testid="delete-form",
            ),
            rx.fragment(
                rx.el.p(
                    t("Your points, vouchers and history will be deleted. We will ask for your password first."),
                    class_name="muted small",
                ),
                rx.el.button(
                    t("Delete my account"),
                    type="button",
                    class_name="btn btn-danger-outline btn-block",
                    on_click=ProfileState.open_delete,
                    data_testid="delete-open",
                ),
            ),
        ),
        class_name="card pf-danger",
    )


def profile_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Profile"), class_name="sr-only"),
        profile_head(),
        rx.el.section(
            rx.el.h2(t("Language")),
            language_switch(),
            class_name="card",
        ),
        rx.el.section(
            rx.el.h2(t("Your details")),
            error_alert(ProfileState.error),
            rx.cond(ProfileState.notice != "", rx.el.div(ProfileState.notice, class_name="alert alert-success", role="status")),
            rx.el.form(
                field(
                    t("First name"),
                    name="first_name",
                    autocomplete="given-name",
                    default_value=ProfileState.first_name,
                    key=ProfileState.first_name,
                    max_length=60,
                ),
                field(
                    t("Last name"),
                    name="last_name",
                    autocomplete="family-name",
                    required=False,
                    default_value=ProfileState.last_name,
                    key=ProfileState.last_name,
                    max_length=60,
                ),
                field(
                    t("Birthday"),
                    name="birthday",
                    type_="date",
                    autocomplete="bday",
                    required=False,
                    default_value=ProfileState.birthday,
                    key=ProfileState.birthday,
                ),
                rx.el.div(
                    rx.el.label(t("Time zone"), html_for="f-timezone"),
                    rx.el.select(
                        *[rx.el.option(tz, value=tz) for tz in profile.COMMON_TIMEZONES],
                        id="f-timezone",
                        name="timezone",
                        class_name="select",
                        default_value=ProfileState.timezone,
                        key=ProfileState.timezone,
                    ),
                    class_name="field",
                ),
                rx.el.button(t("Save"), type="submit", class_name="btn btn-block", data_testid="profile-save"),
                on_submit=ProfileState.save,
                reset_on_submit=False,
            ),
            class_name="card",
        ),
        pictures_card(),
        consent_card(),
        data_card(),
        rx.el.section(
            rx.el.p(t("Signed in as"), class_name="muted small", style={"margin": 0}),
            rx.el.p(ProfileState.email, class_name="pf-email"),
            rx.el.button(
                t("Sign out"),
                type="button",
                class_name="btn btn-secondary btn-block",
                on_click=SessionState.sign_out,
                data_testid="signout",
            ),
            class_name="card",
        ),
        delete_card(),
        active="profile",
    )
