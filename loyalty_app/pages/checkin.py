"""Check-in: /m/<slug>/checkin?s=<token> — where a store poster's QR lands.

The page guard sends a signed-out member to sign-in and back here (the query string is kept).
On load, ``services.store.checkins.check_in`` verifies the signed store token and records the
check-in once per store and day; the page then shows what it gave: points, bonus points,
new badges, a tier reached, and the progress of the challenges that count check-ins.
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.cockpit import progress_bar
from loyalty_app.components.shell import member_frame
from loyalty_app.i18n import localized_number, t, tn, translate
from loyalty_app.services.store import checkins
from loyalty_app.state.forms import current_language, run_service
from loyalty_app.state.session import SessionState


class CheckinState(rx.State):
    """The outcome of this visit's check-in (display values only)."""

    status: str = ""  # "" while checking | "done" | "already" | "error"
    store_name: str = ""
    points: int = 0
    bonus_points: int = 0
    available: int = 0
    reason: str = ""
    error: str = ""
    tier_reached: str = ""
    badges: list[dict[str, str]] = []
    challenges: list[dict[str, str]] = []

    def _reset(self) -> None:
        self.status, self.store_name, self.reason, self.error, self.tier_reached = "", "", "", "", ""
        self.points = self.bonus_points = self.available = 0
        self.badges, self.challenges = [], []

    @rx.event
    async def load(self):
        """on_load (after the member guard): check in with the poster's token."""
        self._reset()
        session = await self.get_state(SessionState)
        if not session.signed_in or session.role != "member":
            return  # the guard is redirecting (sign-in, or the staff/admin home)
        token = str(self.router.page.params.get("s", "") or "")
        ran = await run_service(self, checkins.check_in, token=token, ip=self.router.session.client_ip or "")
        if ran is None:
            self.status = "error"
            return
        _actor, result = ran
        lang = await current_language(self)
        self.store_name = result.store_name
        self.points = result.points
        self.bonus_points = result.bonus_points
        self.available = result.available
        self.reason = translate(lang, result.reason, **result.reason_params) if result.reason else ""
        change = result.tier_change
        self.tier_reached = (change.to_name or "") if change is not None and change.upgraded else ""
        self.badges = [{"name": b.name, "icon": b.icon or "award"} for b in result.badges]
        done = {c.key for c in result.challenges_completed}
        self.challenges = [
            {
                "name": c.name,
                "progress": f"{c.count}/{c.target}",
                "pct": str(c.pct),
                "done": "1" if c.completed else "",
                "just_done": "1" if c.key in done else "",
            }
            for c in result.challenge_progress
            if not c.completed or c.key in done  # goals still open, and the ones this visit completed
        ]
        self.status = "already" if result.already else "done"


def _challenge(c: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.p(c["name"], style={"margin": 0, "fontWeight": 700}),
            progress_bar(c["pct"], c["name"]),
            style={"flex": 1},
        ),
        rx.cond(
            c["done"] != "",
            rx.el.span(t("Completed"), class_name="badge-can"),
            rx.el.span(c["progress"], class_name="small muted", style={"fontWeight": 800}),
        ),
        data_testid="checkin-challenge",
    )


def _extras() -> rx.Component:
    """New badges, a tier reached and challenge progress, under the result."""
    return rx.fragment(
        rx.cond(
            CheckinState.tier_reached != "",
            rx.el.div(
                rx.icon("crown", size=20, aria_hidden="true"),
                rx.el.span(t("You reached {tier}!", tier=CheckinState.tier_reached)),
                class_name="alert alert-success checkin-line",
                data_testid="checkin-tier",
            ),
        ),
        rx.cond(
            CheckinState.badges.length() > 0,
            rx.el.section(
                rx.el.h2(t("New badges")),
                rx.el.div(
                    rx.foreach(
                        CheckinState.badges,
                        lambda b: rx.el.span(
                            rx.icon("award", size=18, aria_hidden="true"), b["name"], class_name="checkin-badge"
                        ),
                    ),
                    class_name="checkin-badges",
                ),
                class_name="card",
                data_testid="checkin-badges",
            ),
        ),
        rx.cond(
            CheckinState.challenges.length() > 0,
            rx.el.section(
                rx.el.h2(t("Challenges")),
                rx.el.ul(rx.foreach(CheckinState.challenges, _challenge), class_name="list"),
                class_name="card",
            ),
        ),
    )


def _actions() -> rx.Component:
    return rx.el.div(
        rx.el.a(
            t("Go to my points"),
            href=f"/m/{SessionState.merchant_slug}/home",
            class_name="btn btn-block",
            data_testid="checkin-home",
        ),
        rx.el.a(t("Show my card"), href=f"/m/{SessionState.merchant_slug}/card", class_name="btn btn-secondary btn-block"),
        class_name="checkin-actions",
    )


def _done() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.div(rx.icon("check", size=44, aria_hidden="true", stroke_width=3), class_name="checkin-icon"),
            rx.el.p(t("Checked in!"), class_name="checkin-kicker"),
            rx.el.p(CheckinState.store_name, class_name="checkin-store", data_testid="checkin-store"),
            rx.el.p(
                rx.el.span("+", localized_number(CheckinState.points), data_testid="checkin-points"),
                class_name="checkin-points",
            ),
            rx.el.p(tn("point", "points", CheckinState.points), class_name="checkin-points-label"),
            rx.cond(
                CheckinState.bonus_points > 0,
                rx.el.p(
                    tn("+{n} bonus point from challenges", "+{n} bonus points from challenges", CheckinState.bonus_points),
                    class_name="checkin-bonus",
                    data_testid="checkin-bonus",
                ),
            ),
            rx.el.p(
                tn("Your balance: {n} point", "Your balance: {n} points", CheckinState.available), class_name="checkin-balance"
            ),
            class_name="checkin-hero",
            aria_live="polite",
            data_testid="checkin-done",
        ),
        _extras(),
        _actions(),
    )


def _already() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.div(rx.icon("calendar-check", size=40, aria_hidden="true"), class_name="checkin-icon checkin-icon-calm"),
            rx.el.p(t("You already checked in here today"), class_name="checkin-title"),
            rx.el.p(CheckinState.store_name, class_name="checkin-store"),
            rx.el.p(t("Come back tomorrow to earn more points."), class_name="checkin-note"),
            rx.el.p(
                tn("Your balance: {n} point", "Your balance: {n} points", CheckinState.available), class_name="checkin-balance"
            ),
            class_name="checkin-hero checkin-hero-calm",
            aria_live="polite",
            data_testid="checkin-already",
        ),
        _extras(),
        _actions(),
    )


def _error() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.div(rx.icon("circle-alert", size=40, aria_hidden="true"), class_name="checkin-icon checkin-icon-error"),
            rx.el.p(t("Check-in not possible"), class_name="checkin-title"),
            rx.el.p(CheckinState.error, class_name="checkin-note", role="alert", data_testid="checkin-error"),
            class_name="card checkin-problem",
        ),
        _actions(),
    )


def checkin_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Check in"), class_name="sr-only"),
        rx.match(
            CheckinState.status,
            ("done", _done()),
            ("already", _already()),
            ("error", _error()),
            rx.el.div(
                rx.el.div(
                    rx.icon("map-pin", size=36, aria_hidden="true"), class_name="checkin-icon checkin-icon-calm checkin-pulse"
                ),
                rx.el.p(t("Checking you in…"), class_name="checkin-title"),
                class_name="empty",
                aria_busy="true",
            ),
        ),
        active="",
    )
