"""Rewards tab: /m/<slug>/rewards — the whole catalog as this member sees it: picture, price,
kind, tier lock and a clear "you can get this now" mark; one segmented control filters and
sorts (can afford / price / top rated / newest); every tile opens the reward's page."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.rewards import item_row, reward_tile
from loyalty_app.components.shell import member_frame, segmented
from loyalty_app.domain.clock import utcnow
from loyalty_app.i18n import localized_number, t, tn
from loyalty_app.services.catalog import catalog_view
from loyalty_app.state.forms import current_language, read_own
from loyalty_app.state.session import SessionState

# The segmented control: view key -> (filter, sort) of services.catalog.catalog_view.
VIEWS = {
    "affordable": ("affordable", "cost"),
    "cost": ("all", "cost"),
    "rating": ("all", "rating"),
    "newest": ("all", "newest"),
}
DEFAULT_VIEW = "cost"


class RewardsState(rx.State):
    """The rewards tab: the catalog for this member, in the chosen view."""

    loaded: bool = False
    busy: bool = False
    error: str = ""
    view: str = DEFAULT_VIEW
    available: int = 0
    total: int = 0
    active_vouchers: int = 0
    items: list[dict[str, str]] = []

    async def _fetch(self):
        filter_, sort = VIEWS.get(self.view, VIEWS[DEFAULT_VIEW])
        loaded = await read_own(self, catalog_view.member_catalog, filter=filter_, sort=sort)
        if loaded is None:
            return
        session, result = loaded
        lang = await current_language(self)
        now = utcnow()
        tz = result.timezone
        self.available = result.available_points
        self.total = result.total
        self.active_vouchers = result.active_vouchers
        self.items = [item_row(i, session.merchant_slug, lang, now, tz) for i in result.items]
        self.error = ""
        self.loaded = True

    @rx.event
    async def load(self):
        self.view = DEFAULT_VIEW
        await self._fetch()

    @rx.event
    async def choose(self, view: str):
        if view not in VIEWS or (view == self.view and self.loaded):
            return
        self.view = view
        self.busy = True
        yield
        await self._fetch()
        self.busy = False


def vouchers_link() -> rx.Component:
    return rx.el.a(
        rx.icon("ticket", size=18, aria_hidden="true"),
        rx.el.span(t("My vouchers")),
        rx.cond(
            RewardsState.active_vouchers > 0,
            rx.fragment(
                rx.el.span(RewardsState.active_vouchers, class_name="rw-count", aria_hidden="true"),
                rx.el.span(tn("{n} active voucher", "{n} active vouchers", RewardsState.active_vouchers), class_name="sr-only"),
            ),
        ),
        href=f"/m/{SessionState.merchant_slug}/vouchers",
        class_name="rw-vouchers-link",
        data_testid="my-vouchers-link",
    )


def empty_state() -> rx.Component:
    return rx.cond(
        RewardsState.view == "affordable",
        rx.el.div(
            rx.el.div(rx.icon("piggy-bank", size=34, aria_hidden="true"), class_name="rw-empty-icon"),
            rx.el.p(t("Nothing you can get just yet"), class_name="rw-empty-title"),
            rx.el.p(t("Keep collecting: every visit brings you closer. Here is everything on offer."), class_name="muted small"),
            rx.el.button(
                t("Show all rewards"), type="button", class_name="btn btn-secondary", on_click=RewardsState.choose("cost")
            ),
            class_name="rw-empty",
            data_testid="rewards-empty",
        ),
        rx.el.div(
            rx.el.div(rx.icon("gift", size=34, aria_hidden="true"), class_name="rw-empty-icon"),
            rx.el.p(t("No rewards yet"), class_name="rw-empty-title"),
            rx.el.p(t("New treats are on their way. Check back soon!"), class_name="muted small"),
            class_name="rw-empty",
            data_testid="rewards-empty",
        ),
    )


def rewards_page() -> rx.Component:
    return member_frame(
        rx.el.div(
            rx.el.h1(t("Rewards"), class_name="rw-title"),
            vouchers_link(),
            class_name="rw-head",
        ),
        rx.el.p(
            rx.icon("coins", size=18, aria_hidden="true"),
            rx.el.span(t("You have {points} points", points=localized_number(RewardsState.available))),
            class_name="rw-balance",
            data_testid="rewards-balance",
        ),
        segmented(
            [
                ("affordable", t("Can afford")),
                ("cost", t("Price")),
                ("rating", t("Top rated")),
                ("newest", t("Newest")),
            ],
            RewardsState.view,
            RewardsState.choose,
            label=t("Show rewards"),
            test_prefix="view",
        ),
        rx.cond(RewardsState.error != "", rx.el.div(RewardsState.error, class_name="alert alert-error", role="alert")),
        rx.cond(
            RewardsState.items.length() > 0,
            rx.el.div(
                rx.foreach(RewardsState.items, reward_tile),
                class_name="grid-2 rw-grid",
                aria_busy=rx.cond(RewardsState.busy, "true", "false"),
                data_testid="rewards-grid",
            ),
            rx.cond(RewardsState.loaded, empty_state()),
        ),
        active="rewards",
    )
