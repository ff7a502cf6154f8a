"""The theme editor page (/m/<slug>/admin-theme): the status bar (unsaved, draft or live; Discard,
Save draft, Publish), the version history with Revert, the publish confirmation, and the layout
that puts the form beside the live preview."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import confirm_sheet, error_alert
from loyalty_app.i18n import t
from loyalty_app.pages.admin_theme.form import editor_form
from loyalty_app.pages.admin_theme.preview import preview
from loyalty_app.pages.admin_theme.state import ThemeEditorState
from loyalty_app.pages.admin_theme.widgets import colour_dots, section
from loyalty_app.services.program import theme_admin

S = ThemeEditorState


def _status(icon: str, text: rx.Var, kind: str) -> rx.Component:
    return rx.el.span(
        rx.icon(icon, size=14, aria_hidden="true"), text, class_name=f"te-status te-status-{kind}", data_testid=f"status-{kind}"
    )


def _action(icon: str, text: rx.Var, class_name: str, on_click: rx.EventHandler, disabled: rx.Var, test_id: str) -> rx.Component:
    return rx.el.button(
        rx.icon(icon, size=16, aria_hidden="true"),
        text,
        type="button",
        class_name=class_name,
        on_click=on_click,
        disabled=disabled,
        data_testid=test_id,
    )


def status_bar() -> rx.Component:
    return rx.el.div(
        rx.el.div(
            rx.cond(
                S.dirty,
                _status("pencil", t("Unsaved changes"), "dirty"),
                rx.cond(
                    S.has_draft,
                    _status("file-pen", t("Draft saved, not published"), "draft"),
                    _status("circle-check", t("Same as what members see"), "live"),
                ),
            ),
            rx.el.span(
                t("Live version: {version}", version=S.published_version), class_name="small muted", data_testid="live-version"
            ),
            class_name="te-status-line",
        ),
        rx.el.div(
            rx.cond(
                S.dirty | S.has_draft,
                rx.el.button(
                    t("Discard changes"),
                    type="button",
                    class_name="btn btn-ghost",
                    on_click=S.discard,
                    disabled=S.busy,
                    data_testid="discard",
                ),
            ),
            _action("save", t("Save draft"), "btn btn-secondary", S.save_draft, S.busy | ~S.dirty, "save-draft"),
            _action("rocket", t("Publish"), "btn", S.ask_publish, S.busy | ~(S.dirty | S.has_draft), "publish"),
            class_name="te-actions",
        ),
        class_name="te-statusbar",
    )


def history() -> rx.Component:
    return section(
        t("Version history"),
        rx.el.ul(
            rx.foreach(
                S.versions,
                lambda v: rx.el.li(
                    colour_dots(v["primary"], v["accent"], v["background"]),
                    rx.el.div(
                        rx.el.p(
                            rx.el.strong(t("Version {version}", version=v["version"])),
                            " · ",
                            v["name"],
                            rx.el.span(v["status"], class_name=rx.cond(v["current"] != "", "te-vchip te-vchip-live", "te-vchip")),
                            class_name="te-version-title",
                        ),
                        rx.el.p(
                            v["when"],
                            rx.cond(v["author"] != "", rx.fragment(" · ", v["author"])),
                            rx.cond(v["note"] != "", rx.fragment(" · ", v["note"])),
                            class_name="small muted",
                        ),
                        class_name="te-version-text",
                    ),
                    rx.cond(
                        v["current"] == "",
                        rx.el.button(
                            rx.icon("undo-2", size=15, aria_hidden="true"),
                            t("Revert"),
                            type="button",
                            class_name="btn btn-secondary te-small-btn",
                            on_click=S.revert(v["version"]),
                            data_testid="revert",
                        ),
                    ),
                    class_name="te-version",
                    data_testid="theme-version",
                    data_version=v["version"],
                ),
            ),
            class_name="te-versions",
        ),
        rx.el.p(t("Revert makes an earlier version the draft; publish it to bring it back."), class_name="small muted te-hint"),
        icon="history",
        test_id="theme-history",
    )


def publish_sheet() -> rx.Component:
    return confirm_sheet(
        open_=S.confirm_publish,
        title=t("Publish this theme?"),
        body=rx.el.div(
            rx.el.p(
                t("Members see it the next time they open or reload the app, with the new app icon and colours."),
                style={"margin": "0 0 12px"},
            ),
            rx.cond(
                S.warnings.length() > 0,
                rx.el.p(
                    rx.icon("triangle-alert", size=16, aria_hidden="true"),
                    t("Some text will be hard to read: see Readability."),
                    class_name="alert te-sheet-warn",
                ),
            ),
            rx.el.label(t("What changed? (optional)"), html_for="te-publish-note", class_name="te-label"),
            rx.el.input(
                id="te-publish-note",
                type="text",
                default_value="",
                key=S.keys["form"],
                on_change=S.set_publish_note,
                class_name="input",
                max_length=theme_admin.NOTE_MAX,
                data_testid="publish-note",
            ),
        ),
        confirm_label=t("Publish now"),
        busy_label=t("Publishing…"),
        cancel_label=t("Cancel"),
        on_confirm=S.publish,
        on_cancel=S.cancel_publish,
        busy=S.busy,
        test_id="confirm-publish",
    )


def theme_editor_page() -> rx.Component:
    return admin_frame(
        t("Theme"),
        "admin-theme",
        error_alert(S.error),
        rx.cond(S.notice != "", rx.el.div(S.notice, class_name="alert alert-success", role="status", data_testid="notice")),
        rx.cond(
            S.loaded,
            rx.fragment(
                status_bar(),
                rx.el.div(
                    rx.el.div(editor_form(), history(), class_name="te-main"),
                    rx.el.div(preview(), class_name="te-side"),
                    class_name="te-layout",
                ),
                publish_sheet(),
            ),
        ),
    )
