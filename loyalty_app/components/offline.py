"""What a member page shows when it opens without a connection (from the service worker's cache).

Without the websocket no state arrives: not the session, not the merchant's name, not even the
member's language. So these pieces read what the Card tab kept on the device
(``loyalty_app.pwa.offline_card``: name, number, merchant names, logo, language) and pick their
texts in the browser from a table built at compile time.
"""

from __future__ import annotations

import json

import reflex as rx
from reflex_base.vars.base import Var

from loyalty_app.domain.errors import N_
from loyalty_app.i18n.browser import t_in
from loyalty_app.pwa import offline_card
from loyalty_app.state.session import SessionState

OFFLINE_BADGE = N_("Offline")
OFFLINE_PAGE = N_("This page needs a connection. It opens by itself when you are back online.")
OFFLINE_CARD_WORKS = N_("Your member card works offline: show its number at the till.")
OPEN_MY_CARD = N_("Open my card")
OFFLINE_NO_CARD = N_("You are offline. Open your card once with a connection to keep it on this phone.")


def stored(field: str) -> Var:
    """A field of the card kept on this device ('' when none)."""
    return Var(_js_expr=f"(({offline_card.READ_JS})?.[{json.dumps(field)}] ?? '')", _var_type=str).to(str)


_STORED_LANG_JS = (
    f"((({offline_card.READ_JS})?.lang) || ((typeof navigator !== 'undefined' && navigator.language) || 'en').slice(0, 2))"
)


def offline_t(msgid: str) -> Var:
    """``msgid`` in the language stored with the card (the language state needs the server)."""
    return t_in(msgid, _STORED_LANG_JS)


# The merchant slug: from the state once it loads, from the URL before (links work offline).
slug_var = rx.cond(
    SessionState.merchant_slug != "", SessionState.merchant_slug, Var(_js_expr=offline_card.SLUG_JS, _var_type=str)
)


def offline_page_block() -> rx.Component:
    """Any member page but the card, offline: say so, and send the member to the card."""
    return rx.el.section(
        rx.el.span(rx.icon("wifi-off", size=14, aria_hidden="true"), offline_t(OFFLINE_BADGE), class_name="offline-chip"),
        rx.el.p(offline_t(OFFLINE_PAGE), class_name="offline-page-text"),
        rx.cond(
            stored("number") != "",
            rx.fragment(
                rx.el.p(offline_t(OFFLINE_CARD_WORKS), class_name="offline-page-text"),
                rx.el.a(
                    rx.icon("qr-code", size=18, aria_hidden="true"),
                    offline_t(OPEN_MY_CARD),
                    href=f"/m/{slug_var}/card",
                    class_name="btn",
                    data_testid="offline-open-card",
                ),
            ),
            rx.el.p(offline_t(OFFLINE_NO_CARD), class_name="offline-page-text"),
        ),
        class_name="offline-page",
        role="status",
        data_testid="offline-page",
    )
