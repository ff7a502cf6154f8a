"""The frame of the staff and merchant-admin pages: brand bar, title, sign-out."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import brand_stylesheet, top_bar
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
                rx.el.button(t("Sign out"), type="button", class_name="btn btn-secondary btn-block", on_click=SessionState.sign_out, data_testid="signout"),
                class_name="content",
                style={"paddingBottom": "32px"},
            ),
            class_name="app-frame",
        ),
    )
