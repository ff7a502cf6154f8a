"""Messages: /m/<slug>/inbox — write to the shop (a question, a complaint, praise; optionally
about a store or one of your vouchers) and read its answers. ``?id=N`` opens one conversation."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.inbox import STATUS_LABELS, TOPIC_LABELS
from loyalty_app.components.shell import back_link, error_alert, field, member_frame, segmented
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t, translate
from loyalty_app.services.catalog import catalog_view
from loyalty_app.services.members import inbox
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import current_language, error_message, off_loop, route_id, run_service, translated
from loyalty_app.state.inbox_badge import InboxBadgeState  # noqa: F401  (re-exported for the app module)
from loyalty_app.state.live import reload_when_open
from loyalty_app.state.session import SessionState, current_actor, require_actor


class InboxState(rx.State):
    threads: list[dict[str, str]] = []
    thread: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    stores: list[dict[str, str]] = []
    vouchers: list[dict[str, str]] = []
    topic: str = "question"
    writing: bool = False
    error: str = ""
    notice: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        self.error = self.notice = ""
        session = await self.get_state(SessionState)
        if session.role != "member":
            return
        engine = get_engine()
        actor = await current_actor(self)
        try:
            await require_actor(self, Action.VIEW_OWN_MEMBER_DATA, own=True)
            threads = await off_loop(inbox.member_threads, engine, actor)
            own_vouchers = await off_loop(catalog_view.member_vouchers, engine, actor)
        except Exception as err:  # noqa: BLE001
            if session.signed_in:
                self.error = await error_message(self, err)
            return
        lang, tz = await current_language(self), session._merchant_tz
        self.stores = [{"id": str(i), "name": n} for i, n in await off_loop(inbox.store_choices, engine, actor)]
        self.vouchers = [{"id": str(v.voucher_id), "name": v.reward_name} for v in own_vouchers[:20]]
        self.threads = [self._row(th, lang, tz) for th in threads]
        opened = route_id(self, "id")
        current = next((th for th in threads if th.thread_id == opened), None)
        self.thread = self._row(current, lang, tz) if current else {}
        self.messages = [
            {"mine": "" if m.from_merchant else "1", "body": m.body, "at": format_datetime(lang, m.at, tz, "short")}
            for m in (current.messages if current else [])
        ]
        if current is not None and current.unread:
            await off_loop(inbox.mark_read, engine, actor, thread_id=current.thread_id)
        self.loaded = True

    @staticmethod
    def _row(th, lang: str, tz: str) -> dict[str, str]:
        return {
            "id": str(th.thread_id),
            "topic": translate(lang, TOPIC_LABELS[th.topic]),
            "topic_key": th.topic,
            "subject": th.subject,
            "status": translate(lang, STATUS_LABELS.get(th.status, th.status)),
            "unread": "1" if th.unread else "",
            "when": format_datetime(lang, th.updated_at, tz, "short"),
            "about": " · ".join(x for x in (th.store, th.voucher) if x),
            "last": th.messages[-1].body[:90] if th.messages else "",
        }

    @rx.event
    def compose(self):
        self.writing, self.error, self.notice = True, "", ""

    @rx.event
    def choose_topic(self, topic: str):
        if topic in TOPIC_LABELS:
            self.topic = topic

    @rx.event
    async def send(self, form: dict):
        self.error = ""
        session = await self.get_state(SessionState)
        store, voucher = str(form.get("store_id", "")), str(form.get("voucher_id", ""))
        ran = await run_service(
            self,
            inbox.start_thread,
            topic=self.topic,
            subject=str(form.get("subject", "")),
            body=str(form.get("body", "")),
            store_id=_form_id(store),
            voucher_id=_form_id(voucher),
        )
        if ran is None:
            return
        _actor, thread_id = ran
        self.writing = False
        return rx.redirect(f"/m/{session.merchant_slug}/inbox?id={thread_id}")

    @rx.event
    async def answer(self, form: dict):
        self.error = ""
        thread_id = int(self.thread.get("id", "0") or 0)
        if await run_service(self, inbox.reply, thread_id=thread_id, body=str(form.get("body", ""))) is None:
            return
        self.notice = await translated(self, N_("Sent. We will answer here."))
        await self.load()


# An answer pushed live (state/live.py) shows at once in an open conversation list.
reload_when_open("/inbox", InboxState, "load")


def _form_id(raw: str) -> int | None:
    """A row id picked in the form, or None: a tampered value ("²", 30 digits) is no id."""
    return int(raw) if raw.isdecimal() and len(raw) < 12 else None


def _thread_row(th: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.a(
            rx.el.span(class_name=rx.cond(th["unread"] != "", "inbox-dot inbox-dot-on", "inbox-dot"), aria_hidden="true"),
            rx.el.span(
                rx.el.span(th["topic"], " · ", th["when"], class_name="small muted"),
                rx.el.strong(th["subject"]),
                rx.el.span(th["last"], class_name="small muted inbox-last"),
                class_name="inbox-row-text",
            ),
            rx.cond(th["unread"] != "", rx.el.span(t("New"), class_name="badge-can")),
            href=f"/m/{SessionState.merchant_slug}/inbox?id=" + th["id"],
            class_name="inbox-row",
        ),
        data_testid="inbox-thread",
    )


def _compose() -> rx.Component:
    return rx.el.form(
        rx.el.fieldset(
            rx.el.legend(t("What is it about?")),
            segmented(
                [(key, t(label)) for key, label in TOPIC_LABELS.items()],
                InboxState.topic,
                InboxState.choose_topic,
                label=t("What is it about?"),
                test_prefix="topic",
            ),
            class_name="inbox-topics",
        ),
        field(t("Subject"), name="subject", max_length=120, autocomplete="off"),
        rx.el.div(
            rx.el.label(t("Store (optional)"), html_for="f-store_id"),
            rx.el.select(
                rx.el.option(t("No particular store"), value=""),
                rx.foreach(InboxState.stores, lambda s: rx.el.option(s["name"], value=s["id"])),
                id="f-store_id",
                name="store_id",
                class_name="select",
            ),
            class_name="field",
        ),
        rx.cond(
            InboxState.vouchers.length() > 0,
            rx.el.div(
                rx.el.label(t("Voucher (optional)"), html_for="f-voucher_id"),
                rx.el.select(
                    rx.el.option(t("No voucher"), value=""),
                    rx.foreach(InboxState.vouchers, lambda v: rx.el.option(v["name"], value=v["id"])),
                    id="f-voucher_id",
                    name="voucher_id",
                    class_name="select",
                ),
                class_name="field",
            ),
        ),
        rx.el.div(
            rx.el.label(t("Your message"), html_for="f-body"),
            rx.el.textarea(id="f-body", name="body", rows="5", max_length=2000, required=True, class_name="input"),
            class_name="field",
        ),
        rx.el.button(t("Send"), type="submit", class_name="btn btn-block", data_testid="inbox-send"),
        on_submit=InboxState.send,
        class_name="card",
    )


def _conversation() -> rx.Component:
    return rx.fragment(
        back_link(t("Messages"), "inbox", "back-inbox"),
        rx.el.h1(InboxState.thread["subject"], class_name="act-title"),
        rx.el.p(
            InboxState.thread["topic"],
            rx.cond(InboxState.thread["about"] != "", " · " + InboxState.thread["about"], ""),
            class_name="muted",
        ),
        rx.el.ol(
            rx.foreach(
                InboxState.messages,
                lambda m: rx.el.li(
                    rx.el.p(m["body"], class_name="inbox-body"),
                    rx.el.span(
                        rx.cond(m["mine"] != "", t("You"), SessionState.merchant_short_name),
                        " · ",
                        m["at"],
                        class_name="small muted",
                    ),
                    class_name=rx.cond(m["mine"] != "", "inbox-msg inbox-mine", "inbox-msg inbox-theirs"),
                    data_testid="inbox-message",
                ),
            ),
            class_name="inbox-messages",
        ),
        rx.el.form(
            rx.el.label(t("Reply"), html_for="f-reply", class_name="sr-only"),
            rx.el.textarea(
                id="f-reply",
                name="body",
                rows="3",
                max_length=2000,
                required=True,
                class_name="input",
                placeholder=t("Write a reply"),
            ),
            rx.el.button(t("Send"), type="submit", class_name="btn", data_testid="inbox-reply"),
            on_submit=InboxState.answer,
            reset_on_submit=True,
            class_name="inbox-reply",
        ),
    )


def inbox_page() -> rx.Component:
    return member_frame(
        error_alert(InboxState.error),
        rx.cond(InboxState.notice != "", rx.el.div(InboxState.notice, class_name="alert alert-success", role="status")),
        rx.cond(
            InboxState.thread.contains("id"),
            _conversation(),
            rx.fragment(
                back_link(t("Home"), "home", "back-home"),
                rx.el.h1(t("Messages"), class_name="act-title"),
                rx.el.p(t("Ask a question, tell us what went wrong, or what you loved. We answer here."), class_name="muted"),
                rx.cond(
                    InboxState.writing,
                    _compose(),
                    rx.el.button(
                        rx.icon("pencil", size=18, aria_hidden="true"),
                        t("Write to us"),
                        type="button",
                        class_name="btn btn-block",
                        on_click=InboxState.compose,
                        data_testid="inbox-compose",
                    ),
                ),
                rx.cond(
                    InboxState.threads.length() > 0,
                    rx.el.ul(rx.foreach(InboxState.threads, _thread_row), class_name="inbox-list"),
                    rx.cond(InboxState.loaded, rx.el.p(t("No messages yet."), class_name="empty")),
                ),
            ),
        ),
        active="home",
    )
