"""Till page: /m/<slug>/staff. Staff pick their store and scan: a member's live card (camera, a
USB/Bluetooth scanner typing into the focused field, or the member number typed by hand) or a
voucher. Then they credit a purchase (undo for a few minutes) or hand over the reward.
Members never see it."""

from __future__ import annotations

import time

import reflex as rx

from loyalty_app.components.console import console_frame
from loyalty_app.components.qr_scanner import qr_scanner
from loyalty_app.components.shell import error_alert, field
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_date, format_time, t, translate
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.store import till
from loyalty_app.state.forms import current_language, run_service, translated
from loyalty_app.state.live import POINTS_TAKEN_BACK, VOUCHER_USED, _Reason, earn_messages, push_to_member
from loyalty_app.state.session import SessionState, current_actor

PURCHASE_PART = N_("purchase +{points}: {reason}")
BONUS_PART = N_("challenge “{challenge}” +{points}")
TAKEN_BACK_PART = N_("challenge “{challenge}” {points}")

CAMERA_REPEAT_SECONDS = 4.0  # a camera reads the same code many times a second


# After a credit or a redemption, and when a scan arrived in the credit form: the next thing the
# cashier (or the scanner) types lands in the scan field.
NEXT_CUSTOMER_FOCUS = rx.call_script("document.getElementById('f-code')?.focus()")


class TillState(rx.State):
    """The cashier's screen. The selected store, member, voucher and last credit are kept
    server-side and re-authorized on every event; the browser only sees names and numbers."""

    stores: list[dict[str, str]] = []
    store_id: str = ""
    # The till's store, remembered on this device (a tablet stays in its shop); only ever used
    # when it is one of the stores the signed-in person may act for, and re-checked on each action.
    remembered_store: str = rx.LocalStorage("", name="loyalty-till-store")
    member_name: str = ""
    member_tier: str = ""
    member_points: int = 0
    member_number: str = ""
    member_avatar: str = ""
    voucher_reward: str = ""
    voucher_member: str = ""
    voucher_expires: str = ""
    result: str = ""
    error: str = ""
    undo_until: str = ""  # "until 14:05" while the last credit can be undone
    camera_on: bool = False
    served: bool = False  # the member on screen was just credited: shown, no longer creditable
    _member_id: int = 0
    _voucher_code: str = ""
    _undo_entry_id: int = 0
    _last_camera_text: str = ""
    _last_camera_at: float = 0.0

    @rx.event
    async def load(self):
        actor = await current_actor(self)
        if actor is None:
            return
        self.stores = [{"id": str(i), "name": n} for i, n in till.staff_stores(get_engine(), actor)]
        allowed = {s["id"] for s in self.stores}
        if self.remembered_store in allowed:
            self.store_id = self.remembered_store
        elif self.stores and self.store_id not in allowed:
            self.store_id = self.stores[0]["id"]

    @rx.event
    def choose_store(self, store_id: str):
        if store_id in {s["id"] for s in self.stores}:
            self.store_id = self.remembered_store = store_id
            self._clear()
            self.result = self.error = ""

    @rx.event
    def toggle_camera(self):
        self.camera_on = not self.camera_on

    @rx.event
    def clear(self):
        self._clear()
        self.result = self.error = ""

    def _clear(self) -> None:
        self.served = False
        self._member_id, self.member_name, self.member_tier, self.member_number = 0, "", "", ""
        self.member_points, self.member_avatar = 0, ""
        self._voucher_code, self.voucher_reward, self.voucher_member, self.voucher_expires = "", "", "", ""
        self._undo_entry_id, self.undo_until = 0, ""

    def _store(self) -> int:
        return int(self.store_id) if self.store_id.isdigit() else 0

    @rx.event
    async def scan(self, form: dict):
        """The scan field: a USB/Bluetooth scanner types the code and presses Enter, or the
        cashier types the member number or a voucher code."""
        await self._scan_text(str(form.get("code", "")))

    @rx.event
    async def camera_scan(self, codes: list[dict]):
        """Codes read by the camera scanner component (``rawValue`` of each)."""
        text = next((str(c.get("rawValue", "")) for c in codes or [] if isinstance(c, dict) and c.get("rawValue")), "")
        now = time.monotonic()
        if not text or (text == self._last_camera_text and now - self._last_camera_at < CAMERA_REPEAT_SECONDS):
            return
        self._last_camera_text, self._last_camera_at = text, now
        await self._scan_text(text)

    async def _scan_text(self, text: str) -> None:
        self.error = self.result = ""
        self._clear()
        ran = await run_service(self, till.scan, store_id=self._store(), text=text)
        if ran is None:
            return
        _actor, found = ran
        lang = await current_language(self)
        if isinstance(found, till.VoucherAtTill):
            self._voucher_code = found.code
            self.voucher_reward, self.voucher_member = found.reward_name, found.member_name
            self.voucher_expires = format_date(lang, found.expires_at)
            return
        self._member_id = found.account_id
        self.member_name, self.member_tier = found.name, found.tier_name
        self.member_points, self.member_number = found.available, found.member_number
        self.member_avatar = found.avatar_src

    @rx.event
    async def credit(self, form: dict):
        self.error = self.result = ""
        scanned = till.scanned_into_credit_form(str(form.get("amount", "")), str(form.get("receipt", "")))
        if scanned:  # a scanner typed into Amount or Receipt: that is the next customer
            await self._scan_text(scanned)
            return NEXT_CUSTOMER_FOCUS
        if not self._member_id:
            self.error = await translated(self, N_("Scan the member's card or enter their number first."))
            return
        session = await self.get_state(SessionState)
        ran = await run_service(
            self,
            till.credit_purchase_at_till,
            store_id=self._store(),
            member_account_id=self._member_id,
            amount_text=str(form.get("amount", "")),
            receipt=str(form.get("receipt", "")),
        )
        if ran is None:
            return
        actor, done = ran
        outcome = done.outcome
        lang = await current_language(self)
        reason = translate(lang, outcome.reason, **outcome.reason_params)
        if outcome.bonus_parts:  # each part honestly: the purchase with its multipliers, then each bonus
            parts = "; ".join(
                [translate(lang, PURCHASE_PART, points=outcome.points, reason=reason)]
                + [translate(lang, BONUS_PART, points=p, challenge=n) for n, p in outcome.bonus_parts]
            )
            reason = parts
        key = N_("Already credited: +{points} points ({reason})") if outcome.replayed else N_("+{points} points ({reason})")
        self.result = translate(lang, key, points=outcome.total_points, reason=reason)
        self.member_points = outcome.balance.available
        self._undo_entry_id = (done.entry_id or 0) if done.undo_until else 0
        self.undo_until = format_time(lang, done.undo_until, session._merchant_tz) if done.undo_until else ""
        member_id, self._member_id, self.served = self._member_id, 0, True  # the next credit needs a new scan
        if not outcome.replayed and actor is not None:
            messages, celebrate = earn_messages(outcome)
            push_to_member(actor.merchant_id, member_id, messages, celebrate=celebrate)
        return NEXT_CUSTOMER_FOCUS

    @rx.event
    async def undo(self):
        self.error = ""
        if not self._undo_entry_id:
            return
        ran = await run_service(self, till.undo_credit, store_id=self._store(), entry_id=self._undo_entry_id)
        if ran is None:
            return
        actor, undone = ran
        self._undo_entry_id, self.undo_until = 0, ""
        self.member_points = undone.balance.available
        if undone.bonus_parts:
            lang = await current_language(self)
            parts = "; ".join(
                [translate(lang, N_("purchase {points}"), points=undone.purchase_points)]
                + [translate(lang, TAKEN_BACK_PART, points=p, challenge=n) for n, p in undone.bonus_parts]
            )
            self.result = translate(
                lang, N_("Credit undone: {points} points taken back ({parts})."), points=undone.points, parts=parts
            )
        else:
            self.result = await translated(self, N_("Credit undone: {points} points taken back."), points=undone.points)
        if actor is not None and not undone.replayed:  # an undo pressed twice tells the member once
            push_to_member(
                actor.merchant_id,
                undone.member_account_id,
                [(POINTS_TAKEN_BACK, {"points": undone.points, "reason": _Reason(till.UNDO_REASON, {})})],
            )

    @rx.event
    async def redeem_voucher(self):
        self.error = self.result = ""
        if not self._voucher_code:
            return
        ran = await run_service(self, till.redeem_voucher_at_till, store_id=self._store(), code=self._voucher_code)
        if ran is None:
            return
        actor, used = ran
        self._clear()
        self.result = await translated(self, N_("Voucher redeemed: hand over {reward}."), reward=used.reward_name)
        if actor is not None:
            push_to_member(actor.merchant_id, used.account_id, [(VOUCHER_USED, {"reward": used.reward_name})])
        return NEXT_CUSTOMER_FOCUS


def _store_picker() -> rx.Component:
    return rx.el.div(
        rx.el.label(t("Store"), html_for="f-store"),
        rx.el.select(
            rx.foreach(TillState.stores, lambda s: rx.el.option(s["name"], value=s["id"])),
            id="f-store",
            class_name="select",
            value=TillState.store_id,
            on_change=TillState.choose_store,
        ),
        class_name="field",
    )


def _scan_card() -> rx.Component:
    return rx.el.section(
        _store_picker(),
        rx.el.form(
            field(
                t("Scan or type a member number or voucher code"),
                name="code",
                autocomplete="off",
                auto_focus=True,
                enter_key_hint="go",
                autocapitalize="characters",
                spell_check=False,
                data_testid="till-code",
            ),
            rx.el.button(t("Find"), type="submit", class_name="btn btn-block", data_testid="till-find"),
            on_submit=TillState.scan,
            reset_on_submit=True,
        ),
        rx.el.button(
            rx.cond(TillState.camera_on, t("Close camera"), t("Scan with camera")),
            type="button",
            class_name="btn btn-secondary btn-block",
            style={"marginTop": "10px"},
            on_click=TillState.toggle_camera,
            aria_pressed=TillState.camera_on,
            data_testid="till-camera-toggle",
        ),
        rx.cond(TillState.camera_on, rx.el.div(qr_scanner(on_scan=TillState.camera_scan), class_name="till-camera")),
        class_name="card",
    )


def _member_card() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.cond(
                TillState.member_avatar != "",
                rx.el.img(
                    src=TillState.member_avatar,
                    alt="",
                    class_name="till-avatar",
                    width="52",
                    height="52",
                    data_testid="till-avatar",
                ),
                rx.el.div(TillState.member_name.to(str)[:1], class_name="till-avatar", aria_hidden="true"),
            ),
            rx.el.div(
                rx.el.p(TillState.member_name, class_name="till-name", data_testid="till-member"),
                rx.el.p(
                    rx.cond(TillState.member_tier != "", TillState.member_tier + " · ", ""),
                    t("{points} points", points=TillState.member_points),
                    class_name="muted",
                    style={"margin": 0},
                    data_testid="till-member-points",
                ),
            ),
            class_name="till-member-head",
        ),
        rx.cond(
            TillState.served,
            rx.el.div(
                rx.el.p(t("Scan the next customer's card."), class_name="muted", data_testid="till-served"),
                rx.el.button(
                    t("Next customer"),
                    type="button",
                    class_name="btn btn-secondary btn-block",
                    on_click=[TillState.clear, NEXT_CUSTOMER_FOCUS],
                    data_testid="till-next",
                ),
            ),
            rx.el.form(
                # Not `required`: a scanner's Enter in Amount must reach the server (which checks
                # both fields and says what is missing), so a scanned card starts the next customer.
                field(
                    t("Amount"), name="amount", inputmode="decimal", autocomplete="off", required=False, data_testid="till-amount"
                ),
                field(
                    t("Receipt number"),
                    name="receipt",
                    autocomplete="off",
                    max_length=64,
                    required=False,
                    data_testid="till-receipt",
                ),
                rx.el.button(t("Credit purchase"), type="submit", class_name="btn btn-block", data_testid="till-credit"),
                on_submit=TillState.credit,
                reset_on_submit=True,
            ),
        ),
        class_name="card",
    )


def _voucher_card() -> rx.Component:
    return rx.el.section(
        rx.el.p(t("Voucher"), class_name="small muted", style={"margin": 0}),
        rx.el.p(TillState.voucher_reward, class_name="till-name", data_testid="till-voucher-reward"),
        rx.el.p(TillState.voucher_member, " · ", t("valid until {date}", date=TillState.voucher_expires), class_name="muted"),
        rx.el.button(
            t("Redeem voucher"),
            type="button",
            class_name="btn btn-block",
            on_click=TillState.redeem_voucher,
            data_testid="till-redeem-voucher",
        ),
        rx.el.button(
            t("Cancel"),
            type="button",
            class_name="btn btn-secondary btn-block",
            style={"marginTop": "8px"},
            on_click=TillState.clear,
        ),
        class_name="card",
    )


def staff_page() -> rx.Component:
    return console_frame(
        t("Till"),
        _scan_card(),
        error_alert(TillState.error),
        rx.cond(
            TillState.result != "",
            rx.el.div(
                rx.el.span(TillState.result, data_testid="till-result"),
                rx.cond(
                    TillState.undo_until != "",
                    rx.el.button(
                        t("Undo (until {time})", time=TillState.undo_until),
                        type="button",
                        class_name="btn btn-secondary till-undo",
                        on_click=TillState.undo,
                        data_testid="till-undo",
                    ),
                ),
                class_name="alert alert-success",
                role="status",
            ),
        ),
        rx.cond(TillState.voucher_reward != "", _voucher_card()),
        rx.cond(TillState.member_name != "", _member_card()),
    )
