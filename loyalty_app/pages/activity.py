"""Activity: /m/<slug>/activity — the member's points history, newest first, each entry with the
reason it happened (translated), its date in the member's time zone and its signed points; a
segmented filter (all / earned / spent / expired / donated), points still pending (and when they
arrive), points expiring soon, and "Show more" paging (keyset by entry id, in SQL).

``?filter=spent`` opens the page on that filter (links from elsewhere can use it)."""

from __future__ import annotations

from datetime import datetime, timedelta

import reflex as rx

from loyalty_app.components.shell import back_link, error_alert, member_frame, segmented
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_date, format_number, format_time, localized_number, t, translate, translate_plural
from loyalty_app.services.member_app import activity
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action
from loyalty_app.state.forms import current_language, error_message, off_loop, run_service
from loyalty_app.state.session import SessionState, require_actor

MINUS = "\u2212"
EXPIRING_LINES = 3  # the soonest days; the pill above says the whole amount
TODAY = N_("Today")
YESTERDAY = N_("Yesterday")


def local(when: datetime, tz: str) -> datetime:
    from zoneinfo import ZoneInfo

    try:
        return when.astimezone(ZoneInfo(tz))
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to UTC
        return when


def day_label(lang: str, when: datetime, now: datetime, tz: str) -> str:
    """ "Today" / "Yesterday" / "Monday, 9 November" (with the year when it is not this year)."""
    day, today = local(when, tz).date(), local(now, tz).date()
    if day == today:
        return translate(lang, TODAY)
    if day == today - timedelta(days=1):
        return translate(lang, YESTERDAY)
    return format_date(lang, day, "EEEE, d MMMM" if day.year == today.year else "d MMMM y")


def short_day(lang: str, when: datetime, now: datetime, tz: str) -> str:
    day, today = local(when, tz).date(), local(now, tz).date()
    return format_date(lang, day, "d MMM" if day.year == today.year else "d MMM y")


def signed_points(lang: str, points: int, direction: str) -> str:
    amount = format_number(lang, abs(points))
    return {"in": f"+{amount}", "out": f"{MINUS}{amount}"}.get(direction, amount)


def history_rows(page: activity.HistoryPage, lang: str, now: datetime, previous_day: str) -> list[dict[str, str]]:
    """The page's rows as the list shows them; a row opens a new day when its day differs from
    the row above it (``previous_day``: the last day label already on screen)."""
    rows = []
    for row in page.rows:
        day = day_label(lang, row.at, now, page.timezone)
        rows.append(
            {
                "id": str(row.entry_id),
                "kind": row.kind,
                "topic": row.topic,
                "tone": row.direction,
                "reason": row.reason,
                "time": format_time(lang, row.at, page.timezone),
                "day": day,
                "new_day": "1" if day != previous_day else "",
                "points": signed_points(lang, row.points, row.direction),
            }
        )
        previous_day = day
    return rows


class ActivityState(rx.State):
    """The member's history: one filter, the rows loaded so far, and the points outlook."""

    loaded: bool = False
    busy: bool = False
    error: str = ""
    filter: str = "all"
    items: list[dict[str, str]] = []
    has_more: bool = False
    available: int = 0
    pending_total: int = 0
    pending: list[dict[str, str]] = []
    expiring_total: int = 0
    expiring: list[dict[str, str]] = []
    _before_id: int = 0

    async def _actor(self):
        session = await self.get_state(SessionState)
        if session.role != "member":
            return None, session
        return await require_actor(self, Action.VIEW_OWN_MEMBER_DATA, own=True), session

    async def _fetch(self, *, append: bool) -> None:
        if (await self.get_state(SessionState)).role != "member":
            return
        lang = await current_language(self)
        ran = await run_service(
            self,
            activity.history_page,
            action=Action.VIEW_OWN_MEMBER_DATA,
            own=True,
            filter=self.filter,
            before_id=self._before_id if append and self._before_id else None,
            lang=lang,
        )
        if ran is None:
            return
        _actor, page = ran
        now = utcnow()
        previous_day = self.items[-1]["day"] if append and self.items else ""
        rows = history_rows(page, lang, now, previous_day)
        self.items = [*self.items, *rows] if append else rows
        self._before_id = page.next_before_id or 0
        self.has_more = page.next_before_id is not None
        self.error = ""

    async def _fetch_outlook(self) -> None:
        actor, _session = await self._actor()
        if actor is None:
            return
        lang = await current_language(self)
        now = utcnow()
        outlook = await off_loop(activity.points_outlook, get_engine(), actor, now=now)
        self.available = outlook.available
        self.pending_total = outlook.pending
        pending_by_day: dict[str, int] = {}
        for when, points in outlook.pending_lots:
            day = short_day(lang, max(when, now), now, outlook.timezone)
            pending_by_day[day] = pending_by_day.get(day, 0) + points
        self.pending = [
            {"text": translate_plural(lang, "{n} point arrives {date}", "{n} points arrive {date}", points, date=day)}
            for day, points in list(pending_by_day.items())[:EXPIRING_LINES]
        ]
        self.expiring_total = outlook.expiring_total
        by_day: dict[str, int] = {}  # lots expiring the same local day read as one line
        for when, points in outlook.expiring:
            day = short_day(lang, when, now, outlook.timezone)
            by_day[day] = by_day.get(day, 0) + points
        self.expiring = [
            {"text": translate_plural(lang, "{n} point expires {date}", "{n} points expire {date}", points, date=day)}
            for day, points in list(by_day.items())[:EXPIRING_LINES]
        ]

    @rx.event
    async def load(self):
        wanted = str(self.router.url.query_parameters.get("filter", "") or "")
        self.filter = wanted if wanted in activity.FILTERS else "all"
        self._before_id = 0
        self.busy = True
        yield
        try:
            await self._fetch_outlook()
        except Exception as err:  # noqa: BLE001 - the guard redirects signed-out visitors
            session = await self.get_state(SessionState)
            if session.signed_in:
                self.error = await error_message(self, err)
            self.busy = False
            return
        await self._fetch(append=False)
        self.busy = False
        self.loaded = True

    @rx.event
    async def choose(self, key: str):
        if key not in activity.FILTERS or (key == self.filter and self.loaded):
            return
        self.filter = key
        self._before_id = 0
        self.busy = True
        yield
        await self._fetch(append=False)
        self.busy = False

    @rx.event
    async def more(self):
        if not self.has_more or self.busy:
            return
        self.busy = True
        yield
        await self._fetch(append=True)
        self.busy = False


# --- page ---------------------------------------------------------------------------------------

S = ActivityState


def filter_chips() -> rx.Component:
    options = [
        ("all", t("All")),
        ("earned", t("Earned")),
        ("spent", t("Spent")),
        ("expired", t("Expired")),
        ("donated", t("Donated")),
    ]
    return segmented(options, S.filter, S.choose, label=t("Show"), test_prefix="activity-filter")


TOPIC_ICONS = (
    ("purchase", "shopping-bag"),
    ("visit", "map-pin"),
    ("friend", "user-plus"),
    ("birthday", "cake"),
    ("event", "ticket"),
    ("review", "star"),
    ("social", "camera"),
    ("profile", "user-round-check"),
    ("challenge", "trophy"),
    ("release", "lock-open"),
    ("redeem", "gift"),
    ("expire", "hourglass"),
    ("donate", "heart-handshake"),
    ("reversal", "undo-2"),
    ("adjustment", "sliders-horizontal"),
)


def topic_icon(topic: rx.Var) -> rx.Component:
    return rx.match(
        topic,
        *[(key, rx.icon(name, size=20, aria_hidden="true")) for key, name in TOPIC_ICONS],
        rx.icon("sparkles", size=20, aria_hidden="true"),
    )


def history_item(row: rx.Var) -> rx.Component:
    return rx.fragment(
        rx.cond(row["new_day"] == "1", rx.el.li(rx.el.h3(row["day"], class_name="act-day-title"), class_name="act-day")),
        rx.el.li(
            rx.el.span(topic_icon(row["topic"]), class_name=f"act-icon act-icon-{row['kind']}"),
            rx.el.span(
                rx.el.span(row["reason"], class_name="act-reason", data_testid="activity-reason"),
                rx.el.span(row["time"], class_name="act-time"),
                class_name="act-text",
            ),
            rx.el.span(
                row["points"],
                rx.el.span(t("pts"), class_name="act-pts-unit"),
                class_name=f"act-points act-points-{row['tone']}",
                data_testid="activity-points",
            ),
            class_name="act-row",
            data_testid="activity-row",
            data_kind=row["kind"],
        ),
    )


def outlook() -> rx.Component:
    return rx.el.section(
        rx.el.div(
            rx.el.p(t("Available now"), class_name="act-sum-label"),
            rx.el.p(localized_number(S.available), class_name="act-sum-points", data_testid="activity-available"),
            rx.el.div(
                rx.cond(
                    S.pending_total > 0,
                    rx.el.span(
                        rx.icon("clock", size=14, aria_hidden="true"),
                        t("{points} pending", points=localized_number(S.pending_total)),
                        class_name="act-pill",
                    ),
                ),
                rx.cond(
                    S.expiring_total > 0,
                    rx.el.span(
                        rx.icon("hourglass", size=14, aria_hidden="true"),
                        t("{points} expiring soon", points=localized_number(S.expiring_total)),
                        class_name="act-pill act-pill-warn",
                    ),
                ),
                class_name="act-pills",
            ),
            class_name="act-sum",
        ),
        rx.cond(
            S.pending.length() > 0,
            rx.el.div(
                rx.el.p(rx.icon("clock", size=16, aria_hidden="true"), t("On the way"), class_name="act-note-title"),
                rx.el.ul(rx.foreach(S.pending, lambda p: rx.el.li(p["text"])), class_name="act-note-list"),
                class_name="act-note act-note-pending",
                data_testid="activity-pending",
            ),
        ),
        rx.cond(
            S.expiring.length() > 0,
            rx.el.div(
                rx.el.p(
                    rx.icon("hourglass", size=16, aria_hidden="true"),
                    t("Use them before they expire"),
                    class_name="act-note-title",
                ),
                rx.el.ul(rx.foreach(S.expiring, lambda p: rx.el.li(p["text"])), class_name="act-note-list"),
                rx.el.a(t("Browse rewards"), href=f"/m/{SessionState.merchant_slug}/rewards", class_name="act-note-link"),
                class_name="act-note act-note-expiring",
                data_testid="activity-expiring",
            ),
        ),
        class_name="act-outlook",
        aria_label=t("Your points"),
    )


def empty_state() -> rx.Component:
    return rx.el.div(
        rx.el.div(rx.icon("history", size=32, aria_hidden="true"), class_name="act-empty-icon"),
        rx.cond(
            S.filter == "all",
            rx.el.p(t("No activity yet"), class_name="act-empty-title"),
            rx.el.p(t("Nothing here yet"), class_name="act-empty-title"),
        ),
        rx.el.p(t("Points you earn, spend or give show up here."), class_name="muted small"),
        class_name="act-empty",
        data_testid="activity-empty",
    )


def activity_page() -> rx.Component:
    return member_frame(
        back_link(t("Home"), "home", "back-home"),
        rx.el.h1(t("Activity"), class_name="act-title"),
        error_alert(S.error),
        outlook(),
        filter_chips(),
        rx.cond(
            S.items.length() > 0,
            rx.el.ul(
                rx.foreach(S.items, history_item),
                class_name="act-list",
                data_testid="activity-list",
                aria_busy=rx.cond(S.busy, "true", "false"),
            ),
            rx.cond(S.loaded & ~S.busy, empty_state(), rx.el.div(t("Loading…"), class_name="empty", aria_busy="true")),
        ),
        rx.cond(
            S.has_more,
            rx.el.button(
                rx.cond(S.busy, t("Loading…"), t("Show more")),
                type="button",
                class_name="btn btn-secondary btn-block act-more",
                on_click=S.more,
                disabled=S.busy,
                data_testid="activity-more",
            ),
        ),
        active="home",
    )
