"""The frame of the staff and merchant-admin pages: brand bar, title, sign-out."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import brand_stylesheet, top_bar
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t
from loyalty_app.state.language import html_lang_sync
from loyalty_app.state.session import SessionState


def console_frame(title: rx.Var, *children: rx.Component) -> rx.Component:
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.div(
            top_bar(),
            rx.el.main(
                rx.el.h1(title, style={"fontSize": "1.4rem", "fontWeight": 900, "margin": "0 0 12px"}),
                rx.cond(SessionState.signed_in, rx.fragment(*children), rx.el.p(t("Loading…"), class_name="empty")),
                rx.el.button(
                    t("Sign out"),
                    type="button",
                    class_name="btn btn-secondary btn-block",
                    on_click=SessionState.sign_out,
                    data_testid="signout",
                ),
                class_name="content",
                style={"paddingBottom": "32px"},
            ),
            class_name="app-frame",
        ),
    )


# The merchant console's sections: (route under /m/<slug>/, lucide icon, label msgid). Flat routes
# (``admin-theme``, not ``admin/theme``): the brand stylesheet and manifest links are relative.
ADMIN_SECTIONS = (
    ("admin", "layout-dashboard", N_("Overview")),
    ("admin-theme", "palette", N_("Theme")),
    ("admin-program", "sliders-horizontal", N_("Program")),
    ("admin-analytics", "chart-line", N_("Analytics")),
    ("admin-inbox", "message-circle", N_("Messages")),
    ("admin-fraud", "shield-alert", N_("Fraud")),
    ("admin-data", "download", N_("Data & exports")),
    ("admin-webhooks", "webhook", N_("Webhooks")),
)


def admin_nav(active: str) -> rx.Component:
    """Tabs on a phone, a sidebar from tablet width up (CSS only). Shown once the session state
    has arrived: its links are built from the merchant's slug (before, they read /m//...)."""
    return rx.cond(SessionState.merchant_slug != "", _admin_nav_links(active))


def _admin_nav_links(active: str) -> rx.Component:
    return rx.el.nav(
        *[
            rx.el.a(
                rx.icon(icon, size=18, aria_hidden="true"),
                rx.el.span(t(label)),
                href=f"/m/{SessionState.merchant_slug}/{route}",
                class_name="admin-nav-item",
                aria_current="page" if route == active else None,
                data_testid=f"admin-nav-{route}",
            )
            for route, icon, label in ADMIN_SECTIONS
        ],
        class_name="admin-nav",
        aria_label=t("Merchant console"),
    )


def admin_frame(title: rx.Var, active: str, *children: rx.Component) -> rx.Component:
    """The merchant console: brand bar, section navigation, the page, sign-out. Wide screens
    (desktop, tablet) get the room; phones still work."""
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.div(
            top_bar(),
            rx.el.div(
                admin_nav(active),
                rx.el.main(
                    rx.el.h1(title, class_name="admin-title"),
                    rx.cond(SessionState.signed_in, rx.fragment(*children), rx.el.p(t("Loading…"), class_name="empty")),
                    rx.el.button(
                        t("Sign out"),
                        type="button",
                        class_name="btn btn-secondary",
                        on_click=SessionState.sign_out,
                        data_testid="signout",
                        style={"marginTop": "24px"},
                    ),
                    class_name="admin-content",
                    id="main",
                ),
                class_name="admin-body",
            ),
            class_name="admin-frame",
        ),
    )
