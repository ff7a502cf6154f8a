"""The profile page's privacy cards: marketing consent per channel (a switch each, with the date
it was given or withdrawn), "Download my data", and deleting the account (asks for the password
again). ProfileState does the work."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import field
from loyalty_app.i18n import t
from loyalty_app.pages.profile.state import ProfileState
from loyalty_app.pages.profile.widgets import alert
from loyalty_app.services.members import profile
from loyalty_app.state.session import SessionState

CONSENT_LABELS = {
    "email": ("Email", "mail"),
    "sms": ("Text messages (SMS)", "message-square"),
    "push": ("Push notifications", "bell"),
}


def _consent_row(channel: str) -> rx.Component:
    label, icon = CONSENT_LABELS[channel]
    granted = ProfileState.consent_granted[channel].to(bool)
    when = ProfileState.consent_when[channel].to(str)
    label_id = f"consent-{channel}-label"
    status_id = f"consent-{channel}-status"
    return rx.el.li(
        rx.el.span(rx.icon(icon, size=20, aria_hidden="true"), class_name="pf-consent-icon"),
        rx.el.div(
            rx.el.p(t(label), id=label_id, class_name="pf-consent-name"),
            rx.el.p(
                rx.cond(
                    granted,
                    t("Given on {date}", date=when),
                    rx.cond(when != "", t("Withdrawn on {date}", date=when), t("Not given")),
                ),
                id=status_id,
                class_name="muted small pf-consent-status",
                data_testid=f"consent-{channel}-status",
            ),
            class_name="pf-consent-text",
        ),
        rx.el.button(
            rx.el.span(class_name="pf-switch-knob"),
            type="button",
            role="switch",
            aria_checked=rx.cond(granted, "true", "false"),
            aria_labelledby=label_id,
            aria_describedby=status_id,
            class_name="pf-switch",
            on_click=ProfileState.toggle_consent(channel),
            data_testid=f"consent-{channel}",
        ),
        class_name="pf-consent",
    )


def consent_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Offers and news")),
        rx.el.p(
            t("Choose how {shop} may send you offers. You can change this at any time.", shop=SessionState.merchant_short_name),
            class_name="muted small",
        ),
        alert(ProfileState.consent_error, "error", "consent-error"),
        rx.el.ul(*[_consent_row(channel) for channel in profile.CONSENT_CHANNELS], class_name="pf-consents"),
        class_name="card",
    )


def data_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Your data")),
        rx.el.p(
            t("Everything we keep about you: profile, points history, vouchers, reviews and more, in one JSON file."),
            class_name="muted small",
        ),
        rx.el.a(
            rx.icon("download", size=18, aria_hidden="true"),
            t("Download my data"),
            href="/m/" + SessionState.merchant_slug + "/me/export.json",
            # A real download, not a client-side route (rx.el.a renders React Router's Link).
            reload_document=True,
            download=True,
            class_name="btn btn-secondary btn-block",
            data_testid="export-data",
        ),
        class_name="card",
    )


def delete_card() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Delete my account")),
        rx.cond(
            ProfileState.delete_open,
            rx.el.form(
                rx.el.p(t("This cannot be undone."), class_name="pf-warn"),
                rx.el.ul(
                    rx.el.li(t("Your points, badges and history are gone for good.")),
                    rx.el.li(t("Vouchers you have not used yet are cancelled.")),
                    rx.el.li(t("You can join again later with the same email, as a new member.")),
                    class_name="pf-delete-list",
                ),
                field(t("Password"), name="password", type_="password", autocomplete="current-password", max_length=1024),
                alert(ProfileState.delete_error, "error", "delete-error"),
                rx.el.div(
                    rx.el.button(
                        rx.cond(ProfileState.delete_busy, t("Deleting…"), t("Delete my account for good")),
                        type="submit",
                        class_name="btn btn-danger btn-block",
                        disabled=ProfileState.delete_busy,
                        data_testid="delete-confirm",
                    ),
                    rx.el.button(
                        t("Keep my account"),
                        type="button",
                        class_name="btn btn-ghost btn-block",
                        on_click=ProfileState.close_delete,
                        disabled=ProfileState.delete_busy,
                        data_testid="delete-cancel",
                    ),
                    class_name="pf-delete-actions",
                ),
                on_submit=ProfileState.delete_account,
                reset_on_submit=False,
                data_testid="delete-form",
            ),
            rx.fragment(
                rx.el.p(
                    t("Your points, vouchers and history will be deleted. We will ask for your password first."),
                    class_name="muted small",
                ),
                rx.el.button(
                    t("Delete my account"),
                    type="button",
                    class_name="btn btn-danger-outline btn-block",
                    on_click=ProfileState.open_delete,
                    data_testid="delete-open",
                ),
            ),
        ),
        class_name="card pf-danger",
    )
