"""Sign-in page: /m/<slug>/signin."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import auth_frame, auth_switch_link, error_alert, field, submit_button
from loyalty_app.db import get_engine
from loyalty_app.i18n import t
from loyalty_app.api.session_routes import safe_next
from loyalty_app.services import accounts
from loyalty_app.state.forms import error_message, off_loop
from loyalty_app.state.session import SessionState, activate_session, home_path


class SignInState(rx.State):
    error: str = ""
    busy: bool = False

    @rx.event
    async def submit(self, form: dict):
        self.error = ""
        session = await self.get_state(SessionState)
        if not session._load_merchant():
            yield rx.redirect("/not-found")
            return
        self.busy = True
        yield
        try:
            result = await off_loop(
                accounts.sign_in,
                get_engine(),
                merchant_id=session._merchant_id,
                email=str(form.get("email", "")),
                password=str(form.get("password", "")),
                ip=self.router.session.client_ip or "",
                user_agent=(self.router.headers.user_agent or "")[:255],
            )
        except Exception as err:  # noqa: BLE001 - shown translated, unexpected ones logged
            self.error = await error_message(self, err)
            self.busy = False
            return
        self.busy = False
        requested = self.router.page.params.get("next")
        nxt = safe_next(session.merchant_slug, requested) if requested else home_path(session.merchant_slug, result.role)
        yield activate_session(result.activation_ticket, nxt)


def signin_page() -> rx.Component:
    return auth_frame(
        rx.el.h2(t("Sign in"), class_name="section-title", style={"fontSize": "1.3rem"}),
        error_alert(SignInState.error),
        rx.el.form(
            field(t("Email"), name="email", type_="email", autocomplete="email", inputmode="email"),
            field(t("Password"), name="password", type_="password", autocomplete="current-password", max_length=1024),
            submit_button(t("Sign in"), t("Signing in…"), busy=SignInState.busy, test_id="signin-submit"),
            on_submit=SignInState.submit,
            reset_on_submit=False,
        ),
        auth_switch_link(t("New here?"), t("Create an account"), "signup"),
    )
