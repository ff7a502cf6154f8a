"""Profile page: /m/<slug>/profile — name, birthday, time zone, language, sign out."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import error_alert, field, member_frame
from loyalty_app.db import get_engine, read_session
from loyalty_app.i18n import t
from loyalty_app.models import Account
from loyalty_app.services import profile
from loyalty_app.services.permissions import Action
from loyalty_app.settings import SUPPORTED_LANGUAGES
from loyalty_app.state.forms import error_message, off_loop, translated
from loyalty_app.state.language import LanguageState
from loyalty_app.state.session import SessionState

LANGUAGE_NAMES = {"en": "English", "es": "Español", "ro": "Română", "ru": "Русский"}


class ProfileState(rx.State):
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    birthday: str = ""
    timezone: str = "UTC"
    member_number: str = ""
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            actor = session.require_actor(Action.VIEW_OWN_MEMBER_DATA, target_account_id=session._account_id or None)
        except Exception:  # noqa: BLE001 - the page guard redirects signed-out visitors
            return
        with read_session() as s:
            account = s.get(Account, actor.account_id)
        if account is None:
            return
        self.first_name, self.last_name, self.email = account.first_name, account.last_name, account.email
        self.birthday = account.birthday.isoformat() if account.birthday else ""
        self.timezone = account.timezone or "UTC"
        self.member_number = account.member_number
        self.error = self.notice = ""

    @rx.event
    async def save(self, form: dict):
        self.error = self.notice = ""
        session = await self.get_state(SessionState)
        try:
            actor = session.require_actor(Action.EDIT_OWN_PROFILE, target_account_id=session._account_id or None)
            account = await off_loop(
                profile.update_profile,
                get_engine(),
                actor,
                first_name=str(form.get("first_name", "")),
                last_name=str(form.get("last_name", "")),
                birthday=str(form.get("birthday", "")),
                timezone=str(form.get("timezone", "")),
            )
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        self.first_name, self.last_name = account.first_name, account.last_name
        session.first_name = account.first_name
        self.notice = await translated(self, "Saved")

    @rx.event
    async def choose_language(self, lang: str):
        """Change the language now, on this device, and on the account (remembered)."""
        self.error = self.notice = ""
        if lang not in SUPPORTED_LANGUAGES:
            return
        session = await self.get_state(SessionState)
        language = await self.get_state(LanguageState)
        try:
            actor = session.require_actor(Action.EDIT_OWN_PROFILE, target_account_id=session._account_id or None)
            await off_loop(profile.set_language, get_engine(), actor, lang)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        return LanguageState.choose(lang)


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


def profile_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Profile"), class_name="sr-only"),
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
                field(t("First name"), name="first_name", autocomplete="given-name", default_value=ProfileState.first_name, key=ProfileState.first_name, max_length=60),
                field(t("Last name"), name="last_name", autocomplete="family-name", required=False, default_value=ProfileState.last_name, key=ProfileState.last_name, max_length=60),
                field(t("Birthday"), name="birthday", type_="date", autocomplete="bday", required=False, default_value=ProfileState.birthday, key=ProfileState.birthday),
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
        rx.el.section(
            rx.el.p(t("Member number"), class_name="muted small", style={"margin": 0}),
            rx.el.p(ProfileState.member_number, style={"fontWeight": 800, "fontSize": "1.2rem", "margin": "2px 0 0", "letterSpacing": ".08em"}),
            rx.el.p(ProfileState.email, class_name="muted small"),
            rx.el.button(
                t("Sign out"),
                type="button",
                class_name="btn btn-secondary btn-block",
                on_click=SessionState.sign_out,
                data_testid="signout",
            ),
            class_name="card",
        ),
        active="profile",
    )
