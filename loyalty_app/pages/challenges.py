"""Challenges tab: /m/<slug>/challenges — challenges with progress and time left, the ways to
earn beyond purchases (survey, event code, social tag, photo contest, newsletter, profile,
birthday) driven by the merchant's active earning rules, and every badge (earned with its
date, locked with progress and how to earn it).

``?tab=earn`` / ``?tab=badges`` opens the page on that section. Data comes from
``services.earning.engagement`` (one read per load); each way to earn calls its own service and shows
"+N points", "sent for review" or a clear refusal right in its card.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import reflex as rx

from loyalty_app.components.cockpit import progress_bar
from loyalty_app.components.shell import member_frame
from loyalty_app.components.shell import segmented as shell_segmented
from loyalty_app.domain.challenges import VISIT
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.domain.ways_to_earn import VISIT_HOW, WAYS_TO_EARN
from loyalty_app.i18n import (
    format_date,
    format_duration,
    format_number,
    format_time,
    localized_number,
    t,
    tn,
    translate,
    translate_plural,
)
from loyalty_app.services.earning import engagement
from loyalty_app.services.members.member_media import MAX_UPLOAD_BYTES
from loyalty_app.state.forms import current_language, error_message, run_service, translated
from loyalty_app.state.session import SessionState

VIEWS = ("challenges", "earn", "badges")
PHOTO_UPLOAD_ID = "contest_photo"
PHOTO_ACCEPT = {"image/jpeg": [".jpg", ".jpeg"], "image/png": [".png"], "image/webp": [".webp"]}


def action_how() -> dict[str, str]:
    """How a challenge is completed, per action it counts (shown under its description), and how
    an action-count badge is earned: the "visit" pseudo-action, then each way to earn's how-to
    from the registry (``domain.ways_to_earn``)."""
    return {VISIT: VISIT_HOW, **WAYS_TO_EARN.how_tos()}


ACTION_HOW = action_how()

# Badge icon names from the program -> icons we ship (anything else shows an award).
BADGE_ICONS = (
    ("bag", "shopping-bag"),
    ("pin", "map-pin"),
    ("map", "map"),
    ("flame", "flame"),
    ("gift", "gift"),
    ("pen", "pen-line"),
    ("trophy", "trophy"),
    ("crown", "crown"),
    ("moon", "moon"),
    ("star", "star"),
    ("cup", "coffee"),
    ("heart", "heart"),
)


@dataclasses.dataclass
class QuestionRow:
    id: str = ""
    text: str = ""
    kind: str = "text"
    required: bool = True
    options: list[str] = dataclasses.field(default_factory=list)
    max_length: int = 500


def _local(when: datetime, tz: str) -> datetime:
    try:
        return when.astimezone(ZoneInfo(tz or "UTC"))
    except Exception:  # noqa: BLE001 - an unknown zone name falls back to UTC
        return when


def _limit_text(lang: str, count: int | None, period: str) -> str:
    if count is None or period == "none":
        return ""
    if period == "ever":
        return translate_plural(lang, "Once only", "Up to {n} times in total", count)
    if period == "day":
        return translate_plural(lang, "Once a day", "Up to {n} times a day", count)
    if period == "week":
        return translate_plural(lang, "Once a week", "Up to {n} times a week", count)
    if period == "month":
        return translate_plural(lang, "Once a month", "Up to {n} times a month", count)
    return translate_plural(lang, "Once a year", "Up to {n} times a year", count)


DONE_TEXTS = {
    "ever": N_("Done: you earned these points."),
    "day": N_("Done for today. Come back tomorrow!"),
    "week": N_("Done for this week. Come back next week!"),
    "month": N_("Done for this month. Come back next month!"),
    "year": N_("Done for this year."),
}
DONE_FOR_NOW = N_("Done for now.")


def _done_text(lang: str, period: str) -> str:
    msgid = DONE_TEXTS.get(period, DONE_FOR_NOW)
    return translate(lang, msgid)


def _badge_how(lang: str, b: engagement.BadgeCard) -> str:
    """The merchant's description, or what the criterion asks in plain words."""
    if b.description:
        return b.description
    n = b.target
    kind = b.kind
    if kind == "first_purchase":
        return translate(lang, "Make your first purchase.")
    if kind == "check_ins":
        return translate_plural(lang, "Check in at a store once.", "Check in at a store {n} times.", n)
    if kind == "distinct_stores":
        return translate_plural(lang, "Visit one of our stores.", "Visit {n} different stores.", n)
    if kind == "weekly_streak":
        return translate_plural(lang, "Visit us in any week.", "Visit us {n} weeks in a row.", n)
    if kind == "first_redemption":
        return translate(lang, "Redeem your first reward.")
    if kind == "first_review":
        return translate(lang, "Rate a reward or write a review.")
    if kind == "tier_reached":
        return translate(lang, "Reach {tier}.", tier=b.param)
    if kind == "points_earned":
        return translate_plural(lang, "Earn {n} point in total.", "Earn {n} points in total.", n)
    if kind == "challenge":
        if b.param:
            return translate(lang, "Complete the challenge “{challenge}”.", challenge=b.param)
        return translate(lang, "Complete a surprise challenge.")
    if kind == "action_count":
        how = translate(lang, ACTION_HOW.get(b.param, "")) if b.param in ACTION_HOW else b.param
        return translate_plural(lang, "{action}: once.", "{action}: {n} times.", n, action=how)
    return ""


def _left(lang: str, delta: timedelta) -> str:
    """ "6 days", "23 hours": never rounded up to the next unit (6 days is not "1 week")."""
    return format_duration(lang, delta, threshold=1.0)


def _short_url(url: str) -> str:
    text = url.removeprefix("https://").removeprefix("www.")
    return text if len(text) <= 42 else text[:40] + "…"


class ChallengesState(rx.State):
    """The Challenges tab (display values only; ids of the member stay on the server)."""

    loaded: bool = False
    error: str = ""
    view: str = "challenges"
    available: int = 0
    challenges: list[dict[str, str]] = []
    done_count: int = 0
    badges_earned: list[dict[str, str]] = []
    badges_locked: list[dict[str, str]] = []
    ways: dict[str, dict[str, str]] = {}
    way_count: int = 0
    survey_title: str = ""
    survey_description: str = ""
    questions: list[QuestionRow] = []
    survey_open: bool = False
    submissions: list[dict[str, str]] = []
    busy: str = ""  # the way to earn being sent
    form_key: str = "0"  # bumped after a success, so the forms start empty again
    notice_action: str = ""
    notice_title: str = ""
    notice_text: str = ""
    err_action: str = ""
    err_text: str = ""
    _survey_id: int = 0

    # --- loading ------------------------------------------------------------------------------

    async def _fetch(self) -> None:
        session = await self.get_state(SessionState)
        if session.role != "member":
            return  # staff and admins are sent to their own pages by the guard
        ran = await run_service(self, engagement.engagement_overview, error_var="error" if session.signed_in else None)
        if ran is None:
            return
        _actor, overview = ran
        lang = await current_language(self)
        now = utcnow()
        tz = overview.timezone
        self.available = overview.available
        self.challenges = [self._challenge_row(lang, c, now, tz) for c in overview.challenges]
        self.done_count = sum(1 for c in overview.challenges if c.completed)
        self.badges_earned = [
            {
                "key": b.key,
                "name": b.name,
                "icon": b.icon or "award",
                "how": _badge_how(lang, b),
                "when": translate(lang, "Earned {date}", date=format_date(lang, _local(b.awarded_at, tz)))
                if b.awarded_at
                else "",
            }
            for b in overview.badges
            if b.earned
        ]
        self.badges_locked = [
            {
                "key": b.key,
                "name": b.name,
                "icon": b.icon or "award",
                "how": _badge_how(lang, b),
                "progress": f"{format_number(lang, b.current)}/{format_number(lang, b.target)}",
                "pct": str(b.pct),
            }
            for b in overview.badges
            if not b.earned
        ]
        ways = {}
        for w in overview.ways:
            ways[w.action] = {
                "points": str(w.points),
                "limit": _limit_text(lang, w.limit_count, w.limit_period),
                "status": w.status,
                "status_text": self._status_text(lang, w, overview, tz),
                "pending": str(w.pending),
                "name": w.name,
            }
        self.ways = ways
        self.way_count = len(ways)
        survey = overview.survey
        self._survey_id = survey.survey_id if survey else 0
        self.survey_title = survey.title if survey else ""
        self.survey_description = survey.description if survey else ""
        self.questions = [
            QuestionRow(
                id=q["id"],
                text=q["text"],
                kind=q["kind"],
                required=bool(q.get("required", True)),
                options=list(q.get("options") or []),
                max_length=int(q.get("max_length", 500)),
            )
            for q in (survey.questions if survey and survey.answered_at is None else [])
        ]
        self.submissions = [self._submission_row(lang, s, tz) for s in overview.submissions]
        self.error = ""
        self.loaded = True

    @staticmethod
    def _challenge_row(lang: str, c: engagement.ChallengeCard, now: datetime, tz: str) -> dict[str, str]:
        time_left = ends = ""
        if not c.completed:
            end = c.ends_at
            if end is not None and end > now and (c.resets_at is None or end <= c.resets_at):
                time_left = translate(lang, "{time} left", time=_left(lang, end - now))
                ends = translate(
                    lang, "Ends {date} at {time}", date=format_date(lang, _local(end, tz)), time=format_time(lang, end, tz)
                )
            elif c.resets_at is not None and c.resets_at > now:
                left = _left(lang, c.resets_at - now)
                time_left = (
                    translate(lang, "{time} left this week", time=left)
                    if c.recurrence == "weekly"
                    else translate(lang, "{time} left this month", time=left)
                )
        elif c.resets_at is not None and c.resets_at > now:
            ends = translate(lang, "New round in {time}", time=_left(lang, c.resets_at - now))
        return {
            "key": c.key,
            "name": c.name,
            "description": c.description,
            "how": translate(lang, ACTION_HOW[c.action]) if c.action in ACTION_HOW else "",
            "progress": f"{c.count}/{c.target}",
            "pct": str(c.pct),
            "done": "1" if c.completed else "",
            "done_on": translate(lang, "Completed on {date}", date=format_date(lang, _local(c.completed_at, tz)))
            if c.completed and c.completed_at
            else "",
            "time_left": time_left,
            "ends": ends,
            "reward": str(c.reward_points) if c.reward_points > 0 else "",
            "surprise": "1" if c.hidden else "",
            "urgent": "1" if time_left and c.ends_at is not None and c.ends_at - now < timedelta(days=2) else "",
        }

    @staticmethod
    def _status_text(lang: str, w: engagement.WayToEarn, overview: engagement.Overview, tz: str) -> str:
        if w.status == "limit":
            return _done_text(lang, w.limit_period)
        if w.status == "answered" and overview.survey and overview.survey.answered_at:
            return translate(
                lang, "Thanks! You answered on {date}.", date=format_date(lang, _local(overview.survey.answered_at, tz))
            )
        if w.status == "subscribed":
            return translate(lang, "You're subscribed. Thank you!")
        if w.status == "needs_profile":
            return translate(lang, "Add your name and birthday in your profile first.")
        if w.status == "no_birthday":
            return translate(lang, "Add your birthday in your profile to get a treat.")
        if w.status == "not_birthday_month":
            return translate(lang, "Come back in your birthday month.")
        return ""

    @staticmethod
    def _submission_row(lang: str, s: engagement.SubmissionView, tz: str) -> dict[str, str]:
        if s.status == "approved":
            status = translate_plural(lang, "Approved: +{n} point", "Approved: +{n} points", s.points)
        elif s.status == "rejected":
            status = translate(lang, "Not approved: {reason}", reason=s.reason)
        else:
            status = translate(lang, "Waiting for review")
        return {
            "kind": s.kind,
            "label": _short_url(s.url) if s.kind == "social" else translate(lang, "Contest photo"),
            "url": s.url,
            "status": s.status,
            "status_text": status,
            "date": translate(lang, "Sent {date}", date=format_date(lang, _local(s.created_at, tz))),
        }

    @rx.event
    async def load(self):
        tab = str(self.router.page.params.get("tab", "") or "")
        self.view = tab if tab in VIEWS else "challenges"
        self.survey_open = False
        self.busy = ""
        self._clear_feedback()
        await self._fetch()

    @rx.event
    def set_view(self, view: str):
        if view in VIEWS:
            self.view = view

    @rx.event
    def toggle_survey(self):
        self.survey_open = not self.survey_open
        self._clear_feedback()

    # --- feedback -----------------------------------------------------------------------------

    def _clear_feedback(self) -> None:
        self.notice_action = self.notice_title = self.notice_text = ""
        self.err_action = self.err_text = ""

    async def _failed(self, action: str, err: Exception) -> None:
        self.err_action = action
        self.err_text = await error_message(self, err)

    async def _earned(self, action: str, result: engagement.EarnResult, plain: str) -> None:
        """ "+N points" with what else came with it (bonus, badges, a tier), or ``plain``."""
        lang = await current_language(self)
        self.notice_action = action
        if result.total_points > 0:
            self.notice_title = translate_plural(lang, "+{n} point", "+{n} points", result.total_points)
        else:
            self.notice_title = translate(lang, "Done!")
        extra = [plain] if plain else []
        if result.bonus_points > 0:
            extra.append(translate(lang, "Including {points} bonus points from challenges.", points=result.bonus_points))
        if result.badges:
            extra.append(translate(lang, "New badge: {badges}", badges=", ".join(result.badges)))
        if result.tier_reached:
            extra.append(translate(lang, "You reached {tier}!", tier=result.tier_reached))
        self.notice_text = " ".join(extra)
        self.form_key = str(int(self.form_key) + 1)

    # --- ways to earn -------------------------------------------------------------------------

    @rx.event
    async def submit_survey(self, form: dict):
        if self.busy:
            return
        self._clear_feedback()
        self.busy = "fill_survey"
        yield
        answers = {k[2:]: v for k, v in form.items() if isinstance(k, str) and k.startswith("q_")}
        ran = await run_service(self, engagement.submit_survey, self._survey_id, answers, error_var="err_text")
        if ran is None:
            self.err_action = "fill_survey"
        else:
            _actor, result = ran
            await self._earned("fill_survey", result, await translated(self, "Thanks for your answers!"))
            self.survey_open = False
            await self._fetch()
        self.busy = ""

    @rx.event
    async def subscribe(self):
        if self.busy:
            return
        self._clear_feedback()
        self.busy = "subscribe_newsletter"
        yield
        ran = await run_service(self, engagement.subscribe_newsletter, error_var="err_text")
        if ran is None:
            self.err_action = "subscribe_newsletter"
        else:
            _actor, result = ran
            plain = await translated(self, "You're subscribed. Thank you!")
            if result.already:
                plain = await translated(self, "You're subscribed. You already earned points for this before.")
            await self._earned("subscribe_newsletter", result, plain)
            await self._fetch()
        self.busy = ""

    @rx.event
    async def submit_event_code(self, form: dict):
        if self.busy:
            return
        self._clear_feedback()
        self.busy = "attend_event"
        yield
        ran = await run_service(
            self,
            engagement.enter_event_code,
            str(form.get("code", "")),
            error_var="err_text",
            ip=self.router.session.client_ip or "",
        )
        if ran is None:
            self.err_action = "attend_event"
        else:
            _actor, result = ran
            await self._earned("attend_event", result, await translated(self, "Thanks for coming!"))
            await self._fetch()
        self.busy = ""

    @rx.event
    async def submit_social(self, form: dict):
        if self.busy:
            return
        self._clear_feedback()
        self.busy = "tag_social"
        yield
        ran = await run_service(self, engagement.submit_social_link, str(form.get("url", "")), error_var="err_text")
        if ran is None:
            self.err_action = "tag_social"
        else:
            await self._sent_for_review("tag_social")
            await self._fetch()
        self.busy = ""

    async def _sent_for_review(self, action: str) -> None:
        lang = await current_language(self)
        self.notice_action = action
        self.notice_title = translate(lang, "Sent for review")
        self.notice_text = translate(lang, "We'll check it soon. Your points arrive once it's approved.")
        self.form_key = str(int(self.form_key) + 1)

    @rx.event
    async def upload_photo(self, files: list[rx.UploadFile]):
        if self.busy:
            return
        self._clear_feedback()
        if not files:
            await self._failed("photo_contest", LoyaltyError(N_("Choose an image first."), code="image_empty"))
            return
        self.busy = "photo_contest"
        yield
        upload = files[0]
        data = await upload.read(MAX_UPLOAD_BYTES + 1)  # one byte over the limit is enough to refuse
        ran = await run_service(self, engagement.submit_photo, data, error_var="err_text", filename=upload.name or "")
        if ran is None:
            self.err_action = "photo_contest"
        else:
            await self._sent_for_review("photo_contest")
            await self._fetch()
        self.busy = ""
        yield rx.clear_selected_files(PHOTO_UPLOAD_ID)

    @rx.event
    async def photo_rejected(self, rejected: list[dict]):
        """The picker refused the file before upload (too big, not an image)."""
        self._clear_feedback()
        codes = {
            e.get("code") for r in rejected or [] if isinstance(r, dict) for e in (r.get("errors") or []) if isinstance(e, dict)
        }
        lang = await current_language(self)
        self.err_action = "photo_contest"
        if "file-too-large" in codes:
            self.err_text = translate(
                lang, "This image is larger than {limit} MB. Choose a smaller one.", limit=MAX_UPLOAD_BYTES // (1024 * 1024)
            )
        else:
            self.err_text = translate(lang, "Choose a JPEG, PNG or WebP image.")

    @rx.event
    async def claim(self, action: str):
        if self.busy or action not in engagement.CLAIMABLE:
            return
        self._clear_feedback()
        self.busy = action
        yield
        ran = await run_service(self, engagement.claim_action, action, error_var="err_text")
        if ran is None:
            self.err_action = action
        else:
            _actor, result = ran
            await self._earned(action, result, "")
            await self._fetch()
        self.busy = ""


# ================================================================================ rendering

S = ChallengesState


def badge_icon(icon: rx.Var, size: int = 22) -> rx.Component:
    return rx.match(
        icon,
        *[(name, rx.icon(lucide, size=size, aria_hidden="true")) for name, lucide in BADGE_ICONS],
        rx.icon("award", size=size, aria_hidden="true"),
    )


def segmented() -> rx.Component:
    return shell_segmented(
        [("challenges", t("Challenges")), ("earn", t("Earn")), ("badges", t("Badges"))],
        S.view,
        S.set_view,
        label=t("Sections"),
        test_prefix="view",
        even=True,
    )


def header() -> rx.Component:
    return rx.el.div(
        rx.el.h1(t("Challenges"), class_name="ch-title"),
        rx.el.p(
            rx.el.span(tn("{n} challenge done", "{n} challenges done", S.done_count), data_testid="ch-done-count"),
            rx.el.span("·", aria_hidden="true"),
            rx.el.span(tn("{n} badge", "{n} badges", S.badges_earned.length())),
            rx.el.span("·", aria_hidden="true"),
            rx.el.span(t("{points} pts", points=localized_number(S.available)), data_testid="ch-balance"),
            class_name="ch-summary",
        ),
        class_name="ch-head",
    )


# --- challenges -------------------------------------------------------------------------------


def challenge_card(c: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.div(
            rx.el.div(
                rx.cond(
                    c["done"] != "",
                    rx.icon("circle-check-big", size=22, aria_hidden="true"),
                    rx.cond(
                        c["surprise"] != "",
                        rx.icon("sparkles", size=22, aria_hidden="true"),
                        rx.icon("target", size=22, aria_hidden="true"),
                    ),
                ),
                class_name=rx.cond(c["done"] != "", "ch-icon ch-icon-done", "ch-icon"),
            ),
            rx.el.div(
                rx.el.h3(c["name"], class_name="ch-name"),
                rx.cond(c["surprise"] != "", rx.el.span(t("Surprise unlocked"), class_name="ch-chip ch-chip-surprise")),
                class_name="ch-name-box",
            ),
            rx.cond(c["reward"] != "", rx.el.span(t("+{points} pts", points=c["reward"]), class_name="ch-reward")),
            class_name="ch-card-head",
        ),
        rx.cond(c["description"] != "", rx.el.p(c["description"], class_name="ch-desc")),
        rx.cond(
            c["how"] != "",
            rx.el.p(
                rx.icon("footprints", size=15, aria_hidden="true"), rx.el.span(t("How: {how}", how=c["how"])), class_name="ch-how"
            ),
        ),
        progress_bar(c["pct"], c["name"]),
        rx.el.div(
            rx.cond(
                c["done"] != "",
                rx.el.span(
                    rx.icon("check", size=14, aria_hidden="true"),
                    c["done_on"],
                    class_name="badge-can ch-done",
                    data_testid="challenge-done",
                ),
                rx.el.span(c["progress"], class_name="ch-progress", data_testid="challenge-progress"),
            ),
            rx.cond(
                c["time_left"] != "",
                rx.el.span(
                    rx.icon("clock", size=14, aria_hidden="true"),
                    c["time_left"],
                    class_name=rx.cond(c["urgent"] != "", "ch-time ch-time-urgent", "ch-time"),
                    title=c["ends"],
                    data_testid="challenge-time-left",
                ),
                rx.cond(c["ends"] != "", rx.el.span(c["ends"], class_name="ch-time")),
            ),
            class_name="ch-card-foot",
        ),
        rx.cond((c["ends"] != "") & (c["time_left"] != ""), rx.el.p(c["ends"], class_name="ch-ends small muted")),
        class_name=rx.cond(c["done"] != "", "card ch-card ch-card-done", "card ch-card"),
        data_testid="challenge-card",
    )


def challenges_view() -> rx.Component:
    return rx.cond(
        S.challenges.length() > 0,
        rx.el.div(rx.foreach(S.challenges, challenge_card)),
        rx.cond(
            S.loaded,
            rx.el.div(
                rx.el.div(rx.icon("trophy", size=34, aria_hidden="true"), class_name="ch-empty-icon"),
                rx.el.p(t("No challenges right now. Check back soon!"), class_name="ch-empty-title"),
                rx.el.button(t("See ways to earn"), type="button", class_name="btn btn-secondary", on_click=S.set_view("earn")),
                class_name="ch-empty",
            ),
        ),
    )


# --- ways to earn -----------------------------------------------------------------------------


def feedback(action: str) -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.notice_action == action,
            rx.el.div(
                rx.el.p(S.notice_title, class_name="ch-notice-title", data_testid=f"earn-notice-title-{action}"),
                rx.cond(S.notice_text != "", rx.el.p(S.notice_text, class_name="ch-notice-text")),
                class_name="ch-notice",
                role="status",
                data_testid=f"earn-notice-{action}",
            ),
        ),
        rx.cond(
            S.err_action == action,
            rx.el.div(S.err_text, class_name="alert alert-error ch-err", role="alert", data_testid=f"earn-error-{action}"),
        ),
    )


def way_card(action: str, icon: str, title: rx.Var, blurb: rx.Component | rx.Var, body: rx.Component) -> rx.Component:
    w = S.ways[action]
    return rx.cond(
        S.ways.contains(action),
        rx.el.section(
            rx.el.div(
                rx.el.div(rx.icon(icon, size=22, aria_hidden="true"), class_name="ch-way-icon"),
                rx.el.div(
                    rx.el.h3(title, class_name="ch-way-title"),
                    rx.el.p(blurb, class_name="ch-way-blurb"),
                    class_name="ch-way-text",
                ),
                rx.el.div(
                    rx.el.span(t("+{points}", points=w["points"]), class_name="ch-pts-num", aria_hidden="true"),
                    rx.el.span(t("pts"), class_name="ch-pts-unit", aria_hidden="true"),
                    rx.el.span(t("{points} points", points=w["points"]), class_name="sr-only"),
                    class_name="ch-pts",
                ),
                class_name="ch-way-head",
            ),
            rx.cond(w["limit"] != "", rx.el.p(rx.icon("repeat", size=13, aria_hidden="true"), w["limit"], class_name="ch-limit")),
            rx.cond(
                (w["status_text"] != "") & (S.notice_action != action),
                rx.cond(
                    (w["status"] == "limit") | (w["status"] == "answered") | (w["status"] == "subscribed"),
                    rx.el.p(
                        rx.icon("circle-check", size=16, aria_hidden="true"),
                        w["status_text"],
                        class_name="ch-state ch-state-done",
                        data_testid=f"earn-state-{action}",
                    ),
                    rx.el.p(
                        rx.icon("info", size=16, aria_hidden="true"),
                        w["status_text"],
                        class_name="ch-state",
                        data_testid=f"earn-state-{action}",
                    ),
                ),
            ),
            body,
            feedback(action),
            class_name="card ch-way",
            data_testid=f"way-{action}",
            aria_busy=rx.cond(S.busy == action, "true", "false"),
        ),
    )


def send_button(
    action: str, label: rx.Var, *, test_id: str, type_: str = "submit", ready: rx.Var | bool = True, **props
) -> rx.Component:
    return rx.el.button(
        rx.cond(S.busy == action, t("Sending…"), label),
        type=type_,
        class_name="btn btn-block",
        disabled=(S.busy != "") | ~ready if isinstance(ready, rx.Var) else S.busy != "",
        data_testid=test_id,
        **props,
    )


def question(q: rx.Var) -> rx.Component:
    name = "q_" + q.id
    legend = rx.el.legend(
        q.text, rx.cond(~q.required, rx.el.span(t("(optional)"), class_name="ch-optional")), class_name="ch-q-text"
    )
    return rx.el.fieldset(
        legend,
        rx.match(
            q.kind,
            (
                "choice",
                rx.el.div(
                    rx.foreach(
                        q.options,
                        lambda o: rx.el.label(
                            rx.el.input(type="radio", name=name, value=o, class_name="ch-choice-input"),
                            rx.el.span(o),
                            class_name="ch-choice",
                        ),
                    ),
                    class_name="ch-choices",
                ),
            ),
            (
                "stars",
                rx.el.div(
                    *[
                        rx.fragment(
                            rx.el.input(
                                type="radio",
                                name=name,
                                value=str(n),
                                id=name + f"-{n}",
                                class_name="ch-star-input",
                                aria_label=tn("{n} star", "{n} stars", n),
                            ),
                            rx.el.label("★", html_for=name + f"-{n}", class_name="ch-star", aria_hidden="true"),
                        )
                        for n in range(5, 0, -1)
                    ],
                    class_name="ch-stars",
                ),
            ),
            rx.el.textarea(
                name=name,
                max_length=q.max_length,
                rows=3,
                class_name="input ch-textarea",
                aria_label=q.text,
                placeholder=t("Your answer"),
            ),
        ),
        class_name="ch-q",
        data_testid="survey-question",
    )


def survey_body() -> rx.Component:
    return rx.cond(
        S.questions.length() > 0,
        rx.cond(
            S.survey_open,
            rx.el.form(
                rx.cond(S.survey_description != "", rx.el.p(S.survey_description, class_name="small muted")),
                rx.foreach(S.questions, question),
                send_button("fill_survey", t("Send my answers"), test_id="survey-submit"),
                rx.el.button(t("Not now"), type="button", class_name="btn btn-block btn-ghost ch-gap", on_click=S.toggle_survey),
                on_submit=S.submit_survey,
                key=S.form_key,
                class_name="ch-form",
                data_testid="survey-form",
            ),
            rx.cond(
                S.ways["fill_survey"]["status"] == "open",
                rx.el.button(
                    tn("Answer {n} question", "Answer {n} questions", S.questions.length()),
                    rx.icon("chevron-right", size=18, aria_hidden="true"),
                    type="button",
                    class_name="btn btn-block",
                    on_click=S.toggle_survey,
                    data_testid="survey-start",
                ),
            ),
        ),
    )


def event_body() -> rx.Component:
    return rx.cond(
        S.ways["attend_event"]["status"] == "open",
        rx.el.form(
            rx.el.label(t("Event code"), html_for="f-event-code", class_name="sr-only"),
            rx.el.div(
                rx.el.input(
                    id="f-event-code",
                    name="code",
                    type="text",
                    class_name="input ch-code-input",
                    placeholder=t("Event code"),
                    auto_complete="off",
                    auto_capitalize="characters",
                    spell_check=False,
                    max_length=40,
                    data_testid="event-code",
                ),
                rx.el.button(
                    rx.cond(S.busy == "attend_event", t("Checking…"), t("Redeem")),
                    type="submit",
                    class_name="btn",
                    disabled=S.busy != "",
                    data_testid="event-submit",
                ),
                class_name="ch-inline",
            ),
            on_submit=S.submit_event_code,
            key=S.form_key,
        ),
    )


def submissions_list(kind: str) -> rx.Component:
    return rx.el.ul(
        rx.foreach(
            S.submissions,
            lambda s: rx.cond(
                s["kind"] == kind,
                rx.el.li(
                    rx.el.div(
                        rx.el.span(s["label"], class_name="ch-sub-label"),
                        rx.el.span(s["date"], class_name="small muted"),
                        class_name="ch-sub-text",
                    ),
                    rx.el.span(
                        s["status_text"], class_name="ch-sub-status ch-sub-" + s["status"], data_testid="submission-status"
                    ),
                    class_name="ch-sub",
                    data_testid=f"submission-{kind}",
                ),
            ),
        ),
        class_name="ch-subs",
    )


def social_body() -> rx.Component:
    return rx.fragment(
        rx.cond(
            S.ways["tag_social"]["status"] == "open",
            rx.el.form(
                rx.el.label(t("Link to your post"), html_for="f-social-url", class_name="ch-label"),
                rx.el.input(
                    id="f-social-url",
                    name="url",
                    type="text",
                    input_mode="url",
                    class_name="input",
                    placeholder="https://instagram.com/p/…",
                    auto_complete="off",
                    spell_check=False,
                    max_length=engagement.MAX_URL_LENGTH,
                    data_testid="social-url",
                ),
                rx.el.p(t("Instagram, Facebook, TikTok, X or Threads."), class_name="ch-hint"),
                send_button("tag_social", t("Send link"), test_id="social-submit"),
                on_submit=S.submit_social,
                key=S.form_key,
                class_name="ch-form",
            ),
        ),
        submissions_list("social"),
    )


def photo_body() -> rx.Component:
    chosen = rx.selected_files(PHOTO_UPLOAD_ID)
    return rx.fragment(
        rx.cond(
            S.ways["photo_contest"]["status"] == "open",
            rx.el.div(
                rx.el.label(
                    rx.upload.root(
                        rx.el.div(
                            rx.icon("image-plus", size=26, aria_hidden="true"),
                            rx.cond(
                                chosen.length() > 0,
                                rx.el.span(chosen[0], class_name="ch-drop-file", data_testid="photo-chosen"),
                                rx.el.span(t("Choose a photo"), class_name="ch-drop-label"),
                            ),
                            rx.el.span(
                                t("JPEG, PNG or WebP, up to {limit} MB", limit=MAX_UPLOAD_BYTES // (1024 * 1024)),
                                class_name="ch-hint",
                            ),
                            class_name="ch-drop-inner",
                        ),
                        id=PHOTO_UPLOAD_ID,
                        accept=PHOTO_ACCEPT,
                        max_files=1,
                        multiple=False,
                        max_size=MAX_UPLOAD_BYTES,
                        on_drop_rejected=S.photo_rejected,
                        no_click=True,  # the wrapping label opens the picker (a second opener would race it)
                        class_name="ch-drop",
                        data_testid="photo-drop",
                    ),
                    class_name="ch-drop-wrap",
                ),
                send_button(
                    "photo_contest",
                    t("Send photo"),
                    test_id="photo-submit",
                    type_="button",
                    ready=chosen.length() > 0,
                    on_click=S.upload_photo(rx.upload_files(upload_id=PHOTO_UPLOAD_ID)),
                ),
                class_name="ch-form",
            ),
        ),
        submissions_list("photo"),
    )


def newsletter_body() -> rx.Component:
    return rx.cond(
        S.ways["subscribe_newsletter"]["status"] != "subscribed",
        send_button("subscribe_newsletter", t("Subscribe"), test_id="newsletter-submit", type_="button", on_click=S.subscribe),
    )


def claim_body(action: str, label: rx.Var, test_id: str) -> rx.Component:
    return rx.match(
        S.ways[action]["status"],
        ("open", send_button(action, label, test_id=test_id, type_="button", on_click=S.claim(action))),
        (
            "needs_profile",
            rx.el.a(
                t("Go to my profile"), href=f"/m/{SessionState.merchant_slug}/profile", class_name="btn btn-secondary btn-block"
            ),
        ),
        (
            "no_birthday",
            rx.el.a(
                t("Go to my profile"), href=f"/m/{SessionState.merchant_slug}/profile", class_name="btn btn-secondary btn-block"
            ),
        ),
        rx.fragment(),
    )


def earn_view() -> rx.Component:
    return rx.cond(
        S.way_count > 0,
        rx.el.div(
            rx.el.p(t("Earn points without buying anything."), class_name="ch-lead"),
            way_card("fill_survey", "clipboard-list", t("Answer a survey"), S.survey_title, survey_body()),
            way_card("attend_event", "ticket", t("Been to our event?"), t("Enter the code you got at the event."), event_body()),
            way_card(
                "tag_social",
                "at-sign",
                t("Tag us on social media"),
                t("Post about us with our tag, then paste the link here. Points once we've checked it."),
                social_body(),
            ),
            way_card(
                "photo_contest",
                "camera",
                t("Photo contest"),
                t("Send your best photo of us. Points once it's approved."),
                photo_body(),
            ),
            way_card(
                "subscribe_newsletter",
                "mail",
                t("Get our newsletter"),
                t("News and offers by e-mail. You can unsubscribe at any time."),
                newsletter_body(),
            ),
            way_card(
                "complete_profile",
                "user-round-check",
                t("Complete your profile"),
                t("Add your name and birthday."),
                claim_body("complete_profile", t("Claim my points"), "claim-profile"),
            ),
            way_card(
                "birthday",
                "cake",
                t("Birthday treat"),
                t("Claim your points in your birthday month."),
                claim_body("birthday", t("Claim my birthday points"), "claim-birthday"),
            ),
        ),
        rx.cond(S.loaded, rx.el.p(t("No extra ways to earn right now. Check back soon!"), class_name="empty")),
    )


# --- badges -----------------------------------------------------------------------------------


def earned_badge(b: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(badge_icon(b["icon"], 26), class_name="ch-medal"),
        rx.el.p(b["name"], class_name="ch-medal-name"),
        rx.el.p(b["when"], class_name="ch-medal-when"),
        class_name="ch-medal-item",
        title=b["how"],
        data_testid="badge-earned",
    )


def locked_badge(b: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            badge_icon(b["icon"], 20),
            rx.el.span(rx.icon("lock", size=11, aria_hidden="true"), class_name="ch-lock"),
            class_name="ch-medal ch-medal-locked",
        ),
        rx.el.div(
            rx.el.div(
                rx.el.p(b["name"], class_name="ch-badge-name"),
                rx.el.span(b["progress"], class_name="ch-progress"),
                class_name="ch-badge-top",
            ),
            rx.el.p(b["how"], class_name="ch-badge-how"),
            progress_bar(b["pct"], b["name"]),
            class_name="ch-badge-body",
        ),
        class_name="ch-badge-row",
        data_testid="badge-locked",
    )


def badges_view() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.h2(t("Your badges")),
            rx.cond(
                S.badges_earned.length() > 0,
                rx.el.ul(rx.foreach(S.badges_earned, earned_badge), class_name="ch-medals"),
                rx.el.p(t("Your first badge is close. See how to earn one below."), class_name="small muted"),
            ),
            class_name="card",
        ),
        rx.cond(
            S.badges_locked.length() > 0,
            rx.el.section(
                rx.el.h2(t("Still to earn")),
                rx.el.ul(rx.foreach(S.badges_locked, locked_badge), class_name="ch-badge-list"),
                class_name="card",
            ),
        ),
    )


def challenges_page() -> rx.Component:
    return member_frame(
        header(),
        rx.cond(S.error != "", rx.el.div(S.error, class_name="alert alert-error", role="alert")),
        segmented(),
        rx.match(
            S.view,
            ("earn", earn_view()),
            ("badges", badges_view()),
            challenges_view(),
        ),
        active="challenges",
    )
