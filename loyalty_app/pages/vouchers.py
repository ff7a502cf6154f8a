"""The member's vouchers: /m/<slug>/vouchers (all of them, newest first, with their status) and
/m/<slug>/voucher?id=<voucher id> (one voucher to show at the till: a big high-contrast QR of its
code, the code in groups for typing, status and expiry; an active one can be cancelled and its
points come back)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.rewards import kind_label, local, media_url, short_date
from loyalty_app.components.shell import back_link, confirm_sheet, error_alert, member_frame
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import NotFound
from loyalty_app.i18n import localized_number, t
from loyalty_app.services.catalog import catalog_view
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.platform.qr import qr_svg_data_uri
from loyalty_app.state.forms import current_language, read_own, route_id, run_service, translated
from loyalty_app.state.live import reload_when_open
from loyalty_app.state.session import SessionState


def voucher_row(v: catalog_view.VoucherView, slug: str, lang: str, now) -> dict[str, str]:
    tz = v.timezone

    def day(when) -> str:
        return short_date(lang, local(when, tz), now) if when else ""

    return {
        "id": str(v.voucher_id),
        "reward_id": str(v.reward_id),
        "name": v.reward_name,
        "kind": v.reward_kind,
        "image": media_url(slug, v.image_id),
        "status": v.status,
        "points": str(v.points),
        "issued": day(v.issued_at),
        "expires": day(v.expires_at),
        "used": day(v.used_at),
        "cancelled": day(v.cancelled_at),
    }


def status_chip(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("issued", rx.el.span(t("Active"), class_name="vc-chip vc-chip-active")),
        ("used", rx.el.span(t("Used"), class_name="vc-chip vc-chip-used")),
        ("expired", rx.el.span(t("Expired"), class_name="vc-chip vc-chip-expired")),
        rx.el.span(t("Cancelled"), class_name="vc-chip vc-chip-cancelled"),
    )


def status_when(v: rx.Var) -> rx.Var:
    return rx.match(
        v["status"],
        ("issued", t("Valid until {date}", date=v["expires"])),
        ("used", t("Used on {date}", date=v["used"])),
        ("expired", t("Expired on {date}", date=v["expires"])),
        t("Cancelled on {date}", date=v["cancelled"]),
    )


# --- the list ------------------------------------------------------------------------------------


class VouchersState(rx.State):
    loaded: bool = False
    error: str = ""
    items: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        loaded = await read_own(self, catalog_view.member_vouchers)
        if loaded is None:
            return
        session, found = loaded
        lang = await current_language(self)
        now = utcnow()
        self.items = [voucher_row(v, session.merchant_slug, lang, now) for v in found]
        self.error = ""
        self.loaded = True


def voucher_list_item(v: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            rx.cond(
                v["image"] != "",
                rx.el.img(src=v["image"], alt="", width="64", height="64", loading="lazy", class_name="vc-thumb"),
                rx.el.span(rx.icon("ticket", size=24, aria_hidden="true"), class_name="vc-thumb vc-thumb-empty"),
            ),
            rx.el.span(
                rx.el.span(v["name"], class_name="vc-name"),
                rx.el.span(status_when(v), class_name="small muted"),
                class_name="vc-text",
            ),
            status_chip(v["status"]),
            rx.icon("chevron-right", size=18, aria_hidden="true", class_name="vc-chevron"),
            href=f"/m/{SessionState.merchant_slug}/voucher?id={v['id']}",
            class_name=rx.cond(v["status"] == "issued", "vc-row", "vc-row vc-row-past"),
            data_testid="voucher-row",
            data_status=v["status"],
        ),
    )


def vouchers_page() -> rx.Component:
    return member_frame(
        back_link(t("Rewards"), "rewards", "back-to-rewards"),
        rx.el.h1(t("My vouchers"), class_name="rw-title", style={"marginBottom": "12px"}),
        error_alert(VouchersState.error),
        rx.cond(
            VouchersState.items.length() > 0,
            rx.el.ul(rx.foreach(VouchersState.items, voucher_list_item), class_name="vc-list", data_testid="voucher-list"),
            rx.cond(
                VouchersState.loaded,
                rx.el.div(
                    rx.el.div(rx.icon("ticket", size=34, aria_hidden="true"), class_name="rw-empty-icon"),
                    rx.el.p(t("No vouchers yet"), class_name="rw-empty-title"),
                    rx.el.p(
                        t("Redeem a reward and its voucher appears here, ready to show at the till."), class_name="muted small"
                    ),
                    rx.el.a(t("Browse rewards"), href=f"/m/{SessionState.merchant_slug}/rewards", class_name="btn"),
                    class_name="rw-empty",
                    data_testid="vouchers-empty",
                ),
            ),
        ),
        active="rewards",
    )


# --- one voucher ---------------------------------------------------------------------------------


class VoucherState(rx.State):
    loaded: bool = False
    missing: bool = False
    error: str = ""
    notice: str = ""
    is_new: bool = False
    voucher: dict[str, str] = {}
    groups: list[str] = []
    code: str = ""
    qr_src: str = ""
    confirming: bool = False
    cancelling: bool = False

    async def _fetch(self) -> None:
        try:
            loaded = await read_own(self, catalog_view.voucher_detail, route_id(self, "id") or 0, reraise=(NotFound,))
        except NotFound:
            self.missing, self.loaded = True, True
            return
        if loaded is None:
            return
        session, found = loaded
        lang = await current_language(self)
        self.voucher = voucher_row(found, session.merchant_slug, lang, utcnow())
        self.code = found.code
        self.groups = found.code.split("-")
        self.qr_src = qr_svg_data_uri(found.code) if found.status == "issued" else ""
        self.missing = False
        self.loaded = True

    @rx.event
    async def load(self):
        self.loaded = self.missing = self.confirming = self.cancelling = False
        self.error = self.notice = ""
        self.voucher, self.groups, self.code, self.qr_src = {}, [], "", ""
        self.is_new = str(self.router.page.params.get("new", "")) == "1"
        yield  # the skeleton, not the previous reward or voucher, while this one loads
        await self._fetch()

    @rx.event
    def ask_cancel(self):
        self.error = self.notice = ""
        self.is_new = False
        self.confirming = True

    @rx.event
    def keep(self):
        if not self.cancelling:
            self.confirming = False

    @rx.event
    async def confirm_cancel(self):
        if self.cancelling:
            return
        self.cancelling = True
        yield
        ran = await run_service(
            self, catalog_view.cancel, action=Action.CANCEL_OWN_VOUCHER, own=True, voucher_id=route_id(self, "id") or 0
        )
        if ran is None:
            self.cancelling = self.confirming = False
            await self._fetch()
            return
        _actor, outcome = ran
        self.notice = await translated(
            self, "Voucher cancelled. {points} points are back in your balance.", points=outcome.points_returned
        )
        self.cancelling = self.confirming = False
        await self._fetch()


# A voucher screen left open at the till turns "used" by itself (a live update, state/live.py).
reload_when_open("/voucher", VoucherState, "_fetch")

V = VoucherState


def voucher_ticket() -> rx.Component:
    v = V.voucher
    active = v["status"] == "issued"
    return rx.el.section(
        rx.el.div(
            rx.el.p(kind_label(v["kind"]), class_name="vc-kind"),
            rx.el.h1(v["name"], class_name="vc-title"),
            status_chip(v["status"]),
            class_name="vc-ticket-head",
        ),
        rx.cond(
            active,
            rx.fragment(
                rx.el.div(
                    rx.el.img(
                        src=V.qr_src,
                        alt=t("QR code of voucher {code}", code=V.code),
                        width="280",
                        height="280",
                        class_name="vc-qr",
                        data_testid="voucher-qr",
                    ),
                    class_name="vc-qr-box",
                ),
                rx.el.p(t("Show this at the till"), class_name="vc-till"),
                rx.el.p(t("Voucher code"), class_name="vc-code-label"),
                rx.el.p(
                    rx.foreach(V.groups, lambda g: rx.el.span(g, class_name="vc-group")),
                    class_name="vc-code",
                    data_testid="voucher-code",
                    data_code=V.code,
                ),
            ),
            rx.el.div(
                rx.match(
                    v["status"],
                    ("used", rx.icon("circle-check", size=44, aria_hidden="true")),
                    ("expired", rx.icon("clock", size=44, aria_hidden="true")),
                    rx.icon("circle-x", size=44, aria_hidden="true"),
                ),
                rx.el.p(
                    rx.match(
                        v["status"],
                        ("used", t("This voucher was already used.")),
                        ("expired", t("This voucher has expired.")),
                        t("This voucher was cancelled."),
                    ),
                    style={"margin": 0, "fontWeight": 800},
                ),
                class_name="vc-inactive",
            ),
        ),
        rx.el.div(
            rx.el.p(status_when(v), class_name="vc-when", data_testid="voucher-when"),
            rx.el.p(t("{points} points", points=localized_number(v["points"])), class_name="small muted", style={"margin": 0}),
            class_name="vc-foot",
        ),
        class_name=rx.cond(active, "vc-ticket", "vc-ticket vc-ticket-past"),
        data_testid="voucher",
        data_status=v["status"],
    )


def voucher_actions() -> rx.Component:
    v = V.voucher
    return rx.el.div(
        rx.cond(
            v["status"] == "used",
            rx.el.a(
                rx.icon("star", size=18, aria_hidden="true"),
                t("Rate this reward"),
                href=f"/m/{SessionState.merchant_slug}/reward?id={v['reward_id']}#rate",
                class_name="btn btn-block",
                data_testid="rate-link",
            ),
        ),
        rx.el.a(
            t("About this reward"),
            href=f"/m/{SessionState.merchant_slug}/reward?id={v['reward_id']}",
            class_name="btn btn-block btn-secondary",
        ),
        rx.cond(
            v["status"] == "issued",
            rx.el.button(
                t("Cancel voucher"),
                type="button",
                class_name="btn btn-block btn-ghost vc-cancel",
                on_click=V.ask_cancel,
                data_testid="cancel-voucher",
            ),
        ),
        class_name="vc-actions",
    )


def cancel_sheet() -> rx.Component:
    return confirm_sheet(
        open_=V.confirming,
        title=t("Cancel this voucher?"),
        body=rx.el.p(
            t(
                "Your {points} points come back to your balance and the code stops working.",
                points=localized_number(V.voucher["points"]),
            ),
            style={"margin": 0},
        ),
        confirm_label=t("Cancel voucher"),
        busy_label=t("Cancelling…"),
        cancel_label=t("Keep it"),
        on_confirm=V.confirm_cancel,
        on_cancel=V.keep,
        busy=V.cancelling,
        danger=True,
        test_id="cancel-confirm",
    )


def voucher_page() -> rx.Component:
    return member_frame(
        back_link(t("My vouchers"), "vouchers", "back-to-vouchers"),
        rx.cond(
            V.missing,
            rx.el.div(
                rx.el.div(rx.icon("search-x", size=34, aria_hidden="true"), class_name="rw-empty-icon"),
                rx.el.h1(t("Voucher not found."), class_name="rw-empty-title"),
                rx.el.a(t("My vouchers"), href=f"/m/{SessionState.merchant_slug}/vouchers", class_name="btn"),
                class_name="rw-empty",
                data_testid="voucher-missing",
            ),
            rx.cond(
                V.loaded,
                rx.fragment(
                    rx.cond(
                        V.is_new,
                        rx.el.div(
                            rx.icon("party-popper", size=20, aria_hidden="true"),
                            rx.el.span(
                                t(
                                    "Enjoy! {points} points spent on {reward}.",
                                    points=localized_number(V.voucher["points"]),
                                    reward=V.voucher["name"],
                                )
                            ),
                            class_name="alert alert-success vc-new",
                            role="status",
                            data_testid="voucher-new",
                        ),
                    ),
                    rx.cond(
                        V.notice != "",
                        rx.el.div(V.notice, class_name="alert alert-success", role="status", data_testid="voucher-notice"),
                    ),
                    error_alert(V.error),
                    voucher_ticket(),
                    voucher_actions(),
                    cancel_sheet(),
                ),
                rx.cond(
                    V.error != "",
                    error_alert(V.error),
                    rx.el.div(rx.el.span(t("Loading…"), class_name="sr-only"), class_name="rw-skeleton", role="status"),
                ),
            ),
        ),
        active="rewards",
    )
