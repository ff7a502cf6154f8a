"""The program editor's changelog tab: ChangelogState lists every published change as members see
it on “What's new” and saves the merchant's note under one; the view renders that list."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.news import KIND_LABELS
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t, translate
from loyalty_app.pages.admin_program.widgets import item_list, muted, success_notice
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.program import program_console as pc
from loyalty_app.state.forms import current_language, run_service, translated
from loyalty_app.state.session import SessionState

NOTE_SAVED = N_("Note saved. Members see it under the change.")


class ChangelogState(rx.State):
    entries: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        ran = await run_service(self, pc.list_changes, action=Action.ADMIN_MANAGE_PROGRAM)
        if ran is None:
            return
        _actor, rows = ran
        lang, tz = await current_language(self), session._merchant_tz
        self.entries = [
            {
                "id": str(r.change_id),
                "kind": translate(lang, KIND_LABELS.get(r.kind, KIND_LABELS["program"])),
                "title": r.title,
                "body": r.body,
                "note": r.note,
                "when": translate(
                    lang,
                    N_("From {date}") if r.upcoming else N_("Since {date}"),
                    date=format_datetime(lang, r.effective_at, tz, "short"),
                ),
                "published": translate(lang, N_("Published {date}"), date=format_datetime(lang, r.published_at, tz, "short")),
            }
            for r in rows
        ]
        self.error = ""

    @rx.event
    async def annotate(self, form: dict[str, Any]):
        self.notice = self.error = ""
        change_id, note = str(form.get("change_id", "")), str(form.get("note", "") or "")
        if await run_service(self, pc.annotate_change, change_id, note, action=Action.ADMIN_MANAGE_PROGRAM) is None:
            return
        await self.load()
        self.notice = await translated(self, NOTE_SAVED)


def change_item(c: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.p(
            rx.el.span(c["kind"], class_name="news-kind"),
            " · ",
            rx.el.span(c["when"]),
            " · ",
            rx.el.span(c["published"]),
            class_name="pc-row-facts",
        ),
        rx.el.p(c["title"], class_name="pc-row-name"),
        rx.cond(c["body"] != "", rx.el.p(c["body"], class_name="pc-change-body")),
        rx.el.form(
            rx.el.input(type="hidden", name="change_id", value=c["id"]),
            rx.el.label(t("Note for members"), html_for="pc-note-" + c["id"], class_name="pc-label"),
            rx.el.div(
                rx.el.input(
                    id="pc-note-" + c["id"],
                    name="note",
                    default_value=c["note"],
                    key=c["id"] + ":" + c["note"],
                    class_name="input",
                    max_length=500,
                    placeholder=t("Like: extended to Sundays too"),
                ),
                rx.el.button(t("Save note"), type="submit", class_name="btn btn-secondary pc-small-btn"),
                class_name="pc-inline",
            ),
            on_submit=ChangelogState.annotate,
            class_name="pc-note-form",
        ),
        class_name="pc-change",
        data_testid="change-item",
    )


def changelog_tab() -> rx.Component:
    return rx.el.section(
        muted(t("Every published change, newest first, as members see it on “What's new”. Add a note to explain a change.")),
        error_alert(ChangelogState.error),
        success_notice(ChangelogState.notice),
        item_list(ChangelogState.entries, change_item, muted(t("No changes so far."))),
        class_name="card",
    )
