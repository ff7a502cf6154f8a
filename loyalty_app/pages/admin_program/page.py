"""The program editor page: the sub-tabs and the page function that shows the open tab (an
editor, the changelog or moderation) under the state's error and notice."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.i18n import t
from loyalty_app.pages.admin_program.changelog import changelog_tab
from loyalty_app.pages.admin_program.editor import editor
from loyalty_app.pages.admin_program.moderation import moderation_tab
from loyalty_app.pages.admin_program.state import TABS, ProgramState
from loyalty_app.pages.admin_program.widgets import success_notice

S = ProgramState


def sub_tabs() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.button(
                rx.icon(icon, size=16, aria_hidden="true"),
                rx.el.span(t(label)),
                type="button",
                role="tab",
                class_name="pc-tab",
                aria_selected=rx.cond(S.tab == tab, "true", "false"),
                on_click=S.select_tab(tab),
                data_testid=f"program-tab-{tab}",
            )
            for tab, _kind, icon, label in TABS
        ],
        role="tablist",
        aria_label=t("Program"),
        class_name="pc-tabs",
    )


def program_page() -> rx.Component:
    return admin_frame(
        t("Program"),
        "admin-program",
        sub_tabs(),
        error_alert(S.error),
        success_notice(S.notice, "program-notice"),
        rx.match(
            S.tab,
            *[(tab, editor(kind)) for tab, kind, _i, _l in TABS if kind],
            ("changelog", changelog_tab()),
            ("moderation", moderation_tab()),
            rx.fragment(),
        ),
    )
