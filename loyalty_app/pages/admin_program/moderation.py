"""The program editor's moderation tab: ModerationState lists the members' reviews and the social
posts and contest photos waiting for review, and hides/shows a review or approves/rejects a
submission; the view renders both lists with those actions."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_datetime, t
from loyalty_app.pages.admin_program.widgets import item_list, muted, small_button, success_notice
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.services.program import program_console as pc
from loyalty_app.state.forms import current_language, error_message, off_loop, run_service, translated
from loyalty_app.state.session import SessionState, require_actor

REVIEW_HIDDEN = N_("Review hidden.")
REVIEW_SHOWN = N_("Review shown again.")
APPROVED = N_("Approved: the member got the points.")
REJECTED = N_("Rejected. The member sees your reason.")


class ModerationState(rx.State):
    reviews: list[dict[str, str]] = []
    submissions: list[dict[str, str]] = []
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            actor = await require_actor(self, Action.ADMIN_MODERATE)
            reviews = await off_loop(pc.list_reviews, get_engine(), actor)
            pending = await off_loop(pc.list_submissions, get_engine(), actor)
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        lang, tz, slug = await current_language(self), session._merchant_tz, session.merchant_slug
        self.reviews = [
            {
                "id": str(r.rating_id),
                "reward": r.reward_name,
                "member": r.first_name,
                "stars": "★" * r.stars + "☆" * (5 - r.stars),
                "text": r.text,
                "when": format_datetime(lang, r.updated_at, tz, "short"),
                "hidden": "1" if r.hidden else "",
                "reason": r.hidden_reason,
            }
            for r in reviews
        ]
        self.submissions = [
            {
                "id": str(s.submission_id),
                "kind": s.kind,
                "url": s.url,
                "member": s.member,
                "photo": f"/m/{slug}/admin-media/submission/{s.submission_id}" if s.has_photo else "",
                "when": format_datetime(lang, s.created_at, tz, "short"),
            }
            for s in pending
        ]
        self.error = ""

    async def _act(self, fn, notice: str, *args) -> None:
        self.notice = self.error = ""
        if await run_service(self, fn, *args, action=Action.ADMIN_MODERATE) is None:
            return
        await self.load()
        self.notice = await translated(self, notice)

    @rx.event
    async def hide(self, form: dict[str, Any]):
        await self._act(pc.hide_review, REVIEW_HIDDEN, str(form.get("rating_id", "")), str(form.get("reason", "") or ""))

    @rx.event
    async def show(self, rating_id: str):
        await self._act(pc.show_review, REVIEW_SHOWN, str(rating_id))

    @rx.event
    async def approve(self, submission_id: str):
        await self._act(pc.review_submission, APPROVED, str(submission_id), True, "")

    @rx.event
    async def reject(self, form: dict[str, Any]):
        await self._act(
            pc.review_submission, REJECTED, str(form.get("submission_id", "")), False, str(form.get("reason", "") or "")
        )


def _reason(id_prefix: str, row_id: rx.Var, label: rx.Var) -> tuple[rx.Component, rx.Component]:
    """The (visually hidden) label and the input of the reason sent with "Hide" or "Reject"."""
    return (
        rx.el.label(label, html_for=id_prefix + row_id, class_name="sr-only"),
        rx.el.input(id=id_prefix + row_id, name="reason", class_name="input", max_length=300, placeholder=label),
    )


def review_item(r: rx.Var) -> rx.Component:
    reason_label, reason_input = _reason("pc-hide-", r["id"], t("Reason to hide"))
    return rx.el.li(
        rx.el.p(
            rx.el.span(r["reward"], class_name="pc-row-name"),
            " ",
            rx.el.span(r["stars"], class_name="pc-stars", aria_hidden="true"),
            class_name="pc-row-head",
        ),
        rx.el.p(r["member"], " · ", r["when"], class_name="pc-row-facts"),
        rx.el.blockquote(r["text"], class_name="pc-quote"),
        rx.cond(
            r["hidden"] != "",
            rx.el.div(
                rx.el.p(
                    rx.icon("eye-off", size=14, aria_hidden="true"),
                    t("Hidden: {reason}", reason=r["reason"]),
                    class_name="pc-hidden-note",
                ),
                small_button(t("Show again"), ModerationState.show(r["id"])),
                class_name="pc-inline",
            ),
            rx.el.form(
                rx.el.input(type="hidden", name="rating_id", value=r["id"]),
                reason_label,
                rx.el.div(
                    reason_input,
                    rx.el.button(t("Hide"), type="submit", class_name="btn btn-danger pc-small-btn"),
                    class_name="pc-inline",
                ),
                on_submit=ModerationState.hide,
                reset_on_submit=True,
            ),
        ),
        class_name="pc-change",
        data_testid="review-item",
    )


def submission_item(s: rx.Var) -> rx.Component:
    reason_label, reason_input = _reason("pc-reject-", s["id"], t("Reason to reject"))
    return rx.el.li(
        rx.el.p(
            rx.el.span(rx.cond(s["kind"] == "photo", t("Contest photo"), t("Social post")), class_name="pc-row-name"),
            class_name="pc-row-head",
        ),
        rx.el.p(s["member"], " · ", s["when"], class_name="pc-row-facts"),
        rx.cond(
            s["photo"] != "",
            rx.el.a(
                rx.el.img(src=s["photo"], alt=t("Contest photo"), class_name="pc-photo", loading="lazy"),
                href=s["photo"],
                target="_blank",
                rel="noopener",
            ),
        ),
        rx.cond(
            s["url"] != "",
            rx.el.p(rx.el.a(s["url"], href=s["url"], target="_blank", rel="noopener noreferrer nofollow"), class_name="pc-url"),
        ),
        rx.el.div(
            small_button(t("Approve"), ModerationState.approve(s["id"]), icon="check", style=""),
            rx.el.form(
                rx.el.input(type="hidden", name="submission_id", value=s["id"]),
                reason_label,
                reason_input,
                rx.el.button(t("Reject"), type="submit", class_name="btn btn-danger pc-small-btn"),
                on_submit=ModerationState.reject,
                reset_on_submit=True,
                class_name="pc-inline",
            ),
            class_name="pc-mod-actions",
        ),
        class_name="pc-change",
        data_testid="submission-item",
    )


def _moderation_list(title: rx.Var, items: rx.Var, render, empty: rx.Var) -> rx.Component:
    return rx.el.section(rx.el.h2(title, class_name="pc-h2"), item_list(items, render, muted(empty)), class_name="card")


def moderation_tab() -> rx.Component:
    return rx.fragment(
        error_alert(ModerationState.error),
        success_notice(ModerationState.notice),
        rx.el.div(
            _moderation_list(
                t("Posts and photos to review"), ModerationState.submissions, submission_item, t("Nothing waiting for review.")
            ),
            _moderation_list(t("Reviews"), ModerationState.reviews, review_item, t("No written reviews yet.")),
            class_name="admin-grid-2",
        ),
    )
