"""One editor tab of the program editor: the list of the kind's rows (status, key facts, "Edit")
and the create/edit form beside it (below it on a phone), with save and retire/restore."""

from __future__ import annotations

import reflex as rx

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t
from loyalty_app.pages.admin_program.fields import area_field
from loyalty_app.pages.admin_program.kind_fields import FIELDS
from loyalty_app.pages.admin_program.state import ProgramState
from loyalty_app.pages.admin_program.widgets import item_list, muted, small_button

S = ProgramState


def editor_form(kind: str) -> rx.Component:
    return rx.el.form(
        *FIELDS[kind](),
        area_field(
            "publish_note",
            N_("What changed (shown to members)"),
            rows=2,
            max_length=1000,
            help_=N_("Optional. Published on “What's new” with the change."),
        )
        if kind != "segment"
        else rx.fragment(),
        rx.el.p(t("Times are in the shop's time zone: {tz}.", tz=S.timezone), class_name="pc-help"),
        rx.el.div(
            # Segments are never published: members do not see them.
            rx.el.button(
                rx.cond(S.busy, t("Saving…"), t("Save") if kind == "segment" else t("Save and publish")),
                type="submit",
                class_name="btn",
                disabled=S.busy,
                data_testid="program-save",
            ),
            rx.cond(
                S.editing_retirable,
                rx.cond(
                    S.editing_status == "retired",
                    rx.el.button(
                        t("Make available again"),
                        type="button",
                        class_name="btn btn-secondary",
                        on_click=S.restore,
                        data_testid="program-restore",
                    ),
                    rx.el.button(
                        t("Retire"), type="button", class_name="btn btn-danger", on_click=S.retire, data_testid="program-retire"
                    ),
                ),
            ),
            class_name="pc-actions",
        ),
        key=S.form_key,
        on_submit=S.save,
        no_validate=True,
        class_name="pc-form",
        data_testid=f"form-{kind}",
    )


def row_item(r: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.cond(
            r["image"] != "", rx.el.img(src=r["image"], alt="", class_name="pc-row-img", width="56", height="42", loading="lazy")
        ),
        rx.el.div(
            rx.el.p(
                rx.el.span(r["name"], class_name="pc-row-name"),
                rx.el.span(r["status_label"], class_name="pc-status pc-status-" + r["status"]),
                class_name="pc-row-head",
            ),
            rx.el.p(r["facts"], class_name="pc-row-facts"),
            class_name="pc-row-text",
        ),
        small_button(t("Edit"), S.edit(r["id"]), icon="pencil", aria_label=t("Edit {name}", name=r["name"])),
        class_name="pc-row",
        data_testid="program-row",
    )


def editor(kind: str) -> rx.Component:
    return rx.el.div(
        rx.el.section(
            rx.el.div(
                rx.el.h2(t("All"), class_name="pc-h2"),
                small_button(t("New"), S.new, icon="plus", style="", data_testid="program-new"),
                class_name="pc-list-head",
            ),
            item_list(
                S.rows,
                row_item,
                rx.cond(S.loaded, muted(t("Nothing here yet. Create the first one with the form."))),
            ),
            class_name="card pc-list-card",
        ),
        rx.el.section(
            rx.el.h2(
                rx.cond(S.editing != "", t("Edit {name}", name=S.editing), t("Create new")),
                class_name="pc-h2",
                data_testid="program-form-title",
            ),
            editor_form(kind),
            id="pc-edit",
            class_name="card pc-panel",
            aria_label=t("Edit"),
        ),
        class_name="pc-layout",
    )
