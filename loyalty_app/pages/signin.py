"""Sign-in page: /m/<slug>/signin."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import auth_frame, auth_switch_link, error_alert, field, submit_button
from loyalty_app.i18n import t
from loyalty_app.state.auth import AuthFormState


def signin_page() -> rx.Component:
    return auth_frame(
        rx.el.h2(t("Sign in"), class_name="section-title", style={"fontSize": "1.3rem"}),
        error_alert(AuthFormState.error),
        rx.el.form(
            field(t("Email"), name="email", type_="email", autocomplete="email", inputmode="email"),
            field(t("Password"), name="password", type_="password", autocomplete="current-password", max_length=1024),
            submit_button(t("Sign in"), t("Signing in…"), busy=AuthFormState.busy, test_id="signin-submit"),
            on_submit=AuthFormState.sign_in,
            reset_on_submit=False,
        ),
        auth_switch_link(t("New here?"), t("Create an account"), "signup"),
    )
