"""What's new: /m/<slug>/news — the program's published rule changes, newest first, with when
each takes effect and the merchant's note. Members should never be surprised by a rule change."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.news import KIND_LABELS
from loyalty_app.components.shell import error_alert, member_frame
from loyalty_app.domain.errors import N_
from loyalty_app.domain.quests import utc_to_local as to_local
from loyalty_app.i18n import format_date, t, translate
from loyalty_app.services.program import changelog
from loyalty_app.state.forms import current_language, read_own

KIND_ICONS = {
    "reward": "gift",
    "earning": "coins",
    "tier": "crown",
    "quest": "zap",
    "challenge": "trophy",
    "badge": "award",
    "charity": "heart-handshake",
    "survey": "clipboard-list",
    "program": "scroll-text",
}


class NewsState(rx.State):
    loaded: bool = False
    error: str = ""
    changes: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        loaded = await read_own(self, changelog.published_changes)
        if loaded is None:
            return
        session, rows = loaded
        lang, tz = await current_language(self), session._merchant_tz
        self.changes = [
            {
                "id": str(r.change_id),
                "kind": translate(lang, KIND_LABELS.get(r.kind, KIND_LABELS["program"])),
                "icon": r.kind if r.kind in KIND_ICONS else "program",
                "title": r.title,
                "body": r.body,
                "note": r.note,
                "when": translate(
                    lang,
                    N_("From {date}") if r.upcoming else N_("Since {date}"),
                    date=format_date(lang, to_local(r.effective_at, tz)),
                ),
                "upcoming": "1" if r.upcoming else "",
            }
            for r in rows
        ]
        self.error = ""
        self.loaded = True


def _icon(kind: rx.Var) -> rx.Component:
    return rx.match(
        kind,
        *[(k, rx.icon(icon, size=20, aria_hidden="true")) for k, icon in KIND_ICONS.items()],
        rx.icon("scroll-text", size=20, aria_hidden="true"),
    )


def change_item(c: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.span(_icon(c["icon"]), class_name="news-icon"),
        rx.el.div(
            rx.el.p(
                rx.el.span(c["kind"], class_name="news-kind"),
                rx.el.span(c["when"], class_name=rx.cond(c["upcoming"] != "", "news-when news-upcoming", "news-when")),
                class_name="news-meta",
            ),
            rx.el.h2(c["title"], class_name="news-title"),
            rx.cond(c["body"] != "", rx.el.p(c["body"], class_name="news-body")),
            rx.cond(
                c["note"] != "",
                rx.el.p(
                    rx.icon("message-square", size=14, aria_hidden="true"),
                    c["note"],
                    class_name="news-note",
                    data_testid="news-note",
                ),
            ),
        ),
        class_name="news-item",
        data_testid="news-item",
    )


def news_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("What's new"), class_name="act-title"),
        rx.el.p(t("Every change to the program's rules, and when it applies."), class_name="muted"),
        error_alert(NewsState.error),
        rx.cond(
            NewsState.changes.length() > 0,
            rx.el.ul(rx.foreach(NewsState.changes, change_item), class_name="news-list"),
            rx.cond(
                NewsState.loaded,
                rx.el.div(
                    rx.icon("scroll-text", size=28, aria_hidden="true"),
                    rx.el.p(t("No changes so far.")),
                    class_name="empty",
                    data_testid="news-empty",
                ),
            ),
        ),
        active="home",
    )
