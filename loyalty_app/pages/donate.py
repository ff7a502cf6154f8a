"""Give points: /m/<slug>/donate — pick one of the program's charities and an amount (100 / 250 /
500 or another), confirm ("Give 250 points to City Food Bank?"), then a thank-you with what the
member gave in all and what the charity has received.

The choice is a plain form (radio cards and chips: no event per tap or keystroke); the server
checks it (amount, balance, today's cap) before the confirmation step. Each confirmation gets
its own idempotency key, kept server-side, so a double tap or a retried event donates once."""

from __future__ import annotations

import uuid

import reflex as rx

from loyalty_app.components.shell import back_link, error_alert, member_frame
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.i18n import localized_number, t, tn
from loyalty_app.services.member_app import activity
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import error_message, off_loop
from loyalty_app.state.session import SessionState, require_actor

CHOOSE_CHARITY = N_("Choose a charity.")
AMOUNTS = activity.DONATION_AMOUNTS


class DonateState(rx.State):
    """choose -> confirm -> thanks. Ids and the request key stay server-side."""

    loaded: bool = False
    busy: bool = False
    error: str = ""
    step: str = "choose"
    available: int = 0
    remaining_today: int = -1  # -1: the program has no daily cap
    member_total: int = 0
    charities: list[dict[str, str]] = []
    # the confirmation and the thank-you
    charity_name: str = ""
    points: int = 0
    balance_after: int = 0
    charity_total: int = 0
    charity_donors: int = 0
    _charity_id: int = 0
    _points: int = 0
    _key: str = ""

    async def _actor(self):
        session = await self.get_state(SessionState)
        if session.role != "member":
            return None
        return await require_actor(self, Action.DONATE, own=True)

    async def _refresh(self) -> None:
        actor = await self._actor()
        if actor is None:
            return
        screen = await off_loop(activity.giving_screen, get_engine(), actor)
        self.available = screen.available
        self.remaining_today = -1 if screen.remaining_today is None else screen.remaining_today
        self.member_total = screen.member_total
        self.charities = [
            {
                "id": str(c.charity_id),
                "name": c.name,
                "description": c.description,
                "total": str(c.total_points),
                "donors": str(c.donors),
                "tone": str(i % 4),
            }
            for i, c in enumerate(screen.charities)
        ]

    @rx.event
    async def load(self):
        self.step, self.error, self._key = "choose", "", ""
        try:
            await self._refresh()
        except Exception as err:  # noqa: BLE001
            session = await self.get_state(SessionState)
            if session.signed_in:
                self.error = await error_message(self, err)
            return
        self.loaded = True

    @rx.event
    async def review(self, form: dict):
        """Continue: check the choice, then ask for confirmation with a fresh request key."""
        if self.busy:
            return
        self.error = ""
        raw_charity = str(form.get("charity", "") or "").strip()
        raw_points = form.get("amount", "")
        if raw_points == "other":
            raw_points = form.get("custom", "")
        self.busy = True
        yield
        try:
            if not raw_charity.isdigit():
                raise NotFound(CHOOSE_CHARITY, code="charity_required")
            actor = await self._actor()
            if actor is None:
                self.busy = False
                return
            preview = await off_loop(activity.preview_gift, get_engine(), actor, charity_id=int(raw_charity), points=raw_points)
        except Exception as err:  # noqa: BLE001 - shown translated
            self.error = await error_message(self, err)
            self.busy = False
            return
        self._charity_id, self._points = preview.charity_id, preview.points
        self.charity_name, self.points, self.balance_after = preview.charity_name, preview.points, preview.balance_after
        self._key = uuid.uuid4().hex
        self.step = "confirm"
        self.busy = False

    @rx.event
    def back(self):
        if self.busy:
            return
        self.step, self._key, self.error = "choose", "", ""

    @rx.event
    async def confirm(self):
        """Give. Only from the confirmation step, once: the second tap of a double tap finds the
        thank-you step (or the same key, answered from the first gift)."""
        if self.step != "confirm" or self.busy or not self._key:
            return
        self.busy = True
        yield
        try:
            actor = await self._actor()
            if actor is None:
                self.busy = False
                return
            result = await off_loop(
                activity.give, get_engine(), actor, charity_id=self._charity_id, points=self._points, idempotency_key=self._key
            )
        except Exception as err:  # noqa: BLE001 - shown translated, back on the form
            self.error = await error_message(self, err)
            if isinstance(err, LoyaltyError):
                self.step, self._key = "choose", ""
            self.busy = False
            try:
                await self._refresh()
            except Exception:  # noqa: BLE001 - the error above is what matters
                pass
            return
        self.charity_name, self.points = result.charity_name, result.points
        self.available, self.member_total = result.available, result.member_total
        self.charity_total, self.charity_donors = result.charity_total, result.charity_donors
        self.step, self._key = "thanks", ""
        self.busy = False
        try:
            await self._refresh()  # today's allowance and the charities' totals
        except Exception:  # noqa: BLE001 - the gift is done; the figures refresh next time
            pass

    @rx.event
    async def again(self):
        self.step, self.error, self._key = "choose", "", ""
        await self._refresh()


# --- page ---------------------------------------------------------------------------------------

S = DonateState


def charity_option(c: rx.Var) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name="charity", value=c["id"], required=True, class_name="don-radio"),
        rx.el.span(rx.icon("heart-handshake", size=22, aria_hidden="true"), class_name=f"don-charity-icon don-tone-{c['tone']}"),
        rx.el.span(
            rx.el.span(c["name"], class_name="don-charity-name"),
            rx.cond(c["description"] != "", rx.el.span(c["description"], class_name="don-charity-desc")),
            rx.el.span(
                t("{points} points given so far", points=c["total"]),
                class_name="don-charity-total",
            ),
            class_name="don-charity-text",
        ),
        rx.el.span(rx.icon("check", size=16, aria_hidden="true"), class_name="don-check"),
        class_name="don-charity",
        data_testid="donate-charity",
    )


def amount_chips() -> rx.Component:
    chips = [
        rx.el.label(
            rx.el.input(type="radio", name="amount", value=str(n), default_checked=(n == AMOUNTS[0]), class_name="don-radio"),
            rx.el.span(localized_number(n)),
            class_name="don-chip",
            data_testid=f"donate-amount-{n}",
        )
        for n in AMOUNTS
    ]
    chips.append(
        rx.el.label(
            rx.el.input(type="radio", name="amount", value="other", class_name="don-radio", id="don-amount-other"),
            rx.el.span(t("Other")),
            class_name="don-chip",
            data_testid="donate-amount-other",
        )
    )
    return rx.el.fieldset(
        rx.el.legend(t("How many points?"), class_name="don-legend"),
        rx.el.div(*chips, class_name="don-chips"),
        rx.el.div(
            rx.el.label(t("Other amount"), html_for="f-custom", class_name="sr-only"),
            rx.el.input(
                id="f-custom",
                name="custom",
                type="text",
                inputmode="numeric",
                autocomplete="off",
                placeholder=t("Points to give"),
                class_name="input",
                max_length=9,
                data_testid="donate-custom",
            ),
            class_name="don-custom",
        ),
        class_name="don-fieldset",
    )


def allowance_line() -> rx.Component:
    return rx.el.p(
        rx.cond(
            S.remaining_today >= 0,
            t("You can give up to {points} more points today.", points=localized_number(S.remaining_today)),
            "",
        ),
        class_name="muted small don-allowance",
    )


def choose_step() -> rx.Component:
    return rx.el.form(
        rx.el.fieldset(
            rx.el.legend(t("Choose a charity"), class_name="don-legend"),
            rx.el.div(rx.foreach(S.charities, charity_option), class_name="don-charities"),
            class_name="don-fieldset",
        ),
        amount_chips(),
        allowance_line(),
        rx.el.button(
            rx.cond(S.busy, t("Checking…"), t("Continue")),
            type="submit",
            class_name="btn btn-block don-continue",
            disabled=S.busy,
            data_testid="donate-continue",
        ),
        on_submit=S.review,
        reset_on_submit=False,
        hidden=S.step != "choose",
        data_testid="donate-form",
    )


def confirm_step() -> rx.Component:
    return rx.el.section(
        rx.el.div(rx.icon("heart-handshake", size=34, aria_hidden="true"), class_name="don-big-icon"),
        rx.el.h2(
            t("Give {points} points to {charity}?", points=localized_number(S.points), charity=S.charity_name),
            class_name="don-confirm-title",
            id="donate-confirm-title",
        ),
        rx.el.p(
            t("You will have {points} points left.", points=localized_number(S.balance_after)),
            class_name="muted",
        ),
        rx.el.p(t("Donations cannot be undone."), class_name="muted small"),
        rx.el.div(
            rx.el.button(
                rx.cond(S.busy, t("Giving…"), t("Yes, give {points} points", points=localized_number(S.points))),
                type="button",
                class_name="btn btn-block",
                on_click=S.confirm,
                disabled=S.busy,
                auto_focus=True,
                data_testid="donate-confirm",
            ),
            rx.el.button(
                t("Back"),
                type="button",
                class_name="btn btn-block btn-secondary",
                on_click=S.back,
                disabled=S.busy,
                data_testid="donate-back",
            ),
            class_name="don-actions",
        ),
        class_name="card don-confirm",
        role="region",
        aria_labelledby="donate-confirm-title",
        data_testid="donate-confirm-step",
    )


def thanks_step() -> rx.Component:
    return rx.el.section(
        rx.el.div(rx.icon("heart", size=36, aria_hidden="true"), class_name="don-big-icon don-big-icon-thanks"),
        rx.el.h2(t("Thank you!"), class_name="don-confirm-title", id="donate-thanks-title"),
        rx.el.p(
            t("You gave {points} points to {charity}.", points=localized_number(S.points), charity=S.charity_name),
            class_name="don-thanks-lead",
            data_testid="donate-thanks-lead",
        ),
        rx.el.div(
            rx.el.div(
                rx.el.p(localized_number(S.member_total), class_name="don-stat-value", data_testid="donate-member-total"),
                rx.el.p(t("points you have given in all"), class_name="don-stat-label"),
                class_name="don-stat",
            ),
            rx.el.div(
                rx.el.p(localized_number(S.charity_total), class_name="don-stat-value", data_testid="donate-charity-total"),
                rx.el.p(
                    tn(
                        "points {charity} has received from {n} member",
                        "points {charity} has received from {n} members",
                        S.charity_donors,
                        charity=S.charity_name,
                    ),
                    class_name="don-stat-label",
                ),
                class_name="don-stat",
            ),
            class_name="don-stats",
        ),
        rx.el.p(
            t("You have {points} points left.", points=localized_number(S.available)),
            class_name="muted small",
        ),
        rx.el.div(
            rx.el.a(t("Back to Home"), href=f"/m/{SessionState.merchant_slug}/home", class_name="btn btn-block"),
            rx.el.button(
                t("Give again"),
                type="button",
                class_name="btn btn-block btn-secondary",
                on_click=S.again,
                data_testid="donate-again",
            ),
            class_name="don-actions",
        ),
        class_name="card don-confirm don-thanks",
        role="status",
        aria_labelledby="donate-thanks-title",
        data_testid="donate-thanks",
    )


def donate_page() -> rx.Component:
    return member_frame(
        back_link(t("Home"), "home", "back-home"),
        rx.el.div(
            rx.el.h1(t("Give points"), class_name="act-title"),
            rx.el.p(t("Turn your points into help for a good cause."), class_name="muted don-intro"),
            rx.el.p(
                rx.icon("wallet", size=16, aria_hidden="true"),
                t("You have {points} points", points=localized_number(S.available)),
                class_name="don-balance",
                data_testid="donate-balance",
            ),
            class_name="don-head",
        ),
        error_alert(S.error),
        rx.cond(
            S.loaded,
            rx.cond(
                S.charities.length() > 0,
                rx.fragment(
                    choose_step(),
                    rx.cond(S.step == "confirm", confirm_step()),
                    rx.cond(S.step == "thanks", thanks_step()),
                ),
                rx.el.div(
                    rx.el.div(rx.icon("heart-handshake", size=32, aria_hidden="true"), class_name="act-empty-icon"),
                    rx.el.p(t("No charities yet"), class_name="act-empty-title"),
                    rx.el.p(t("This program has no charities to give to right now."), class_name="muted small"),
                    class_name="act-empty",
                ),
            ),
            rx.el.div(t("Loading…"), class_name="empty", aria_busy="true"),
        ),
        active="home",
    )
