"""The profile page (/m/<slug>/profile): the member's head (picture, name, number), language,
details form and sign-out, with the pictures and privacy cards between them."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.member_photo import avatar_view, photo_backdrop_props
from loyalty_app.components.shell import error_alert, field, member_frame
from loyalty_app.i18n import t
from loyalty_app.pages.profile.pictures import pictures_card
from loyalty_app.pages.profile.privacy import consent_card, data_card, delete_card
from loyalty_app.pages.profile.state import ProfileState
from loyalty_app.services.members import profile
from loyalty_app.settings import SUPPORTED_LANGUAGES
from loyalty_app.state.language import LanguageState
from loyalty_app.state.session import SessionState

LANGUAGE_NAMES = {"en": "English", "es": "Español", "ro": "Română", "ru": "Русский"}


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


def profile_head() -> rx.Component:
    return rx.el.section(
        rx.el.div(**photo_backdrop_props("pf-banner"), data_testid="profile-banner"),
        rx.el.div(avatar_view(ProfileState.initial), class_name="pf-avatar-wrap"),
        rx.el.p(ProfileState.full_name, class_name="pf-name"),
        rx.el.p(t("Member number"), class_name="muted small pf-label"),
        rx.el.p(ProfileState.member_number, class_name="pf-number", data_testid="member-number"),
        class_name="card pf-head",
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
