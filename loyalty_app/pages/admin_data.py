"""Merchant console, data: /m/<slug>/admin-data. CSV exports (members with only consented
fields, ledger, redemptions, donations) and the audit log of admin actions."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t
from loyalty_app.services.platform import admin_audit
from loyalty_app.state.forms import current_language, run_service
from loyalty_app.state.session import SessionState

EXPORTS = (
    (
        "members",
        "users",
        N_("Members"),
        N_("Member number, first name, tier and points; name and email only for members who agreed to emails."),
    ),
    ("ledger", "list", N_("Ledger"), N_("Every points entry with its reason, store and author.")),
    ("redemptions", "ticket", N_("Redemptions"), N_("Vouchers with reward, status and store (codes masked).")),
    ("donations", "heart-handshake", N_("Donations"), N_("Points given to each charity.")),
)


class DataState(rx.State):
    audit: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        ran = await run_service(self, admin_audit.recent)
        if ran is None:
            return
        _actor, rows = ran
        lang = await current_language(self)
        self.audit = [
            {
                "at": format_datetime(lang, r.at, session._merchant_tz, "short"),
                "who": r.who,
                "action": r.action,
                "target": r.target,
            }
            for r in rows
        ]
        self.error = ""


def _export_tile(kind: str, icon: str, title: str, text: str) -> rx.Component:
    return rx.el.a(
        rx.icon(icon, size=22, aria_hidden="true"),
        rx.el.span(rx.el.strong(t(title)), rx.el.span(t(text), class_name="small muted"), class_name="export-text"),
        rx.icon("download", size=18, aria_hidden="true"),
        href=f"/m/{SessionState.merchant_slug}/admin-export/{kind}.csv",
        download=True,
        reload_document=True,
        class_name="export-tile",
        data_testid=f"export-{kind}",
    )


def data_page() -> rx.Component:
    return admin_frame(
        t("Data & exports"),
        "admin-data",
        error_alert(DataState.error),
        rx.el.section(
            rx.el.h2(t("CSV exports")),
            rx.el.div(*[_export_tile(*e) for e in EXPORTS], class_name="export-grid"),
            class_name="card",
        ),
        rx.el.section(
            rx.el.h2(t("Audit log")),
            rx.cond(
                DataState.audit.length() > 0,
                rx.el.table(
                    rx.el.thead(rx.el.tr(rx.el.th(t("When")), rx.el.th(t("Who")), rx.el.th(t("Action")), rx.el.th(t("On")))),
                    rx.el.tbody(
                        rx.foreach(
                            DataState.audit,
                            lambda r: rx.el.tr(
                                rx.el.td(r["at"]), rx.el.td(r["who"]), rx.el.td(rx.el.code(r["action"])), rx.el.td(r["target"])
                            ),
                        )
                    ),
                    class_name="admin-table",
                    data_testid="audit-log",
                ),
                rx.el.p(t("No admin actions yet."), class_name="muted"),
            ),
            class_name="card",
        ),
    )
