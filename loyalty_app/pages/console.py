"""Staff and merchant-admin pages: /m/<slug>/staff (the till, by member number) and
/m/<slug>/admin (program figures). Members never see these; staff never see the member app."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import brand_stylesheet, error_alert, field, top_bar
from loyalty_app.db import get_engine
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_number, t, translate
from loyalty_app.services import overview, till
from loyalty_app.state.forms import current_language, error_message, off_loop, translated
from loyalty_app.state.language import html_lang_sync
from loyalty_app.state.session import SessionState


class TillState(rx.State):
    """The cashier's screen. The selected store and member are kept server-side and
    re-authorized on every event; the browser only sees names and numbers."""

    stores: list[dict[str, str]] = []
    store_id: str = ""
    member_name: str = ""
    member_tier: str = ""
    member_points: int = 0
    member_number: str = ""
    result: str = ""
    error: str = ""
    _member_id: int = 0

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        actor = session.current_actor()
        if actor is None:
            return
        self.stores = [{"id": str(i), "name": n} for i, n in till.staff_stores(get_engine(), actor)]
        if self.stores and self.store_id not in {s["id"] for s in self.stores}:
            self.store_id = self.stores[0]["id"]

    @rx.event
    def choose_store(self, store_id: str):
        if store_id in {s["id"] for s in self.stores}:
            self.store_id = store_id
            self._clear_member()

    def _clear_member(self) -> None:
        self._member_id, self.member_name, self.member_tier, self.member_number = 0, "", "", ""
        self.member_points = 0

    def _store(self) -> int:
        return int(self.store_id) if self.store_id.isdigit() else 0

    @rx.event
    async def find(self, form: dict):
        self.error = self.result = ""
        self._clear_member()
        session = await self.get_state(SessionState)
        try:
            member = await off_loop(
                till.find_member, get_engine(), session.current_actor(), store_id=self._store(),
                member_number=str(form.get("member_number", "")),
            )
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        self._member_id = member.account_id
        self.member_name, self.member_tier = member.name, member.tier_name
        self.member_points, self.member_number = member.available, member.member_number

    @rx.event
    async def credit(self, form: dict):
        self.error = self.result = ""
        if not self._member_id:
            self.error = await translated(self, N_("Scan the member's card or enter their number first."))
            return
        session = await self.get_state(SessionState)
        try:
            outcome = await off_loop(
                till.credit_purchase_at_till, get_engine(), session.current_actor(), store_id=self._store(),
                member_account_id=self._member_id, amount_text=str(form.get("amount", "")),
                receipt=str(form.get("receipt", "")),
            )
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        lang = await current_language(self)
        reason = translate(lang, outcome.reason, **outcome.reason_params)
        key = N_("Already credited: +{points} points ({reason})") if outcome.replayed else N_("+{points} points ({reason})")
        self.result = translate(lang, key, points=outcome.total_points, reason=reason)
        self.member_points = outcome.balance.available


class AdminState(rx.State):
    figures: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            o = await off_loop(overview.program_overview, get_engine(), session.current_actor())
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        lang = await current_language(self)
        rows = (
            (N_("Members"), o.members),
            (N_("New members (30 days)"), o.new_members_30d),
            (N_("Stores"), o.stores),
            (N_("Outstanding points"), o.outstanding_points),
            (N_("Points earned (30 days)"), o.earned_30d),
            (N_("Points spent (30 days)"), o.spent_30d),
        )
        self.figures = [{"label": translate(lang, label), "value": format_number(lang, value)} for label, value in rows]


def _console_frame(title: rx.Var, *children: rx.Component) -> rx.Component:
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.div(
            top_bar(),
            rx.el.main(
                rx.el.h1(title, style={"fontSize": "1.4rem", "fontWeight": 900, "margin": "0 0 12px"}),
                rx.cond(SessionState.signed_in, rx.fragment(*children), rx.el.p(t("Loading…"), class_name="empty")),
                rx.el.button(t("Sign out"), type="button", class_name="btn btn-secondary btn-block", on_click=SessionState.sign_out, data_testid="signout"),
                class_name="content",
                style={"paddingBottom": "32px"},
            ),
            class_name="app-frame",
        ),
    )


def staff_page() -> rx.Component:
    return _console_frame(
        t("Till"),
        rx.el.section(
            rx.el.div(
                rx.el.label(t("Store"), html_for="f-store"),
                rx.el.select(
                    rx.foreach(TillState.stores, lambda s: rx.el.option(s["name"], value=s["id"])),
                    id="f-store",
                    class_name="select",
                    value=TillState.store_id,
                    on_change=TillState.choose_store,
                ),
                class_name="field",
            ),
            rx.el.form(
                field(t("Member number"), name="member_number", inputmode="numeric", autocomplete="off", auto_focus=True),
                rx.el.button(t("Find member"), type="submit", class_name="btn btn-block", data_testid="till-find"),
                on_submit=TillState.find,
                reset_on_submit=True,
            ),
            class_name="card",
        ),
        error_alert(TillState.error),
        rx.cond(
            TillState.member_name != "",
            rx.el.section(
                rx.el.p(TillState.member_name, style={"fontWeight": 900, "fontSize": "1.2rem", "margin": 0}, data_testid="till-member"),
                rx.el.p(
                    rx.cond(TillState.member_tier != "", TillState.member_tier + " · ", ""),
                    t("{points} points", points=TillState.member_points),
                    class_name="muted",
                    style={"margin": "2px 0 14px"},
                ),
                rx.el.form(
                    field(t("Amount"), name="amount", inputmode="decimal", autocomplete="off"),
                    field(t("Receipt number"), name="receipt", autocomplete="off", max_length=64),
                    rx.el.button(t("Credit purchase"), type="submit", class_name="btn btn-block", data_testid="till-credit"),
                    on_submit=TillState.credit,
                    reset_on_submit=True,
                ),
                class_name="card",
            ),
        ),
        rx.cond(TillState.result != "", rx.el.div(TillState.result, class_name="alert alert-success", role="status", data_testid="till-result")),
    )


def admin_page() -> rx.Component:
    return _console_frame(
        t("Program overview"),
        error_alert(AdminState.error),
        rx.el.div(
            rx.foreach(
                AdminState.figures,
                lambda f: rx.el.div(
                    rx.el.p(f["value"], style={"fontSize": "1.6rem", "fontWeight": 900, "margin": 0}),
                    rx.el.p(f["label"], class_name="small muted", style={"margin": 0}),
                    class_name="card",
                    style={"marginBottom": 0},
                ),
            ),
            class_name="grid-2",
            style={"marginBottom": "16px"},
            data_testid="admin-figures",
        ),
    )
