"""The profile page's state: the member's details, language, pictures (their URLs live in the
shared MemberMediaState), marketing consent per channel with its dates, and deleting the account,
with every handler the page's cards call. Nothing here renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import reflex as rx

from loyalty_app.components.dropzone import rejected_image_message
from loyalty_app.i18n import format_datetime
from loyalty_app.services.member_app import account_closing
from loyalty_app.services.members import member_media, profile
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.settings import SUPPORTED_LANGUAGES
from loyalty_app.state.forms import off_loop, run_service, translated
from loyalty_app.state.language import LanguageState
from loyalty_app.state.member_media import MemberMediaState
from loyalty_app.state.session import SessionState, current_actor, require_actor

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

    async def _as_member(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a service as the signed-in member, on their own account (``run_service``)."""
        return await run_service(self, fn, *args, action=Action.EDIT_OWN_PROFILE, own=True, **kwargs)

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
        ran = await self._as_member(
            profile.update_profile,
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
        if await self._as_member(profile.set_language, lang) is None:
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
        ran = await self._as_member(
            member_media.set_member_image,
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
        self.media_error = await rejected_image_message(self, rejected)

    @rx.event
    async def remove_picture(self, kind: str):
        self.media_error = self.media_notice = ""
        if kind not in member_media.KINDS:
            return
        ran = await self._as_member(member_media.remove_member_image, error_var="media_error", kind=kind)
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
        ran = await self._as_member(profile.set_consent, channel, wanted, error_var="consent_error")
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
        ran = await self._as_member(
            account_closing.delete_account,
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
