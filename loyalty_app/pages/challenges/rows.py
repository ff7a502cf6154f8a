"""What the Challenges tab says, worked out on the server: the engagement overview
(``services.earning.engagement``) turned into the display rows ChallengesState holds — time left
on a challenge, how a badge is earned, a way's limit and status, a submission's review — in the
member's language and time zone. Pure functions of their arguments; nothing here renders."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty_app.domain.challenges import VISIT
from loyalty_app.domain.errors import N_
from loyalty_app.domain.ways_to_earn import VISIT_HOW, WAYS_TO_EARN
from loyalty_app.i18n import format_date, format_duration, format_number, format_time, translate, translate_plural
from loyalty_app.services.earning import engagement


def action_how() -> dict[str, str]:
    """How a challenge is completed, per action it counts (shown under its description), and how
    an action-count badge is earned: the "visit" pseudo-action, then each way to earn's how-to
    from the registry (``domain.ways_to_earn``)."""
    return {VISIT: VISIT_HOW, **WAYS_TO_EARN.how_tos()}


ACTION_HOW = action_how()


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


def challenge_row(lang: str, c: engagement.ChallengeCard, now: datetime, tz: str) -> dict[str, str]:
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


def _status_text(lang: str, w: engagement.WayToEarn, overview: engagement.Overview, tz: str) -> str:
    if w.status == "limit":
        return _done_text(lang, w.limit_period)
    if w.status == "answered" and overview.survey and overview.survey.answered_at:
        return translate(lang, "Thanks! You answered on {date}.", date=format_date(lang, _local(overview.survey.answered_at, tz)))
    if w.status == "subscribed":
        return translate(lang, "You're subscribed. Thank you!")
    if w.status == "needs_profile":
        return translate(lang, "Add your name and birthday in your profile first.")
    if w.status == "no_birthday":
        return translate(lang, "Add your birthday in your profile to get a treat.")
    if w.status == "not_birthday_month":
        return translate(lang, "Come back in your birthday month.")
    return ""


def submission_row(lang: str, s: engagement.SubmissionView, tz: str) -> dict[str, str]:
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


def _badge_row(lang: str, b: engagement.BadgeCard) -> dict[str, str]:
    return {"key": b.key, "name": b.name, "icon": b.icon or "award", "how": _badge_how(lang, b)}


def earned_badge_row(lang: str, b: engagement.BadgeCard, tz: str) -> dict[str, str]:
    return {
        **_badge_row(lang, b),
        "when": translate(lang, "Earned {date}", date=format_date(lang, _local(b.awarded_at, tz))) if b.awarded_at else "",
    }


def locked_badge_row(lang: str, b: engagement.BadgeCard) -> dict[str, str]:
    return {
        **_badge_row(lang, b),
        "progress": f"{format_number(lang, b.current)}/{format_number(lang, b.target)}",
        "pct": str(b.pct),
    }


def way_row(lang: str, w: engagement.WayToEarn, overview: engagement.Overview, tz: str) -> dict[str, str]:
    return {
        "points": str(w.points),
        "limit": _limit_text(lang, w.limit_count, w.limit_period),
        "status": w.status,
        "status_text": _status_text(lang, w, overview, tz),
        "pending": str(w.pending),
        "name": w.name,
    }


def question_rows(survey: engagement.SurveyCard | None) -> list[QuestionRow]:
    """The questions of a survey still to answer (none once it is answered)."""
    return [
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
