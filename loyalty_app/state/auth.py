"""Sign-in and sign-up forms: one state, two handlers sharing every step.

Both end the same way: the account's password is checked by ``accounts.sign_in`` (throttled),
and the browser leaves the app to exchange the one-time ticket for the HttpOnly cookie.
The password is read from the submitted form only; it is never stored in a state var.
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.api.session_routes import safe_next
from loyalty_app.services.earning import referrals
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.state.forms import current_language, error_message, off_loop
from loyalty_app.state.session import SessionState, activate_session, home_path


class AuthFormState(rx.State):
    error: str = ""
    busy: bool = False

    async def _sign_in(self, session: SessionState, email: str, password: str) -> accounts.SignInResult:
        return await off_loop(
            accounts.sign_in,
            get_engine(),
            merchant_id=session._merchant_id,
            email=email,
            password=password,
            ip=self.router.session.client_ip or "",
            user_agent=(self.router.headers.user_agent or "")[:255],
        )

    async def _run(self, form: dict, *, create_account: bool):
        self.error = ""
        session = await self.get_state(SessionState)
        if not session._load_merchant():
            yield rx.redirect("/not-found")
            return
        self.busy = True
        yield
        email, password = str(form.get("email", "")), str(form.get("password", ""))
        try:
            if create_account:
                engine = get_engine()
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
                    await off_loop(referrals.register_referral_quietly, engine, session._merchant_id, account.id, referral_code)
            result = await self._sign_in(session, email, password)
        except Exception as err:  # noqa: BLE001 - shown translated; unexpected ones are logged
            self.error = await error_message(self, err)
            self.busy = False
            return
        self.busy = False
        requested = None if create_account else self.router.page.params.get("next")
        nxt = safe_next(session.merchant_slug, requested) if requested else home_path(session.merchant_slug, result.role)
        yield activate_session(result.activation_ticket, nxt)

    @rx.event
    async def sign_in(self, form: dict):
        async for event in self._run(form, create_account=False):
            yield event

    @rx.event
    async def sign_up(self, form: dict):
        async for event in self._run(form, create_account=True):
            yield event
