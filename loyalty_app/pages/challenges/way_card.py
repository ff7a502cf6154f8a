"""The card every way to earn is shown in on the Challenges tab: icon, title, blurb and points,
its limit and status, the way's own form or button, and the "+N points" / refusal that its
handler in ChallengesState leaves for it. The send button every form ends with."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.pages.challenges.state import ChallengesState

S = ChallengesState


def feedback(action: str) -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.notice_action == action,
            rx.el.div(
                rx.el.p(S.notice_title, class_name="ch-notice-title", data_testid=f"earn-notice-title-{action}"),
                rx.cond(S.notice_text != "", rx.el.p(S.notice_text, class_name="ch-notice-text")),
                class_name="ch-notice",
                role="status",
                data_testid=f"earn-notice-{action}",
            ),
        ),
        rx.cond(
            S.err_action == action,
            rx.el.div(S.err_text, class_name="alert alert-error ch-err", role="alert", data_testid=f"earn-error-{action}"),
        ),
    )


def _status_line(action: str, icon: str, class_name: str) -> rx.Component:
    """Why the way is done or not open to the member yet."""
    return rx.el.p(
        rx.icon(icon, size=16, aria_hidden="true"),
        S.ways[action]["status_text"],
        class_name=class_name,
        data_testid=f"earn-state-{action}",
    )


def way_card(action: str, icon: str, title: rx.Var, blurb: rx.Component | rx.Var, body: rx.Component) -> rx.Component:
    w = S.ways[action]
    return rx.cond(
        S.ways.contains(action),
        rx.el.section(
            rx.el.div(
                rx.el.div(rx.icon(icon, size=22, aria_hidden="true"), class_name="ch-way-icon"),
                rx.el.div(
                    rx.el.h3(title, class_name="ch-way-title"),
                    rx.el.p(blurb, class_name="ch-way-blurb"),
                    class_name="ch-way-text",
                ),
                rx.el.div(
                    rx.el.span(t("+{points}", points=w["points"]), class_name="ch-pts-num", aria_hidden="true"),
                    rx.el.span(t("pts"), class_name="ch-pts-unit", aria_hidden="true"),
                    rx.el.span(t("{points} points", points=w["points"]), class_name="sr-only"),
                    class_name="ch-pts",
                ),
                class_name="ch-way-head",
            ),
            rx.cond(w["limit"] != "", rx.el.p(rx.icon("repeat", size=13, aria_hidden="true"), w["limit"], class_name="ch-limit")),
            rx.cond(
                (w["status_text"] != "") & (S.notice_action != action),
                rx.cond(
                    (w["status"] == "limit") | (w["status"] == "answered") | (w["status"] == "subscribed"),
                    _status_line(action, "circle-check", "ch-state ch-state-done"),
                    _status_line(action, "info", "ch-state"),
                ),
            ),
            body,
            feedback(action),
            class_name="card ch-way",
            data_testid=f"way-{action}",
            aria_busy=rx.cond(S.busy == action, "true", "false"),
        ),
    )


def send_button(
    action: str, label: rx.Var, *, test_id: str, type_: str = "submit", ready: rx.Var | bool = True, **props
) -> rx.Component:
    return rx.el.button(
        rx.cond(S.busy == action, t("Sending…"), label),
        type=type_,
        class_name="btn btn-block",
        disabled=(S.busy != "") | ~ready if isinstance(ready, rx.Var) else S.busy != "",
        data_testid=test_id,
        **props,
    )
