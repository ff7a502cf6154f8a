"""Merchant console, fraud view: /m/<slug>/admin-fraud. Flags from the till (velocity limit, a
cashier's own account), many accounts behind one IP or one mailbox, self-referral attempts, and
members whose spending is on hold; resolve a flag or put spending on hold, each with a reason."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t, translate
from loyalty_app.services.insight import fraud
from loyalty_app.state.forms import current_language, form_id, run_service, translated
from loyalty_app.state.session import SessionState

FLAG_KINDS = {
    "velocity": N_("Too many credits in an hour"),
    "own_account": N_("Cashier tried their own member account"),
    "self_referral": N_("Self-referral attempt"),
}


class FraudState(rx.State):
    flags: list[dict[str, str]] = []
    shared_ips: list[dict[str, str]] = []
    shared_mailboxes: list[dict[str, str]] = []
    self_referrals: list[dict[str, str]] = []
    suspended: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        ran = await run_service(self, fraud.fraud_overview)
        if ran is None:
            return
        _actor, o = ran
        lang, tz = await current_language(self), session._merchant_tz
        self.flags = [
            {
                "id": str(f.flag_id),
                "kind": translate(lang, FLAG_KINDS.get(f.kind, f.kind)),
                "at": format_datetime(lang, f.at, tz, "short"),
                "member": f.member,
                "member_id": str(f.member_id or ""),
                "staff": f.staff,
                "store": f.store,
                "detail": ", ".join(f"{k}: {v}" for k, v in f.detail.items() if v not in (None, "")),
                "resolved": "1" if f.resolved else "",
                "note": f.note,
            }
            for f in o.flags
        ]
        self.shared_ips = [{"key": c.key, "members": ", ".join(label for _i, label in c.members)} for c in o.shared_ips]
        self.shared_mailboxes = [
            {"key": c.key, "members": ", ".join(label for _i, label in c.members)} for c in o.shared_mailboxes
        ]
        self.self_referrals = [
            {"at": format_datetime(lang, at, tz, "short"), "member": m, "reason": r} for at, m, r in o.self_referrals
        ]
        self.suspended = [
            {
                "id": str(r.account_id),
                "member": r.member,
                "since": format_datetime(lang, r.since, tz, "short"),
                "reason": r.reason,
            }
            for r in o.suspended
        ]
        self.error, self.loaded = "", True

    async def _act(self, fn, notice: str, **kwargs) -> None:
        self.error = self.notice = ""
        if await run_service(self, fn, **kwargs) is None:
            return
        self.notice = await translated(self, notice)
        await self.load()

    @rx.event
    async def resolve(self, form: dict):
        flag_id = str(form.get("flag_id", ""))
        await self._act(fraud.resolve_flag, N_("Flag resolved."), flag_id=form_id(flag_id) or 0, note=str(form.get("note", "")))

    @rx.event
    async def hold(self, form: dict):
        member_id = str(form.get("member_id", ""))
        await self._act(
            fraud.set_spending_hold,
            N_("Spending is on hold for this member."),
            account_id=form_id(member_id) or 0,
            hold=True,
            reason=str(form.get("reason", "")),
        )

    @rx.event
    async def restore(self, member_id: str):
        await self._act(fraud.set_spending_hold, N_("Spending restored."), account_id=form_id(member_id) or 0, hold=False)


def _flag(f: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.p(rx.el.strong(f["kind"]), " · ", f["at"], class_name="fraud-head"),
            rx.el.p(
                t("Member"),
                ": ",
                f["member"],
                rx.cond(f["staff"] != "", rx.fragment(" · ", t("Staff"), ": ", f["staff"])),
                rx.cond(f["store"] != "", rx.fragment(" · ", f["store"])),
                class_name="small",
            ),
            rx.cond(f["detail"] != "", rx.el.p(f["detail"], class_name="small muted")),
            rx.cond(
                f["resolved"] != "",
                rx.el.p(
                    rx.icon("check", size=14, aria_hidden="true"),
                    t("Resolved"),
                    ": ",
                    f["note"],
                    class_name="small fraud-resolved",
                ),
                rx.el.form(
                    rx.el.input(type="hidden", name="flag_id", value=f["id"]),
                    rx.el.label(t("Note"), html_for="fraud-note-" + f["id"], class_name="sr-only"),
                    rx.el.input(
                        name="note",
                        id="fraud-note-" + f["id"],
                        placeholder=t("What you checked"),
                        class_name="input",
                        max_length=300,
                        required=True,
                    ),
                    rx.el.button(t("Resolve"), type="submit", class_name="btn btn-secondary"),
                    on_submit=FraudState.resolve,
                    reset_on_submit=True,
                    class_name="fraud-form",
                ),
            ),
            rx.cond(
                (f["member_id"] != "") & (f["resolved"] == ""),
                rx.el.form(
                    rx.el.input(type="hidden", name="member_id", value=f["member_id"]),
                    rx.el.label(t("Reason to put spending on hold"), html_for="fraud-hold-" + f["id"], class_name="sr-only"),
                    rx.el.input(
                        name="reason",
                        id="fraud-hold-" + f["id"],
                        placeholder=t("Reason to put spending on hold"),
                        class_name="input",
                        max_length=300,
                        required=True,
                    ),
                    rx.el.button(t("Hold spending"), type="submit", class_name="btn btn-danger"),
                    on_submit=FraudState.hold,
                    reset_on_submit=True,
                    class_name="fraud-form",
                ),
            ),
        ),
        class_name=rx.cond(f["resolved"] != "", "fraud-item fraud-item-done", "fraud-item"),
        data_testid="fraud-flag",
    )


def _cluster_list(title: rx.Var, rows: rx.Var, empty: rx.Var) -> rx.Component:
    return rx.el.section(
        rx.el.h2(title),
        rx.cond(
            rows.length() > 0,
            rx.el.ul(rx.foreach(rows, lambda c: rx.el.li(rx.el.code(c["key"]), " — ", c["members"])), class_name="list"),
            rx.el.p(empty, class_name="muted"),
        ),
        class_name="card",
    )


def fraud_page() -> rx.Component:
    return admin_frame(
        t("Fraud"),
        "admin-fraud",
        error_alert(FraudState.error),
        rx.cond(FraudState.notice != "", rx.el.div(FraudState.notice, class_name="alert alert-success", role="status")),
        rx.el.section(
            rx.el.h2(t("Flags")),
            rx.cond(
                FraudState.flags.length() > 0,
                rx.el.ul(rx.foreach(FraudState.flags, _flag), class_name="fraud-list"),
                rx.el.p(
                    t("Nothing flagged. The till flags too many credits per hour and cashiers serving themselves."),
                    class_name="muted",
                ),
            ),
            class_name="card",
        ),
        rx.el.div(
            _cluster_list(t("Several accounts from one IP address (30 days)"), FraudState.shared_ips, t("None found.")),
            _cluster_list(t("Several accounts on one mailbox"), FraudState.shared_mailboxes, t("None found.")),
            class_name="admin-grid-2",
        ),
        rx.el.section(
            rx.el.h2(t("Self-referral attempts (30 days)")),
            rx.cond(
                FraudState.self_referrals.length() > 0,
                rx.el.ul(
                    rx.foreach(FraudState.self_referrals, lambda r: rx.el.li(r["at"], " — ", r["member"])), class_name="list"
                ),
                rx.el.p(t("None found."), class_name="muted"),
            ),
            class_name="card",
        ),
        rx.el.section(
            rx.el.h2(t("Spending on hold")),
            rx.cond(
                FraudState.suspended.length() > 0,
                rx.el.ul(
                    rx.foreach(
                        FraudState.suspended,
                        lambda r: rx.el.li(
                            rx.el.span(rx.el.strong(r["member"]), " · ", r["since"], " · ", r["reason"]),
                            rx.el.button(
                                t("Restore spending"),
                                type="button",
                                class_name="btn btn-secondary",
                                on_click=FraudState.restore(r["id"]),
                            ),
                            class_name="fraud-held",
                        ),
                    ),
                    class_name="list",
                ),
                rx.el.p(t("No member is on hold."), class_name="muted"),
            ),
            class_name="card",
            data_testid="fraud-suspended",
        ),
    )
