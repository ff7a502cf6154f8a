"""The member app's frame: brand top bar, content column and the bottom tab bar.

Pages pass their content and which tab is active; the frame links the merchant's theme
stylesheet (relative href, so each ``/m/<slug>/`` path gets its own brand)."""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from loyalty_app.components.offline import offline_page_block, offline_t, slug_var, stored
from loyalty_app.i18n import t
from loyalty_app.state.language import html_lang_sync
from loyalty_app.state.session import SessionState

TABS = (
    ("home", "house", "Home"),
    ("rewards", "gift", "Rewards"),
    ("card", "qr-code", "Card"),
    ("challenges", "trophy", "Challenges"),
    ("profile", "circle-user-round", "Profile"),
)


def brand_stylesheet() -> rx.Component:
    """Per-merchant CSS variables; relative so /m/cafe/x loads /m/cafe/theme.css."""
    return rx.el.link(rel="stylesheet", href="theme.css")


def tab_bar(active: str) -> rx.Component:
    items = []
    for key, icon, label in TABS:
        items.append(
            rx.el.a(
                rx.el.span(rx.icon(icon, size=22, aria_hidden="true"), class_name="tab-icon"),
                # Before the session loads (and offline, when it never does) the language kept with
                # the card names the tabs, not English.
                rx.el.span(rx.cond(SessionState.signed_in, t(label), offline_t(label))),
                href=f"/m/{slug_var}/{key}",
                class_name=f"tab tab-{key}",
                aria_current="page" if key == active else None,
                data_testid=f"tab-{key}",
            )
        )
    return rx.el.nav(*items, class_name="tabbar", aria_label=t("Main navigation"))


def top_bar() -> rx.Component:
    """The brand bar; offline (no state), the names kept with the member card stand in."""
    logo = rx.cond(SessionState.logo_url != "", SessionState.logo_url, stored("logo"))
    return rx.el.header(
        rx.cond(logo != "", rx.el.img(src=logo, alt="", class_name="topbar-logo", width="36", height="36")),
        rx.el.p(
            rx.cond(SessionState.merchant_short_name != "", SessionState.merchant_short_name, stored("short")),
            class_name="topbar-title",
        ),
        class_name="topbar",
    )


def member_frame(*children: rx.Component, active: str) -> rx.Component:
    """Signed-in member page: content only renders once the session check has passed; offline,
    a note that sends the member to the card, which works without a connection."""
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.div(
            top_bar(),
            rx.el.main(
                rx.cond(
                    SessionState.signed_in,
                    rx.fragment(*children),
                    rx.cond(
                        has_connection_errors,
                        offline_page_block(),
                        rx.el.div(rx.el.p(t("Loading…")), class_name="empty", aria_busy="true"),
                    ),
                ),
                class_name="content",
                id="main",
            ),
            tab_bar(active),
            live_toast(),
            class_name="app-frame",
        ),
    )


def live_toast() -> rx.Component:
    """What arrived while the app was open (points from the till, a tier, a badge), with
    confetti for the big moments. Re-keyed per toast so its animation restarts."""
    from loyalty_app.state.live import LiveState

    return rx.fragment(
        rx.cond(
            LiveState.toast != "",
            rx.el.div(
                rx.el.p(LiveState.toast, data_testid="live-toast"),
                rx.el.button(
                    rx.icon("x", size=18, aria_hidden="true"),
                    type="button",
                    class_name="live-toast-close",
                    aria_label=t("Dismiss"),
                    on_click=LiveState.dismiss,
                ),
                key=LiveState.toast_seq,
                class_name="live-toast",
                role="status",
                aria_live="polite",
            ),
        ),
        rx.cond(
            LiveState.celebrate,
            rx.el.div(
                *[
                    rx.el.span(
                        class_name=f"confetti-bit b{i % 6}",
                        style={"left": f"{(i * 37) % 100}%", "animationDelay": f"{(i % 7) * 0.12:.2f}s"},
                    )
                    for i in range(28)
                ],
                key=LiveState.toast_seq,
                class_name="confetti",
                aria_hidden="true",
                data_testid="confetti",
            ),
        ),
    )


def auth_frame(*children: rx.Component) -> rx.Component:
    """Sign-in / sign-up: the brand mark on top, the form below; no tab bar."""
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.main(
            rx.el.div(
                rx.cond(
                    SessionState.logo_url != "",
                    rx.el.img(src=SessionState.logo_url, alt="", width="84", height="84"),
                ),
                rx.el.h1(SessionState.merchant_name),
                class_name="auth-brand",
            ),
            *children,
            class_name="auth-wrap",
        ),
    )


def field(
    label: rx.Var | str, *, name: str, type_: str = "text", autocomplete: str = "", required: bool = True, **props
) -> rx.Component:
    """A labelled input (label ``for`` = input ``id``), 48px tall for thumbs."""
    return rx.el.div(
        rx.el.label(label, html_for=f"f-{name}"),
        rx.el.input(
            id=f"f-{name}",
            name=name,
            type=type_,
            auto_complete=autocomplete or None,
            required=required,
            class_name="input",
            **props,
        ),
        class_name="field",
    )


def error_alert(message: rx.Var) -> rx.Component:
    return rx.cond(
        message != "",
        rx.el.div(message, class_name="alert alert-error", role="alert", data_testid="form-error"),
    )


def submit_button(label: rx.Var, busy_label: rx.Var, *, busy: rx.Var, test_id: str) -> rx.Component:
    """A full-width submit that says what is happening and cannot be pressed twice."""
    return rx.el.button(
        rx.cond(busy, busy_label, label),
        type="submit",
        class_name="btn btn-block",
        disabled=busy,
        data_testid=test_id,
    )


def auth_switch_link(question: rx.Var, link_text: rx.Var, page: str) -> rx.Component:
    """ "New here? Create an account" / "Already a member? Sign in"."""
    return rx.el.p(
        question,
        " ",
        rx.el.a(link_text, href=f"/m/{SessionState.merchant_slug}/{page}"),
        class_name="auth-links",
    )


def star_rating(pct: rx.Var | str, label: rx.Var | str, *, size: str = "md") -> rx.Component:
    """Read-only stars, filled to ``pct`` (0-100, 90 = 4.5 of 5), announced as one image with
    ``label`` ("Rated 4.5 out of 5"). Used by the rewards catalog, reward detail and reviews."""
    return rx.el.span(
        rx.el.span("★★★★★", class_name="stars-fill", style={"width": f"{pct}%"}),
        "★★★★★",
        class_name=f"stars stars-{size}",
        role="img",
        aria_label=label,
    )


def confirm_sheet(
    *,
    open_: rx.Var,
    title: rx.Var,
    body: rx.Component,
    confirm_label: rx.Var,
    busy_label: rx.Var,
    cancel_label: rx.Var,
    on_confirm,
    on_cancel,
    busy: rx.Var,
    danger: bool = False,
    test_id: str = "confirm",
) -> rx.Component:
    """A bottom sheet asking to confirm one consequential tap (spend points, cancel a voucher).

    An ``alertdialog`` with a title and description; the confirm button takes focus, Escape or
    a tap on the dimmed page cancels (Escape presses the sheet's own cancel button). Both buttons are real buttons; confirm cannot be pressed
    twice while ``busy``."""
    return rx.cond(
        open_,
        rx.el.div(
            rx.el.div(class_name="sheet-scrim", on_click=on_cancel, aria_hidden="true"),
            rx.el.div(
                rx.el.div(class_name="sheet-grip", aria_hidden="true"),
                rx.el.h2(title, id=f"{test_id}-title", class_name="sheet-title"),
                rx.el.div(body, id=f"{test_id}-desc", class_name="sheet-body"),
                rx.el.div(
                    rx.el.button(
                        rx.cond(busy, busy_label, confirm_label),
                        type="button",
                        class_name="btn btn-block btn-danger" if danger else "btn btn-block",
                        on_click=on_confirm,
                        disabled=busy,
                        auto_focus=True,
                        data_testid=f"{test_id}-yes",
                    ),
                    rx.el.button(
                        cancel_label,
                        type="button",
                        class_name="btn btn-block btn-ghost",
                        on_click=on_cancel,
                        disabled=busy,
                        data_testid=f"{test_id}-no",
                    ),
                    class_name="sheet-actions",
                ),
                class_name="sheet",
                role="alertdialog",
                aria_modal="true",
                aria_labelledby=f"{test_id}-title",
                aria_describedby=f"{test_id}-desc",
                custom_attrs={
                    "onKeyDown": rx.Var(
                        "((e) => { if (e.key === 'Escape') { e.preventDefault(); "
                        f"document.querySelector('[data-testid={test_id}-no]')?.click(); }} }})"
                    )
                },
                data_testid=test_id,
            ),
            class_name="sheet-wrap",
        ),
    )


def back_link(label: rx.Var | str, page: str, test_id: str = "back") -> rx.Component:
    """ "< Home" / "< Rewards" at the top of a member sub-page (a real link, 44px tall)."""
    return rx.el.a(
        rx.icon("chevron-left", size=20, aria_hidden="true"),
        rx.el.span(label),
        href=f"/m/{SessionState.merchant_slug}/{page}",
        class_name="back-link",
        data_testid=test_id,
    )


def segmented(
    options, current: rx.Var, on_choose, *, label: rx.Var | str = "", test_prefix: str, even: bool = False
) -> rx.Component:
    """A row of toggle buttons, one pressed: the member screens' filters and section switches.

    ``options`` are (key, label) pairs; ``on_choose(key)`` is the event. A group with a name for
    assistive technology; ``even`` gives every option the same width (a few short sections)
    instead of a row that scrolls sideways (many filters)."""
    return rx.el.div(
        *[
            rx.el.button(
                text,
                type="button",
                aria_pressed=rx.cond(current == key, "true", "false"),
                on_click=on_choose(key),
                class_name="seg-btn",
                data_testid=f"{test_prefix}-{key}",
            )
            for key, text in options
        ],
        class_name="seg seg-even" if even else "seg",
        role="group",
        aria_label=label,
    )
