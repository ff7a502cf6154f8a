"""Sign-up page: /m/<slug>/signup (optionally with ?ref=<referral code>)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import auth_frame, auth_switch_link, error_alert, field, submit_button
from loyalty_app.i18n import t
from loyalty_app.state.auth import AuthFormState


def referral_notice() -> rx.Component:
    """Opened from a friend's invite link (?ref=CODE): say so. The code itself is read from the
    URL again when the form is submitted (``AuthFormState._run``) and applied to the new account."""
    code = AuthFormState.router.url.query_parameters.get("ref", "").to(str)
    return rx.cond(
        code != "",
        rx.el.p(
            t("A friend invited you (code {code}). Your welcome points are added when you join.", code=code),
            class_name="alert alert-success",
            data_testid="referral-applied",
        ),
    )


def signup_page() -> rx.Component:
    return auth_frame(
        rx.el.h2(t("Create account"), class_name="section-title", style={"fontSize": "1.3rem"}),
        error_alert(AuthFormState.error),
        referral_notice(),
        rx.el.form(
            field(t("First name"), name="first_name", autocomplete="given-name", max_length=60),
            field(t("Email"), name="email", type_="email", autocomplete="email", inputmode="email"),
            field(
                t("Password"),
                name="password",
                type_="password",
                autocomplete="new-password",
                min_length=8,
                max_length=1024,
            ),
            rx.el.p(
                t("At least 8 characters. Long passphrases are welcome."), class_name="muted small", style={"marginTop": "-6px"}
            ),
            submit_button(t("Create account"), t("Creating your account…"), busy=AuthFormState.busy, test_id="signup-submit"),
            on_submit=AuthFormState.sign_up,
            reset_on_submit=False,
        ),
        auth_switch_link(t("Already a member?"), t("Sign in"), "signin"),
    )
