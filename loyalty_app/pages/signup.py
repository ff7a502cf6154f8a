"""Sign-up page: /m/<slug>/signup (optionally with ?ref=<referral code>)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import auth_frame, auth_switch_link, error_alert, field, submit_button
from loyalty_app.db import get_engine
from loyalty_app.i18n import t
from loyalty_app.services import accounts
from loyalty_app.state.forms import current_language, error_message, off_loop
from loyalty_app.state.session import SessionState, activate_session


class SignUpState(rx.State):
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
        engine = get_engine()
        email = str(form.get("email", ""))
        password = str(form.get("password", ""))
        try:
            account = await off_loop(
                accounts.sign_up_member,
                engine,
                merchant_id=session._merchant_id,
                email=email,
                password=password,
                first_name=str(form.get("first_name", "")),
                language=await current_language(self),
            )
            referral_code = str(self.router.page.params.get("ref", "") or "").strip()
            if referral_code:
                await off_loop(_register_referral, engine, session._merchant_id, account.id, referral_code)
            result = await off_loop(
                accounts.sign_in,
                engine,
                merchant_id=session._merchant_id,
                email=email,
                password=password,
                ip=self.router.session.client_ip or "",
                user_agent=(self.router.headers.user_agent or "")[:255],
            )
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            self.busy = False
            return
        self.busy = False
        nxt = f"/m/{session.merchant_slug}/home"
        yield activate_session(result.activation_ticket, nxt)


def _register_referral(engine, merchant_id: int, account_id: int, code: str) -> None:
    """A bad referral code must not block the sign-up itself: it is refused and logged."""
    from loyalty_app.domain.errors import LoyaltyError
    from loyalty_app.services import referrals

    try:
        referrals.register_referral(engine, merchant_id=merchant_id, referee_account_id=account_id, code=code)
    except LoyaltyError:
        pass


def signup_page() -> rx.Component:
    return auth_frame(
        rx.el.h2(t("Create account"), class_name="section-title", style={"fontSize": "1.3rem"}),
        error_alert(SignUpState.error),
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
            rx.el.p(t("At least 8 characters. Long passphrases are welcome."), class_name="muted small", style={"marginTop": "-6px"}),
            submit_button(t("Create account"), t("Creating your account…"), busy=SignUpState.busy, test_id="signup-submit"),
            on_submit=SignUpState.submit,
            reset_on_submit=False,
        ),
        auth_switch_link(t("Already a member?"), t("Sign in"), "signin"),
    )
