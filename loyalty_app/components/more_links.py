"""A compact "More" row linking the member's secondary screens: Activity, Give points, Invite
friends. Meant for the bottom of the Home page (placed by whoever owns it):

    from loyalty_app.components.more_links import more_links
    ...
    more_links(),

Each tile is a real link (no state, no event), 48px+ tall, with an icon and a short label."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.state.inbox_badge import InboxBadgeState
from loyalty_app.state.session import SessionState


def _tile(page: str, icon: str, label: rx.Var, test_id: str, badge: rx.Component | None = None) -> rx.Component:
    return rx.el.a(
        rx.el.span(rx.icon(icon, size=22, aria_hidden="true"), class_name="more-icon"),
        rx.el.span(label, class_name="more-label"),
        *([badge] if badge is not None else []),
        href=f"/m/{SessionState.merchant_slug}/{page}",
        class_name="more-tile",
        data_testid=test_id,
    )


def more_links() -> rx.Component:
    return rx.el.nav(
        rx.el.h2(t("More"), class_name="section-title"),
        rx.el.div(
            _tile("activity", "history", t("Activity"), "more-activity"),
            _tile("donate", "heart-handshake", t("Give points"), "more-donate"),
            _tile("invite", "user-plus", t("Invite friends"), "more-invite"),
            _tile("news", "scroll-text", t("What's new"), "more-news"),
            _tile(
                "inbox",
                "message-circle",
                t("Messages"),
                "more-inbox",
                rx.cond(
                    InboxBadgeState.unread > 0,
                    rx.el.span(
                        InboxBadgeState.unread,
                        rx.el.span(t(" unread"), class_name="sr-only"),
                        class_name="more-badge",
                        data_testid="inbox-unread",
                    ),
                ),
            ),
            class_name="more-row",
        ),
        class_name="more-links",
        aria_label=t("More"),
    )
