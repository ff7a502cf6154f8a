"""Pieces of the rewards tab that other pages show too: the catalog item as a row of strings
(a reward's page), dates and picture URLs (a reward's page, the vouchers), the reward kind's
label, and the reward tile (the theme editor's preview)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import star_rating
from loyalty_app.i18n import format_date, localized_number, t
from loyalty_app.services.catalog import catalog_view
from loyalty_app.state.session import SessionState


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
