"""Merchant console, messages: /m/<slug>/admin-inbox. Members' questions, complaints and praise,
newest first with the unread ones marked; answer in place (the member sees it live)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.inbox import STATUS_LABELS, TOPIC_LABELS
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t, translate
from loyalty_app.services.members import inbox
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import current_language, error_message, form_id, off_loop, run_service, translated
from loyalty_app.state.live import push_to_member
from loyalty_app.state.session import SessionState, require_actor

NEW_ANSWER = N_("New answer from the shop: {subject}")


class AdminInboxState(rx.State):
    threads: list[dict[str, str]] = []
    messages: list[dict[str, str]] = []
    open_id: str = ""
    complaints_open: int = 0
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        ran = await run_service(self, inbox.merchant_threads)
        if ran is None:
            return
        _actor, rows = ran
        lang, tz = await current_language(self), session._merchant_tz
        self.threads = [
            {
                "id": str(r.thread_id),
                "topic": translate(lang, TOPIC_LABELS[r.topic]),
                "topic_key": r.topic,
                "subject": r.subject,
                "member": r.member,
                "about": " · ".join(x for x in (r.store, r.voucher) if x),
                "status": translate(lang, STATUS_LABELS.get(r.status, r.status)),
                "unread": "1" if r.unread else "",
                "when": format_datetime(lang, r.updated_at, tz, "short"),
            }
            for r in rows
        ]
        self.complaints_open = sum(1 for r in rows if r.topic == "complaint" and r.status == "open")
        current = next((r for r in rows if str(r.thread_id) == self.open_id), None)
        self.messages = [
            {"mine": "1" if m.from_merchant else "", "body": m.body, "at": format_datetime(lang, m.at, tz, "short")}
            for m in (current.messages if current else [])
        ]
        self.error = ""

    @rx.event
    async def open(self, thread_id: str):
        self.open_id, self.notice = str(thread_id), ""
        if form_id(thread_id):
            # ADMIN_MODERATE: the console's, not a member's own inbox
            ran = await run_service(self, inbox.mark_read, action=Action.ADMIN_MODERATE, thread_id=form_id(thread_id))
            if ran is None:
                return
        await self.load()

    @rx.event
    async def answer(self, form: dict):
        self.error = self.notice = ""
        thread = next((th for th in self.threads if th["id"] == self.open_id), None)
        try:
            actor = await require_actor(self, Action.ADMIN_MODERATE)  # the console's, not a member's own inbox
            await off_loop(inbox.reply, get_engine(), actor, thread_id=form_id(self.open_id) or 0, body=str(form.get("body", "")))
            member_id = await off_loop(inbox.thread_member, get_engine(), actor, thread_id=form_id(self.open_id) or 0)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        self.notice = await translated(self, N_("Answer sent."))
        if thread is not None:
            push_to_member(actor.merchant_id, member_id, [(NEW_ANSWER, {"subject": thread["subject"]})])
        await self.load()


def _thread(th: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.button(
            rx.el.span(class_name=rx.cond(th["unread"] != "", "inbox-dot inbox-dot-on", "inbox-dot"), aria_hidden="true"),
            rx.el.span(
                rx.el.span(th["topic"], " · ", th["member"], " · ", th["when"], class_name="small muted"),
                rx.el.strong(th["subject"]),
                rx.cond(th["about"] != "", rx.el.span(th["about"], class_name="small muted")),
                class_name="inbox-row-text",
            ),
            rx.el.span(th["status"], class_name="small"),
            type="button",
            class_name=rx.cond(AdminInboxState.open_id == th["id"], "inbox-row inbox-row-open", "inbox-row"),
            on_click=AdminInboxState.open(th["id"]),
            data_testid="admin-thread",
        ),
    )


def admin_inbox_page() -> rx.Component:
    return admin_frame(
        t("Messages"),
        "admin-inbox",
        error_alert(AdminInboxState.error),
        rx.cond(AdminInboxState.notice != "", rx.el.div(AdminInboxState.notice, class_name="alert alert-success", role="status")),
        rx.el.p(t("Open complaints: {n}", n=AdminInboxState.complaints_open), class_name="muted", data_testid="complaints-open"),
        rx.el.div(
            rx.el.section(
                rx.cond(
                    AdminInboxState.threads.length() > 0,
                    rx.el.ul(rx.foreach(AdminInboxState.threads, _thread), class_name="inbox-list"),
                    rx.el.p(t("No messages yet."), class_name="muted"),
                ),
            ),
            rx.el.section(
                rx.cond(
                    AdminInboxState.open_id != "",
                    rx.fragment(
                        rx.el.ol(
                            rx.foreach(
                                AdminInboxState.messages,
                                lambda m: rx.el.li(
                                    rx.el.p(m["body"], class_name="inbox-body"),
                                    rx.el.span(m["at"], class_name="small muted"),
                                    class_name=rx.cond(m["mine"] != "", "inbox-msg inbox-mine", "inbox-msg inbox-theirs"),
                                ),
                            ),
                            class_name="inbox-messages",
                        ),
                        rx.el.form(
                            rx.el.label(t("Answer"), html_for="f-admin-answer", class_name="sr-only"),
                            rx.el.textarea(
                                id="f-admin-answer",
                                name="body",
                                rows="4",
                                max_length=2000,
                                required=True,
                                class_name="input",
                                placeholder=t("Write an answer"),
                            ),
                            rx.el.button(t("Send answer"), type="submit", class_name="btn", data_testid="admin-answer"),
                            on_submit=AdminInboxState.answer,
                            reset_on_submit=True,
                            class_name="inbox-reply",
                        ),
                    ),
                    rx.el.p(t("Choose a conversation."), class_name="muted"),
                ),
                class_name="card",
            ),
            class_name="admin-grid-2",
        ),
    )
