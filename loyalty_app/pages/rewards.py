"""Rewards tab: /m/<slug>/rewards — the whole catalog as this member sees it: picture, price,
kind, tier lock and a clear "you can get this now" mark; one segmented control filters and
sorts (can afford / price / top rated / newest); every tile opens the reward's page."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import member_frame, segmented, star_rating
from loyalty_app.domain.clock import utcnow
from loyalty_app.i18n import format_date, localized_number, t, tn
from loyalty_app.services import catalog_view
from loyalty_app.state.forms import current_language, read_own
from loyalty_app.state.session import SessionState

# The segmented control: view key -> (filter, sort) of services.catalog_view.
VIEWS = {
    "affordable": ("affordable", "cost"),
    "cost": ("all", "cost"),
    "rating": ("all", "rating"),
    "newest": ("all", "newest"),
}
DEFAULT_VIEW = "cost"


def media_url(slug: str, image_id: int | None) -> str:
    return f"/m/{slug}/media/{image_id}" if image_id else ""


def short_date(lang: str, when, now) -> str:
    """ "23 Dec" this year, "23 Dec 2027" otherwise (in the merchant's time zone, see callers)."""
    return format_date(lang, when, "d MMM" if when.year == now.year else "d MMM y")


def local(when, tz: str):
    from zoneinfo import ZoneInfo

    try:
        return when.astimezone(ZoneInfo(tz))
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to UTC
        return when


def item_row(item: catalog_view.CatalogItem, slug: str, lang: str, now, tz: str) -> dict[str, str]:
    """One catalog item as the page shows it (strings only: React renders them as they are)."""
    return {
        "id": str(item.reward_id),
        "name": item.name,
        "kind": item.kind,
        "cost": str(item.cost_points),
        "image": media_url(slug, item.image_id),
        "rating": f"{item.rating:.1f}" if item.rating is not None else "",
        "rating_pct": str(round((item.rating or 0) * 20)),
        "rating_count": str(item.rating_count),
        "status": item.status,
        "tier": item.tier_name or "",
        "missing": str(item.missing_points),
        "stock": "" if item.stock is None else str(item.stock),
        "from": short_date(lang, local(item.valid_from, tz), now) if item.valid_from else "",
        "until": short_date(lang, local(item.valid_until, tz), now) if item.valid_until else "",
    }


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


# --- pieces shared with the reward detail and voucher pages -------------------------------------


def kind_label(kind: rx.Var) -> rx.Var:
    """The reward kind in the member's language."""
    return rx.match(
        kind,
        ("discount", t("Discount")),
        ("free_product", t("Free product")),
        ("free_shipping", t("Free delivery")),
        ("event_ticket", t("Event")),
        ("early_access", t("Early access")),
        ("partner_coupon", t("Partner offer")),
        t("Reward"),
    )


def status_line(r: rx.Var) -> rx.Component:
    """Can the member get it now, and if not, the one reason that matters."""
    return rx.match(
        r["status"],
        ("ok", rx.el.span(rx.icon("circle-check", size=14, aria_hidden="true"), t("Get it now"), class_name="badge-can")),
        (
            "tier_locked",
            rx.el.span(rx.icon("lock", size=13, aria_hidden="true"), t("{tier} members", tier=r["tier"]), class_name="rw-lock"),
        ),
        ("insufficient_points", rx.el.span(t("{points} more points", points=r["missing"]), class_name="rw-need")),
        ("out_of_stock", rx.el.span(t("Out of stock"), class_name="rw-need")),
        ("limit_reached", rx.el.span(t("Limit reached"), class_name="rw-need")),
        ("not_yet", rx.el.span(t("From {date}", date=r["from"]), class_name="rw-need")),
        rx.el.span(t("No longer available"), class_name="rw-need"),
    )


def rating_inline(r: rx.Var) -> rx.Component:
    return rx.cond(
        r["rating"] != "",
        rx.el.span(
            star_rating(r["rating_pct"], t("Rated {rating} out of 5", rating=r["rating"]), size="sm"),
            rx.el.span(r["rating"], class_name="rw-rating-num"),
            rx.el.span("(", r["rating_count"], ")", class_name="rw-rating-count"),
            class_name="rw-rating",
        ),
    )


def reward_tile(r: rx.Var) -> rx.Component:
    """A tile that is one link (name, price and state read in order by screen readers)."""
    locked = r["status"] == "tier_locked"
    return rx.el.a(
        rx.el.div(
            rx.cond(
                r["image"] != "",
                # Decorative: the link's text names the reward right below.
                rx.el.img(src=r["image"], alt="", loading="lazy", width="240", height="160"),
                rx.el.div(rx.icon("gift", size=36, aria_hidden="true"), class_name="rw-noimg"),
            ),
            rx.el.span(kind_label(r["kind"]), class_name="rw-kind"),
            rx.cond(locked, rx.el.span(rx.icon("lock", size=16, aria_hidden="true"), class_name="rw-lock-badge")),
            class_name=rx.cond(locked, "rw-media rw-media-locked", "rw-media"),
        ),
        rx.el.div(
            rx.el.h3(r["name"], class_name="reward-name"),
            rx.el.p(
                rx.el.span(localized_number(r["cost"]), class_name="rw-cost-num"),
                " ",
                rx.el.span(t("pts"), class_name="rw-cost-unit"),
                class_name="cost rw-cost",
            ),
            rating_inline(r),
            status_line(r),
            class_name="body",
        ),
        href=f"/m/{SessionState.merchant_slug}/reward?id={r['id']}",
        class_name=rx.cond(r["status"] == "ok", "reward-tile rw-tile rw-can", "reward-tile rw-tile"),
        data_testid="reward-tile",
        data_status=r["status"],
    )


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
