"""Merchant console, CRM webhooks: /m/<slug>/admin-webhooks.

Add, edit and switch off endpoints (address, events), reveal or rotate the signing secret, send
a test event, and follow the last deliveries (status, attempts, next retry) with "retry now" for
the ones that gave up. Every handler checks the admin through ``SessionState._require_actor`` and
the service checks again; every change is in the admin audit log (services/crm/webhooks/endpoints.py).
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t, translate
from loyalty_app.services.crm import webhooks
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import current_language, error_message, off_loop, run_service, translated
from loyalty_app.state.session import SessionState, require_actor

STATUS_LABELS = {"pending": N_("Waiting"), "delivered": N_("Delivered"), "failed": N_("Failed")}
STATUS_CLASSES = {
    "pending": "pc-status pc-status-scheduled",
    "delivered": "pc-status pc-status-active",
    "failed": "pc-status pc-status-retired",
}
FIX_FIELDS = N_("Some fields need a fix: see the messages below.")
SAVED = N_("Webhook saved.")
CREATED = N_("Webhook added. Copy its secret into your CRM now: it checks every signature with it.")
ROTATED = N_("New secret made. Events are signed with it from now on: update your CRM.")
TEST_DELIVERED = N_("Test event delivered (HTTP {code}).")
TEST_NOT_DELIVERED = N_("The test event was not delivered ({error}). It will be retried.")
DELIVERED_NOW = N_("Delivered (HTTP {code}).")
NOT_DELIVERED_NOW = N_("Not delivered ({error}).")
TURNED_ON = N_("Webhook on.")
TURNED_OFF = N_("Webhook off: no more events are queued for it.")


def _int(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else 0


def _retry_now(engine, actor, delivery_id: int) -> int:
    """Queue one more attempt of this delivery; its id is the one to send."""
    webhooks.retry_now(engine, actor, delivery_id)
    return delivery_id


BLANK_VALUES = {"url": "", "description": ""}


class WebhooksState(rx.State):
    endpoints: list[dict[str, str]] = []
    deliveries: list[dict[str, str]] = []
    values: dict[str, str] = dict(BLANK_VALUES)
    chosen: list[str] = list(webhooks.WEBHOOK_EVENTS)
    active_checked: bool = True
    errors: dict[str, str] = {}
    editing: str = ""  # the edited endpoint's address; "" = a new one
    form_key: int = 0
    secret: str = ""  # shown only after "reveal"/"rotate"/creation, until hidden
    secret_for: str = ""
    notice: str = ""
    error: str = ""
    busy: bool = False
    loaded: bool = False
    _editing_id: int = 0

    async def _actor(self):
        return await self.get_state(SessionState), await require_actor(self, Action.ADMIN_EXPORT)

    def _form_is_new(self) -> bool:
        return (
            self.values == BLANK_VALUES
            and self.chosen == list(webhooks.WEBHOOK_EVENTS)
            and self.active_checked
            and not self.errors
            and not self.editing
        )

    def _reset_form(self) -> None:
        self.values, self.chosen, self.active_checked = dict(BLANK_VALUES), list(webhooks.WEBHOOK_EVENTS), True
        self.errors, self.editing, self._editing_id = {}, "", 0
        self.form_key += 1

    async def _refresh(self, session: SessionState, actor) -> None:
        engine = get_engine()
        endpoints = await off_loop(webhooks.list_endpoints, engine, actor)
        deliveries = await off_loop(webhooks.recent_deliveries, engine, actor)
        lang, tz = await current_language(self), session._merchant_tz
        self.endpoints = [
            {
                "id": str(e.endpoint_id),
                "url": e.url,
                "description": e.description,
                "events": ", ".join(e.events),
                "active": "1" if e.is_active else "",
            }
            for e in endpoints
        ]
        self.deliveries = [
            {
                "id": str(d.delivery_id),
                "at": format_datetime(lang, d.created_at, tz, "short"),
                "event": d.event_type,
                "url": d.endpoint_url,
                "status": translate(lang, STATUS_LABELS.get(d.status, d.status)),
                "status_class": STATUS_CLASSES.get(d.status, "pc-status"),
                "attempts": str(d.attempts),
                "next": format_datetime(lang, d.next_attempt_at, tz, "short") if d.next_attempt_at else "",
                "code": str(d.last_status_code or ""),
                "last_error": failure_text(lang, d.last_error),
                "can_retry": "1" if d.status != "delivered" else "",
            }
            for d in deliveries
        ]
        self.loaded = True

    async def _run(self, fn, *args, notice: str = "", **kwargs):
        """Check the admin, call the service off the loop, refresh; refusals shown translated."""
        self.error = self.notice = ""
        try:
            session, actor = await self._actor()
            result = await off_loop(fn, get_engine(), actor, *args, **kwargs)
            await self._refresh(session, actor)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return None
        if notice:
            self.notice = await translated(self, notice)
        return result

    async def _show_outcome(self, report, delivered_msg: str, not_delivered_msg: str) -> None:
        """The one attempt just made: delivered (with the HTTP code) or why not."""
        _id, status, code, error = report.results[0] if report.results else (0, "pending", None, "")
        if status == "delivered":
            self.notice = await translated(self, delivered_msg, code=code)
        else:
            reason = failure_text(await current_language(self), error) or (f"HTTP {code}" if code else "…")
            self.error = await translated(self, not_delivered_msg, error=reason)
        self.busy = False

    @rx.event
    async def load(self):
        self.secret = self.secret_for = self.notice = self.error = ""
        if not self._form_is_new():  # a blank form stays mounted: what the admin already typed is kept
            self._reset_form()
        try:
            session, actor = await self._actor()
            await self._refresh(session, actor)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)

    @rx.event
    def new_endpoint(self):
        self.notice = self.error = ""
        self._reset_form()

    @rx.event
    async def edit(self, endpoint_id: str):
        self.notice = self.error = ""
        ran = await run_service(self, webhooks.list_endpoints, action=Action.ADMIN_EXPORT)
        if ran is None:
            return
        _actor, endpoints = ran
        found = next((e for e in endpoints if e.endpoint_id == _int(endpoint_id)), None)
        if found is None:
            self.error = await translated(self, N_("Webhook not found."))
            return
        self.values = {"url": found.url, "description": found.description}
        self.chosen, self.active_checked = list(found.events), found.is_active
        self.errors, self.editing, self._editing_id = {}, found.url, found.endpoint_id
        self.form_key += 1

    @rx.event
    async def save(self, form: dict[str, Any]):
        if self.busy:
            return
        self.busy, self.notice, self.error = True, "", ""
        yield
        data = {str(k): v for k, v in (form or {}).items()}
        data.setdefault("is_active", "")  # an unticked checkbox is not in the form at all
        try:
            session, actor = await self._actor()
            view, secret = await off_loop(webhooks.save_endpoint, get_engine(), actor, data, endpoint_id=self._editing_id or None)
            await self._refresh(session, actor)
        except webhooks.WebhookFormInvalid as err:
            lang = await current_language(self)
            self.errors = {name: translate(lang, e.message, **e.params) for name, e in err.errors.items()}
            self.values = {"url": str(data.get("url", "") or ""), "description": str(data.get("description", "") or "")}
            self.error, self.busy = translate(lang, FIX_FIELDS), False
            return
        except Exception as err:  # noqa: BLE001
            self.error, self.busy = await error_message(self, err), False
            return
        self._reset_form()
        if secret:
            self.secret, self.secret_for = secret, view.url
        self.notice = await translated(self, CREATED if secret else SAVED)
        self.busy = False

    @rx.event
    async def toggle_active(self, endpoint_id: str, active: bool):
        await self._run(webhooks.set_active, _int(endpoint_id), bool(active), notice=TURNED_ON if active else TURNED_OFF)

    @rx.event
    async def reveal(self, endpoint_id: str):
        self.secret = self.secret_for = ""
        secret = await self._run(webhooks.reveal_secret, _int(endpoint_id))
        if secret:
            self.secret, self.secret_for = secret, next((e["url"] for e in self.endpoints if e["id"] == str(endpoint_id)), "")

    @rx.event
    async def rotate(self, endpoint_id: str):
        self.secret = self.secret_for = ""
        secret = await self._run(webhooks.rotate_secret, _int(endpoint_id), notice=ROTATED)
        if secret:
            self.secret, self.secret_for = secret, next((e["url"] for e in self.endpoints if e["id"] == str(endpoint_id)), "")

    @rx.event
    def hide_secret(self):
        self.secret = self.secret_for = ""

    async def _attempt_now(self, queue, target_id: str, delivered_msg: str, not_delivered_msg: str):
        """Queue one attempt (a test event, or a retry of a delivery) and send it at once; the
        services check the endpoint or delivery belongs to this admin's merchant."""
        if self.busy:
            return
        self.busy, self.notice, self.error = True, "", ""
        yield
        try:
            session, actor = await self._actor()
            engine = get_engine()
            delivery_id = await off_loop(queue, engine, actor, _int(target_id))
            report = await off_loop(webhooks.deliver_due, engine, delivery_id=delivery_id, limit=1)
            await self._refresh(session, actor)
        except Exception as err:  # noqa: BLE001
            self.error, self.busy = await error_message(self, err), False
            return
        await self._show_outcome(report, delivered_msg, not_delivered_msg)

    @rx.event
    async def send_test(self, endpoint_id: str):
        async for update in self._attempt_now(webhooks.send_test_event, endpoint_id, TEST_DELIVERED, TEST_NOT_DELIVERED):
            yield update

    @rx.event
    async def retry(self, delivery_id: str):
        """One more attempt now, shown at once."""
        async for update in self._attempt_now(_retry_now, delivery_id, DELIVERED_NOW, NOT_DELIVERED_NOW):
            yield update


def failure_text(lang: str, error: str) -> str:
    """A delivery's stored failure (English) in the admin's language."""
    parts = webhooks.failure_parts(error)
    return translate(lang, parts[0], **parts[1]) if parts else error


# =============================================================================== rendering

S = WebhooksState


def _error_for(name: str) -> rx.Component:
    return rx.cond(
        S.errors.contains(name),
        rx.el.p(
            rx.icon("circle-alert", size=14, aria_hidden="true"),
            S.errors[name],
            id=f"we-{name}",
            class_name="pc-field-error",
            data_testid=f"field-error-{name}",
        ),
    )


def _invalid(name: str) -> dict:
    return {"aria_invalid": rx.cond(S.errors.contains(name), "true", "false"), "aria_describedby": f"we-{name}"}


def _text(name: str, label: str, *, max_length: int, placeholder: str = "", help_: str = "", inputmode: str = "") -> rx.Component:
    return rx.el.div(
        rx.el.label(t(label), html_for=f"wf-{name}"),
        rx.el.input(
            id=f"wf-{name}",
            name=name,
            type="text",
            default_value=S.values[name],
            class_name="input",
            max_length=max_length,
            placeholder=placeholder or None,
            input_mode=inputmode or None,
            auto_complete="off",
            **_invalid(name),
        ),
        rx.el.p(t(help_), class_name="pc-help") if help_ else rx.fragment(),
        _error_for(name),
        class_name=rx.cond(S.errors.contains(name), "field pc-field pc-field-bad", "field pc-field"),
    )


def _events_field() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(t("Events to send")),
        rx.el.div(
            *[
                rx.el.label(
                    rx.el.input(
                        type="checkbox", name=f"event:{event}", default_checked=S.chosen.contains(event), class_name="pc-check"
                    ),
                    rx.el.span(t(label), " ", rx.el.code(event, class_name="small muted")),
                    class_name="pc-check-label",
                )
                for event, label in webhooks.EVENT_LABELS.items()
            ],
            class_name="pc-checks",
        ),
        _error_for("events"),
        class_name=rx.cond(S.errors.contains("events"), "pc-fieldset pc-field-bad", "pc-fieldset"),
    )


def _form() -> rx.Component:
    return rx.el.section(
        rx.el.h2(rx.cond(S.editing != "", t("Edit webhook"), t("Add a webhook"))),
        rx.el.form(
            _text(
                "url",
                N_("Address"),
                max_length=webhooks.URL_MAX,
                placeholder="https://crm.example.com/hooks/loyalty",
                inputmode="url",
                help_=N_("Your CRM's https:// address. We POST each event to it as signed JSON."),
            ),
            _text("description", N_("Description"), max_length=webhooks.DESCRIPTION_MAX),
            _events_field(),
            rx.el.div(
                rx.el.label(
                    rx.el.input(type="checkbox", name="is_active", default_checked=S.active_checked, class_name="pc-check"),
                    rx.el.span(t("Active")),
                    class_name="pc-check-label",
                ),
                class_name="field",
            ),
            rx.el.div(
                rx.el.button(t("Save"), type="submit", class_name="btn", disabled=S.busy, data_testid="webhook-save"),
                rx.cond(
                    S.editing != "", rx.el.button(t("Cancel"), type="button", class_name="btn btn-ghost", on_click=S.new_endpoint)
                ),
                class_name="pc-actions",
            ),
            key=S.form_key,
            on_submit=S.save,
            class_name="pc-form",
            data_testid="webhook-form",
        ),
        class_name="card",
    )


def _secret_panel() -> rx.Component:
    return rx.cond(
        S.secret != "",
        rx.el.section(
            rx.el.h2(t("Signing secret")),
            rx.el.p(S.secret_for, class_name="small muted"),
            rx.el.p(rx.el.code(S.secret, data_testid="webhook-secret"), style={"wordBreak": "break-all"}),
            rx.el.p(
                t("Your CRM checks each event's X-Loyalty-Signature with this secret. Keep it private."), class_name="pc-help"
            ),
            rx.el.button(t("Hide"), type="button", class_name="btn btn-secondary pc-small-btn", on_click=S.hide_secret),
            class_name="card",
        ),
    )


def _endpoint_row(e: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.p(
                rx.el.span(e["url"], class_name="pc-row-name", style={"wordBreak": "break-all"}),
                rx.cond(
                    e["active"] != "",
                    rx.el.span(t("Active"), class_name="pc-status pc-status-active"),
                    rx.el.span(t("Turned off"), class_name="pc-status pc-status-ended"),
                ),
                class_name="pc-row-head",
            ),
            rx.cond(e["description"] != "", rx.el.p(e["description"], class_name="pc-row-facts")),
            rx.el.p(rx.el.code(e["events"]), class_name="pc-row-facts"),
            rx.el.div(
                rx.el.button(t("Edit"), type="button", class_name="btn btn-secondary pc-small-btn", on_click=S.edit(e["id"])),
                rx.cond(
                    e["active"] != "",
                    rx.el.button(
                        t("Turn off"),
                        type="button",
                        class_name="btn btn-secondary pc-small-btn",
                        on_click=S.toggle_active(e["id"], False),
                    ),
                    rx.el.button(
                        t("Turn on"),
                        type="button",
                        class_name="btn btn-secondary pc-small-btn",
                        on_click=S.toggle_active(e["id"], True),
                    ),
                ),
                rx.el.button(
                    t("Send test event"),
                    type="button",
                    class_name="btn btn-secondary pc-small-btn",
                    on_click=S.send_test(e["id"]),
                    disabled=S.busy | (e["active"] == ""),
                    data_testid="webhook-test",
                ),
                rx.el.button(
                    t("Show secret"), type="button", class_name="btn btn-ghost pc-small-btn", on_click=S.reveal(e["id"])
                ),
                rx.el.button(t("New secret"), type="button", class_name="btn btn-ghost pc-small-btn", on_click=S.rotate(e["id"])),
                class_name="pc-actions",
            ),
            class_name="pc-row-text",
        ),
        class_name="pc-row",
        data_testid="webhook-endpoint",
    )


def _deliveries() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Last deliveries")),
        rx.cond(
            S.deliveries.length() > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(t("When")),
                            rx.el.th(t("Event")),
                            rx.el.th(t("Status")),
                            rx.el.th(t("Attempts")),
                            rx.el.th(t("Next try")),
                            rx.el.th(t("Last answer")),
                            rx.el.th(""),
                        )
                    ),
                    rx.el.tbody(
                        rx.foreach(
                            S.deliveries,
                            lambda d: rx.el.tr(
                                rx.el.td(d["at"]),
                                rx.el.td(
                                    rx.el.code(d["event"]),
                                    rx.el.br(),
                                    rx.el.span(d["url"], class_name="small muted", style={"wordBreak": "break-all"}),
                                ),
                                rx.el.td(rx.el.span(d["status"], class_name=d["status_class"])),
                                rx.el.td(d["attempts"]),
                                rx.el.td(d["next"]),
                                rx.el.td(
                                    d["code"],
                                    rx.cond(d["last_error"] != "", rx.el.span(" ", d["last_error"], class_name="small muted")),
                                ),
                                rx.el.td(
                                    rx.cond(
                                        d["can_retry"] != "",
                                        rx.el.button(
                                            t("Retry now"),
                                            type="button",
                                            class_name="btn btn-secondary pc-small-btn",
                                            on_click=S.retry(d["id"]),
                                        ),
                                    )
                                ),
                                data_testid="webhook-delivery",
                            ),
                        )
                    ),
                    class_name="admin-table",
                ),
                style={"overflowX": "auto"},
            ),
            rx.el.p(t("No events sent yet."), class_name="muted"),
        ),
        class_name="card",
    )


def webhooks_page() -> rx.Component:
    return admin_frame(
        t("Webhooks"),
        "admin-webhooks",
        error_alert(S.error),
        rx.cond(S.notice != "", rx.el.div(S.notice, class_name="alert alert-success", role="status")),
        _secret_panel(),
        rx.el.div(
            rx.el.section(
                rx.el.h2(t("Your webhooks")),
                rx.cond(
                    S.endpoints.length() > 0,
                    rx.el.ul(rx.foreach(S.endpoints, _endpoint_row), class_name="pc-list"),
                    rx.el.p(
                        t(
                            "No webhook yet. Add your CRM's address to receive members, points, vouchers and consent changes as they happen."
                        ),
                        class_name="muted",
                    ),
                ),
                rx.cond(
                    S.editing != "",
                    rx.el.button(
                        t("Add a webhook"), type="button", class_name="btn btn-secondary pc-small-btn", on_click=S.new_endpoint
                    ),
                ),
                class_name="card",
            ),
            _form(),
            class_name="pc-layout",
        ),
        _deliveries(),
    )
