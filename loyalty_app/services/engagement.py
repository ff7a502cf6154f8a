"""The member's Challenges tab: challenges, badges and the ways to earn beyond purchases.

Reads: ``engagement_overview`` gathers, in one read transaction, the challenges the member sees
(hidden ones only once completed) with completion dates and when they end or reset, every badge
(earned with its date, locked with progress and how to earn it), the "ways to earn" the
merchant's active earning rules offer this member now (points, limit, what is used up), the
current survey, and the member's own submissions.

Writes, each a member acting on their own account (``authorize`` first, ids from the actor):
- ``submit_survey``: answers validated against the survey's questions, then the response and
  the ``fill_survey`` earn commit together (key ``survey:<survey>:<member>``), or nothing does;
- ``subscribe_newsletter``: e-mail consent through ``services.profile.set_consent``, plus points once
  ever (key ``newsletter:<member>``);
- ``enter_event_code``: ``attend_event`` with the code (the engine checks it against the rule's
  ``event_codes``), once per member and code (key ``event:<member>:<CODE>``); wrong codes are
  logged and throttled per member;
- ``claim_action``: ``complete_profile`` (once) and ``birthday`` (once a year);
- ``submit_social_link`` / ``submit_photo``: a pending ``Submission`` for the merchant to review.
  ``review_submission`` (ADMIN_MODERATE) approves (``tag_social`` / ``photo_contest`` points,
  key ``submission:<id>``, so once) or rejects with a reason the member sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import earning as rules
from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.challenges import Recurrence
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.earning import LimitPeriod, RuleSpec
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN, Claim
from loyalty_app.models import (
    Account,
    Challenge,
    ChallengeProgress,
    EarningRule,
    MemberActivity,
    Role,
    SecurityEvent,
    Submission,
    Survey,
    SurveyResponse,
)
from loyalty_app.services import earning, ledger, permissions
from loyalty_app.services.badges import load_badges, member_badges
from loyalty_app.services.challenges import member_challenges
from loyalty_app.services.earning import EarnOutcome, ProgramContext, load_context, lock_member, matching_rule
from loyalty_app.services.permissions import Action, Actor, authorize
from loyalty_app.services.tiers import current_tier
from loyalty_app.services.tx import run_in_transaction

# Members act on their own account here (answer, opt in, send a link or photo). The permission
# matrix has no separate "earn" action yet; EDIT_OWN_PROFILE has exactly the needed rule
# (member role, own account only), and services.member_media uses it for uploads as well.
MEMBER_ENGAGE = Action.EDIT_OWN_PROFILE

# The ways to earn the Challenges tab offers, in the order it shows them (the registry's cards).
WAYS: tuple[str, ...] = WAYS_TO_EARN.on_challenges_tab()
# What a member sends for review (``Submission.kind``) -> the way to earn it pays once approved:
# the registry's ways claimed by review, each with its own submit function below.
SUBMISSION_ACTIONS = {"social": EarnAction.TAG_SOCIAL.value, "photo": EarnAction.PHOTO_CONTEST.value}
assert set(SUBMISSION_ACTIONS.values()) == set(WAYS_TO_EARN.claimed(Claim.REVIEWED)), "a reviewed way needs its kind"

SOCIAL_HOSTS: tuple[str, ...] = ("instagram.com", "facebook.com", "tiktok.com", "x.com", "twitter.com", "threads.net")
MAX_URL_LENGTH = 500
MAX_PENDING = 5  # submissions waiting for review per member
SUBMISSIONS_SHOWN = 20
MAX_EVENT_CODE_LENGTH = 40
EVENT_CODE_ATTEMPTS = 10  # wrong codes per member per hour before entry is paused
EVENT_CODE_WINDOW = timedelta(hours=1)
MAX_REASON_LENGTH = 300
DEFAULT_TEXT_MAX = 500
MAX_TEXT_MAX = 2000
QUESTION_KINDS = ("choice", "text", "stars")

NOT_AVAILABLE = N_("This way to earn is not available right now.")
SURVEY_NOT_FOUND = N_("This survey is not available.")
SURVEY_ANSWERED = N_("You already answered this survey. Thank you!")
ANSWER_REQUIRED = N_("Please answer: {question}")
INVALID_CHOICE = N_("Choose one of the offered answers for: {question}")
INVALID_STARS = N_("Give 1 to 5 stars for: {question}")
ANSWER_TOO_LONG = N_("Your answer to “{question}” is too long (at most {max} characters).")
INVALID_ANSWER = N_("This answer is not valid: {question}")
EVENT_CODE_REQUIRED = N_("Enter the code from the event.")
EVENT_CODE_USED = N_("You already used this event code.")
EVENT_CODE_THROTTLED = N_("Too many wrong codes. Please try again in an hour.")
LINK_REQUIRED = N_("Paste the link to your post.")
LINK_TOO_LONG = N_("This link is too long.")
LINK_NOT_HTTPS = N_("The link must start with https://")
LINK_HOST = N_("Links from Instagram, Facebook, TikTok, X or Threads only.")
LINK_NOT_POST = N_("Paste the link to your post, not to the site's home page.")
LINK_DUPLICATE = N_("This post was already sent.")
TOO_MANY_PENDING = N_("You have {count} posts waiting for review. Please wait until they are checked.")
SUBMISSION_NOT_FOUND = N_("Submission not found.")
SUBMISSION_REVIEWED = N_("This submission was already reviewed.")
REASON_REQUIRED = N_("Say why the submission is rejected.")
REASON_TOO_LONG = N_("The reason is too long (at most {max} characters).")
NOT_CLAIMABLE = N_("This action cannot be claimed here.")
ALREADY_CLAIMED = N_("You already claimed these points.")


# =============================================================================== pure checks


def clean_questions(questions: object) -> list[dict]:
    """A merchant's question list, checked and normalised (ids unique, kinds known, options
    for choices, text limits); raises LoyaltyError(code="invalid_survey") otherwise."""

    def bad() -> LoyaltyError:
        return LoyaltyError(N_("The survey questions are not valid."), code="invalid_survey")

    if not isinstance(questions, list) or not questions or len(questions) > 20:
        raise bad()
    seen: set[str] = set()
    cleaned = []
    for q in questions:
        if not isinstance(q, dict):
            raise bad()
        qid = str(q.get("id", "")).strip()
        text = str(q.get("text", "")).strip()
        kind = q.get("kind")
        if (
            not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", qid)
            or qid in seen
            or not text
            or len(text) > 200
            or kind not in QUESTION_KINDS
        ):
            raise bad()
        seen.add(qid)
        item = {"id": qid, "text": text, "kind": kind, "required": bool(q.get("required", True))}
        if kind == "choice":
            options = q.get("options")
            if not isinstance(options, list) or not 2 <= len(options) <= 12:
                raise bad()
            opts = [str(o).strip() for o in options]
            if any(not o or len(o) > 80 for o in opts) or len(set(opts)) != len(opts):
                raise bad()
            item["options"] = opts
        else:
            item["options"] = []
        if kind == "text":
            limit = q.get("max_length", DEFAULT_TEXT_MAX)
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_TEXT_MAX:
                raise bad()
            item["max_length"] = limit
        cleaned.append(item)
    return cleaned


def validate_answers(questions: list[dict], answers: object) -> dict:
    """The member's answers checked against ``questions``: every required one answered, a
    choice among the options, 1-5 stars, text within its limit. Returns ``{question id:
    answer}`` (stars as int, text stripped, unanswered optional ones left out, unknown ids
    dropped); raises a LoyaltyError naming the first question that fails."""
    if not isinstance(answers, dict):
        raise LoyaltyError(INVALID_ANSWER, code="invalid_answer", question="")
    cleaned: dict = {}
    for q in questions:
        raw = answers.get(q["id"])
        if isinstance(raw, (dict, list, tuple, set, bool)):
            raise LoyaltyError(INVALID_ANSWER, code="invalid_answer", question=q["text"])
        value = "" if raw is None else str(raw).strip()
        if not value:
            if q.get("required", True):
                raise LoyaltyError(ANSWER_REQUIRED, code="answer_required", question=q["text"])
            continue
        kind = q["kind"]
        if kind == "choice":
            if value not in q.get("options", []):
                raise LoyaltyError(INVALID_CHOICE, code="invalid_choice", question=q["text"])
            cleaned[q["id"]] = value
        elif kind == "stars":
            if not value.isdecimal() or not 1 <= int(value) <= 5:
                raise LoyaltyError(INVALID_STARS, code="invalid_stars", question=q["text"])
            cleaned[q["id"]] = int(value)
        else:
            limit = int(q.get("max_length", DEFAULT_TEXT_MAX))
            if len(value) > limit:
                raise LoyaltyError(ANSWER_TOO_LONG, code="answer_too_long", question=q["text"], max=limit)
            if any(ord(c) < 32 and c not in "\n\t" for c in value):
                raise LoyaltyError(INVALID_ANSWER, code="invalid_answer", question=q["text"])
            cleaned[q["id"]] = value
    return cleaned


def clean_social_url(url: object) -> str:
    """An https link to a post on an allowed network (instagram.com, facebook.com, tiktok.com,
    x.com, twitter.com, threads.net or their subdomains), without credentials, odd ports or a
    fragment. Raises a LoyaltyError saying what is wrong."""
    text = str(url or "").strip()
    if not text:
        raise LoyaltyError(LINK_REQUIRED, code="link_required")
    if len(text) > MAX_URL_LENGTH:
        raise LoyaltyError(LINK_TOO_LONG, code="link_too_long")
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise LoyaltyError(LINK_NOT_POST, code="link_invalid")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise LoyaltyError(LINK_NOT_POST, code="link_invalid") from None
    if parts.scheme.lower() != "https":
        raise LoyaltyError(LINK_NOT_HTTPS, code="link_not_https")
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.username or parts.password or (port not in (None, 443)):
        raise LoyaltyError(LINK_HOST, code="link_host")
    if not any(host == h or host.endswith("." + h) for h in SOCIAL_HOSTS):
        raise LoyaltyError(LINK_HOST, code="link_host")
    if parts.path.strip("/") == "":
        raise LoyaltyError(LINK_NOT_POST, code="link_not_post")
    return urlunsplit(("https", host, parts.path, parts.query, ""))


def clean_event_code(code: object) -> str:
    value = re.sub(r"\s+", "", str(code or "")).upper()
    if not value:
        raise LoyaltyError(EVENT_CODE_REQUIRED, code="event_code_required")
    if len(value) > MAX_EVENT_CODE_LENGTH or not re.fullmatch(r"[A-Z0-9_-]+", value):
        raise LoyaltyError(N_("This event code is not valid."), code="invalid_event_code")
    return value


def period_end(recurrence: str, now: datetime, tz: str) -> datetime | None:
    """When the current week or month of a recurring challenge ends (merchant's midnight)."""
    day = rules.local_date(now, tz)
    if recurrence == Recurrence.WEEKLY.value:
        return rules.local_midnight_utc(day + timedelta(days=7 - day.weekday()), tz)
    if recurrence == Recurrence.MONTHLY.value:
        first = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return rules.local_midnight_utc(first, tz)
    return None


# ============================================================================== read model


@dataclass(frozen=True)
class ChallengeCard:
    key: str
    name: str
    description: str
    action: str
    count: int
    target: int
    pct: int
    completed: bool
    completed_at: datetime | None
    ends_at: datetime | None  # the challenge's own end
    resets_at: datetime | None  # end of this week/month for recurring ones
    recurrence: str
    reward_points: int
    hidden: bool  # a surprise, revealed because it is completed


@dataclass(frozen=True)
class BadgeCard:
    key: str
    name: str
    icon: str
    description: str  # the merchant's own words ("" when none)
    kind: str
    param: str  # action / tier name / challenge name the criterion names ("" when none)
    earned: bool
    awarded_at: datetime | None
    current: int
    target: int
    pct: int


@dataclass(frozen=True)
class WayToEarn:
    action: str
    name: str  # the rule's name ("" when none)
    points: int  # base points (tier and quest multipliers may add to them)
    limit_count: int | None
    limit_period: str
    used: int  # uses in the current limit period
    # open | limit (used up for this period) | answered (survey) | subscribed (newsletter)
    # | needs_profile | no_birthday | not_birthday_month
    status: str
    pending: int = 0  # submissions waiting for review (social, photo)


@dataclass(frozen=True)
class SurveyCard:
    survey_id: int
    title: str
    description: str
    questions: list[dict]
    answered_at: datetime | None


@dataclass(frozen=True)
class SubmissionView:
    submission_id: int
    kind: str  # social | photo
    url: str
    status: str  # pending | approved | rejected
    reason: str
    points: int
    created_at: datetime
    reviewed_at: datetime | None
    account_id: int = 0


@dataclass(frozen=True)
class Overview:
    timezone: str  # the member's, for dates
    merchant_timezone: str
    available: int
    challenges: list[ChallengeCard]
    badges: list[BadgeCard]
    ways: list[WayToEarn]
    survey: SurveyCard | None
    submissions: list[SubmissionView]
    newsletter_subscribed: bool


@dataclass(frozen=True)
class EarnResult:
    """What one way to earn gave the member, for the success message."""

    action: str
    points: int
    bonus_points: int
    available: int
    badges: tuple[str, ...] = ()
    challenges: tuple[str, ...] = ()
    tier_reached: str | None = None
    already: bool = False  # nothing new: done before (newsletter already paid, ...)

    @property
    def total_points(self) -> int:
        return self.points + self.bonus_points


def _result(outcome: EarnOutcome) -> EarnResult:
    change = outcome.tier_change
    return EarnResult(
        action=outcome.action,
        points=0 if outcome.replayed else outcome.points,
        bonus_points=0 if outcome.replayed else outcome.bonus_points,
        available=outcome.balance.available,
        badges=tuple(b.name for b in outcome.badges_awarded),
        challenges=tuple(c.name for c in outcome.challenges_completed),
        tier_reached=change.to_name if change is not None and change.upgraded else None,
        already=outcome.replayed,
    )


def email_consent_granted(account: Account) -> bool:
    value = (account.consents or {}).get("email")
    if isinstance(value, dict):
        return bool(value.get("granted"))
    return bool(value)  # older rows: an ISO timestamp string


def _open_surveys(session: Session, merchant_id: int, now: datetime) -> list[Survey]:
    rows = session.exec(select(Survey).where(Survey.merchant_id == merchant_id, Survey.is_active).order_by(Survey.id)).all()
    return [s for s in rows if (s.starts_at is None or s.starts_at <= now) and (s.ends_at is None or now < s.ends_at)]


def _current_survey(session: Session, merchant_id: int, account_id: int, now: datetime) -> SurveyCard | None:
    """The first open survey the member has not answered; else the last one they answered."""
    surveys = _open_surveys(session, merchant_id, now)
    if not surveys:
        return None
    answered = dict(
        session.exec(
            select(SurveyResponse.survey_id, SurveyResponse.at).where(
                SurveyResponse.account_id == account_id, SurveyResponse.survey_id.in_([s.id for s in surveys])
            )
        ).all()
    )
    pick = next((s for s in surveys if s.id not in answered), surveys[-1])
    return SurveyCard(pick.id, pick.title, pick.description, list(pick.questions or []), answered.get(pick.id))


class _RuleFinder:
    """The best rule paying each action for this member now (tier and segments loaded once)."""

    def __init__(self, session: Session, ctx: ProgramContext, account: Account, now: datetime):
        self._args = (session, ctx, now)
        self._tier = current_tier(session, ctx.merchant.id, account.id, ctx.tiers)
        self._segments = earning._Segments(session, account, ctx, now)

    def __call__(self, action: str) -> RuleSpec | None:
        session, ctx, now = self._args
        return matching_rule(
            session, ctx, action=EarnAction(action), tier=self._tier, segments=self._segments, store_id=None, now=now
        )


def _rule_for(session: Session, ctx: ProgramContext, account: Account, action: str, now: datetime) -> RuleSpec | None:
    return _RuleFinder(session, ctx, account, now)(action)


def _used(session: Session, ctx: ProgramContext, account_id: int, rule: RuleSpec, now: datetime) -> int:
    period = rule.limit_period if rule.limit_period is not LimitPeriod.NONE else LimitPeriod.DAY
    return earning.used_in_period(
        session,
        merchant_id=ctx.merchant.id,
        account_id=account_id,
        action=rule.action.value,
        period=period,
        today=rules.local_date(now, ctx.tz),
    )


def _limit_reached(rule: RuleSpec, used: int) -> bool:
    return rule.limit_period is not LimitPeriod.NONE and rule.limit_count is not None and used >= rule.limit_count


def _ways(session: Session, ctx: ProgramContext, account: Account, survey: SurveyCard | None, now: datetime) -> list[WayToEarn]:
    pending = dict(
        session.exec(
            select(Submission.kind, func.count())
            .where(Submission.merchant_id == ctx.merchant.id, Submission.account_id == account.id, Submission.status == "pending")
            .group_by(Submission.kind)
        ).all()
    )
    ways = []
    rule_for = _RuleFinder(session, ctx, account, now)
    for action in WAYS:
        rule = rule_for(action)
        if rule is None:
            continue  # no active rule for this member now: this way to earn is not shown
        if action == EarnAction.FILL_SURVEY.value and survey is None:
            continue  # nothing to fill in
        used = _used(session, ctx, account.id, rule, now)
        status = "limit" if _limit_reached(rule, used) else "open"
        if action == EarnAction.FILL_SURVEY.value and survey is not None and survey.answered_at is not None:
            status = "answered"
        elif action == EarnAction.SUBSCRIBE_NEWSLETTER.value and email_consent_granted(account):
            status = "subscribed"
        elif action == EarnAction.COMPLETE_PROFILE.value and status == "open":
            if not (account.first_name and account.last_name and account.birthday):
                status = "needs_profile"
        elif action == EarnAction.BIRTHDAY.value and status == "open":
            if account.birthday is None:
                status = "no_birthday"
            elif account.birthday.month != rules.local_date(now, ctx.tz).month:
                status = "not_birthday_month"
        row_name = session.get(EarningRule, rule.id).name if rule.id else ""
        kind = next((k for k, a in SUBMISSION_ACTIONS.items() if a == action), None)
        ways.append(
            WayToEarn(
                action,
                row_name or "",
                int(rule.points),
                rule.limit_count,
                rule.limit_period.value,
                used,
                status,
                pending.get(kind, 0) if kind else 0,
            )
        )
    return ways


def _challenge_cards(session: Session, ctx: ProgramContext, account_id: int, now: datetime) -> list[ChallengeCard]:
    views = member_challenges(session, merchant_id=ctx.merchant.id, account_id=account_id, tz=ctx.tz, now=now)
    if not views:
        return []
    ids = dict(
        session.exec(
            select(Challenge.key, Challenge.id).where(
                Challenge.merchant_id == ctx.merchant.id, Challenge.key.in_([v.key for v in views])
            )
        ).all()
    )
    done_at = {
        (p.challenge_id, p.period_key): p.completed_at
        for p in session.exec(
            select(ChallengeProgress).where(
                ChallengeProgress.merchant_id == ctx.merchant.id,
                ChallengeProgress.account_id == account_id,
                ChallengeProgress.challenge_id.in_(list(ids.values())),
                ChallengeProgress.completed_at.is_not(None),
            )
        ).all()
    }
    cards = [
        ChallengeCard(
            key=v.key,
            name=v.name,
            description=v.description,
            action=v.action,
            count=v.count,
            target=v.target,
            pct=v.pct,
            completed=v.completed,
            completed_at=done_at.get((ids.get(v.key), v.period_key)),
            ends_at=v.ends_at,
            resets_at=period_end(v.recurrence, now, ctx.tz),
            recurrence=v.recurrence,
            reward_points=v.reward_points,
            hidden=v.hidden,
        )
        for v in views
    ]
    return [c for c in cards if not c.completed] + [c for c in cards if c.completed]


def _badge_cards(session: Session, ctx: ProgramContext, account_id: int) -> list[BadgeCard]:
    tier = current_tier(session, ctx.merchant.id, account_id, ctx.tiers)
    views = member_badges(
        session,
        merchant_id=ctx.merchant.id,
        account_id=account_id,
        tier_rank=tier.rank if tier else -1,
        tier_ranks=ctx.tier_ranks,
    )
    rows = {b.key: b for b in load_badges(session, ctx.merchant.id)}
    tier_names = {t.key: t.name for t in ctx.tiers}
    challenge_names = dict(
        session.exec(select(Challenge.key, Challenge.name).where(Challenge.merchant_id == ctx.merchant.id)).all()
    )
    hidden = set(session.exec(select(Challenge.key).where(Challenge.merchant_id == ctx.merchant.id, Challenge.hidden)).all())
    cards = []
    for v in views:
        row = rows.get(v.key)
        kind = row.kind if row else ""
        param = (row.param if row else None) or ""
        if kind == BadgeKind.TIER_REACHED.value:
            param = tier_names.get(param, param)
        elif kind == BadgeKind.CHALLENGE.value:
            # A surprise challenge stays a surprise: its badge does not name it.
            param = "" if param in hidden else challenge_names.get(param, "")
        cards.append(
            BadgeCard(v.key, v.name, v.icon, v.description, kind, param, v.earned, v.awarded_at, v.current, v.target, v.pct)
        )
    return cards


def _own_submissions(session: Session, merchant_id: int, account_id: int) -> list[SubmissionView]:
    rows = session.exec(
        select(Submission)
        .where(Submission.merchant_id == merchant_id, Submission.account_id == account_id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(SUBMISSIONS_SHOWN)
    ).all()
    return [_submission_view(r) for r in rows]


def _submission_view(row: Submission) -> SubmissionView:
    return SubmissionView(
        row.id, row.kind, row.url, row.status, row.reason, row.points, row.created_at, row.reviewed_at, row.account_id
    )


def engagement_overview(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> Overview:
    """Everything the Challenges tab shows, for the signed-in member only."""
    now = now or utcnow()
    member = authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as session:
        account = session.get(Account, member.account_id)
        if account is None or account.merchant_id != member.merchant_id or Role(account.role) is not Role.MEMBER:
            raise NotFound(N_("Member not found."), code="member_not_found")
        ctx = load_context(session, member.merchant_id)
        survey = _current_survey(session, ctx.merchant.id, account.id, now)
        balance = ledger.get_balance(session, merchant_id=ctx.merchant.id, account_id=account.id)
        return Overview(
            timezone=account.timezone or ctx.tz,
            merchant_timezone=ctx.tz,
            available=balance.available,
            challenges=_challenge_cards(session, ctx, account.id, now),
            badges=_badge_cards(session, ctx, account.id),
            ways=_ways(session, ctx, account, survey, now),
            survey=survey,
            submissions=_own_submissions(session, ctx.merchant.id, account.id),
            newsletter_subscribed=email_consent_granted(account),
        )


# ================================================================================== writes


def _member(engine: Engine, actor: Actor | None) -> Actor:
    return authorize(engine, actor, MEMBER_ENGAGE, merchant_id=actor.merchant_id if actor else 0)


def upsert_survey(
    session: Session,
    merchant_id: int,
    key: str,
    *,
    title: str,
    questions: list[dict],
    description: str = "",
    is_active: bool = True,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Survey:
    """Create or update the survey ``(merchant_id, key)`` (demo data, later the console).
    Fields are written only when they differ, so a second call writes nothing."""
    title = (title or "").strip()
    if not title or len(title) > 120 or len(description) > 300:
        raise LoyaltyError(N_("The survey questions are not valid."), code="invalid_survey")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise LoyaltyError(N_("The survey must end after it starts."), code="invalid_survey_window")
    values = dict(
        title=title,
        description=description,
        questions=clean_questions(questions),
        is_active=is_active,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    row = session.exec(select(Survey).where(Survey.merchant_id == merchant_id, Survey.key == key)).first()
    if row is None:
        row = Survey(merchant_id=merchant_id, key=key, **values)
        session.add(row)
        session.flush()
        return row
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if changed:
        session.add(row)
        session.flush()
    return row


def survey_key(survey_id: int, account_id: int) -> str:
    return f"survey:{survey_id}:{account_id}"


def submit_survey(
    engine: Engine, actor: Actor | None, survey_id: int, answers: dict, *, now: datetime | None = None
) -> EarnResult:
    """Save the member's answers and pay ``fill_survey``, in one transaction.

    Refused (nothing saved) when the survey is not this merchant's or not open, was already
    answered, an answer is missing or invalid, or the earning rule refuses (no rule, limit)."""
    now = now or utcnow()
    member = _member(engine, actor)

    def run(session: Session) -> EarnResult:
        lock_member(session, member.merchant_id, member.account_id)
        survey = session.get(Survey, survey_id) if isinstance(survey_id, int) and not isinstance(survey_id, bool) else None
        if survey is None or survey.merchant_id != member.merchant_id or not survey.is_active:
            raise NotFound(SURVEY_NOT_FOUND, code="survey_not_found")
        if (survey.starts_at is not None and now < survey.starts_at) or (survey.ends_at is not None and now >= survey.ends_at):
            raise LoyaltyError(SURVEY_NOT_FOUND, code="survey_closed")
        answered = session.exec(
            select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id, SurveyResponse.account_id == member.account_id)
        ).first()
        if answered is not None:
            raise LoyaltyError(SURVEY_ANSWERED, code="survey_answered")
        cleaned = validate_answers(list(survey.questions or []), answers)
        session.add(
            SurveyResponse(
                merchant_id=member.merchant_id, survey_id=survey.id, account_id=member.account_id, answers=cleaned, at=now
            )
        )
        session.flush()
        outcome = earning.record_action_in_session(
            session,
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            action=EarnAction.FILL_SURVEY,
            idempotency_key=survey_key(survey.id, member.account_id),
            detail={"survey_id": survey.id},
            now=now,
        )
        return _result(outcome)

    return run_in_transaction(engine, run)


def subscribe_newsletter(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> EarnResult:
    """Opt the member in to e-mail news (``services.profile.set_consent``) and pay
    ``subscribe_newsletter`` once ever (key ``newsletter:<member>``).

    The consent is always recorded; the points only when a rule applies and they were never
    paid before (otherwise 0 points and ``already=True``)."""
    from loyalty_app.services.profile import set_consent

    now = now or utcnow()
    member = _member(engine, actor)
    set_consent(engine, member, "email", True, now=now)

    def run(session: Session) -> EarnResult:
        lock_member(session, member.merchant_id, member.account_id)
        paid_before = session.exec(
            select(MemberActivity.id).where(
                MemberActivity.merchant_id == member.merchant_id,
                MemberActivity.account_id == member.account_id,
                MemberActivity.action == EarnAction.SUBSCRIBE_NEWSLETTER.value,
            )
        ).first()
        if paid_before is not None:
            raise LoyaltyError(ALREADY_CLAIMED, code="already_claimed")
        outcome = earning.record_action_in_session(
            session,
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            action=EarnAction.SUBSCRIBE_NEWSLETTER,
            idempotency_key=f"newsletter:{member.account_id}",
            now=now,
        )
        return _result(outcome)

    try:
        return run_in_transaction(engine, run)
    except LoyaltyError:  # paid before, no rule, limit: subscribed all the same, without points
        with read_session(engine) as s:
            balance = ledger.get_balance(s, merchant_id=member.merchant_id, account_id=member.account_id)
        return EarnResult(EarnAction.SUBSCRIBE_NEWSLETTER.value, 0, 0, balance.available, already=True)


def event_key(account_id: int, code: str) -> str:
    return f"event:{account_id}:{code}"


def enter_event_code(engine: Engine, actor: Actor | None, code: str, *, now: datetime | None = None, ip: str = "") -> EarnResult:
    """``attend_event`` for a code given out at the event, once per member and code. Wrong codes
    are logged as security events; after ``EVENT_CODE_ATTEMPTS`` in an hour entry pauses."""
    now = now or utcnow()
    member = _member(engine, actor)
    value = clean_event_code(code)
    with read_session(engine) as s:
        wrong = s.exec(
            select(func.count())
            .select_from(SecurityEvent)
            .where(
                SecurityEvent.merchant_id == member.merchant_id,
                SecurityEvent.account_id == member.account_id,
                SecurityEvent.action == "event_code",
                SecurityEvent.at >= now - EVENT_CODE_WINDOW,
            )
        ).one()
    if wrong >= EVENT_CODE_ATTEMPTS:
        raise LoyaltyError(EVENT_CODE_THROTTLED, code="event_code_throttled")
    try:
        outcome = earning.record_action(
            engine,
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            action=EarnAction.ATTEND_EVENT,
            idempotency_key=event_key(member.account_id, value),
            detail={"event_code": value},
            now=now,
        )
    except LoyaltyError as err:
        if err.code == "invalid_event_code":
            permissions.record_security_event(
                engine,
                merchant_id=member.merchant_id,
                account_id=member.account_id,
                action="event_code",
                reason="invalid_event_code",
                detail={"code": value[:MAX_EVENT_CODE_LENGTH]},
                ip=ip,
                now=now,
            )
        raise
    if outcome.replayed:
        raise LoyaltyError(EVENT_CODE_USED, code="event_code_used")
    return _result(outcome)


# The ways a member claims with a button on the Challenges tab (the registry's claim buttons).
CLAIMABLE = frozenset(WAYS_TO_EARN.claimed(Claim.CLAIM_BUTTON))


def claim_action(engine: Engine, actor: Actor | None, action: str, *, now: datetime | None = None) -> EarnResult:
    """Profile-completion points (once) or birthday points (once a year, birthday month), or any
    other way the registry marks as claimed with a button (once per member); the engine checks
    the condition and the rule's limit."""
    now = now or utcnow()
    member = _member(engine, actor)
    if action not in CLAIMABLE:
        raise LoyaltyError(NOT_CLAIMABLE, code="not_claimable")
    with read_session(engine) as s:
        ctx = load_context(s, member.merchant_id)
    if action == EarnAction.COMPLETE_PROFILE.value:
        key = f"profile:{member.account_id}"
    elif action == EarnAction.BIRTHDAY.value:
        key = f"birthday:{member.account_id}:{rules.local_date(now, ctx.tz).year}"
    else:  # another claimable way: once per member
        key = f"claim:{action}:{member.account_id}"
    outcome = earning.record_action(
        engine,
        merchant_id=member.merchant_id,
        account_id=member.account_id,
        action=action,
        idempotency_key=key,
        now=now,
    )
    if outcome.replayed:
        raise LoyaltyError(ALREADY_CLAIMED, code="already_claimed")
    return _result(outcome)


def _check_can_submit(session: Session, member: Actor, kind: str, now: datetime) -> None:
    """A rule must pay this action now and its limit must not be used up; at most
    ``MAX_PENDING`` submissions wait for review per member."""
    account = lock_member(session, member.merchant_id, member.account_id)
    ctx = load_context(session, member.merchant_id)
    rule = _rule_for(session, ctx, account, SUBMISSION_ACTIONS[kind], now)
    if rule is None:
        raise LoyaltyError(NOT_AVAILABLE, code="no_rule")
    rules.check_limit(rule, _used(session, ctx, account.id, rule, now))
    pending = session.exec(
        select(func.count())
        .select_from(Submission)
        .where(
            Submission.merchant_id == member.merchant_id,
            Submission.account_id == member.account_id,
            Submission.status == "pending",
        )
    ).one()
    if pending >= MAX_PENDING:
        raise LoyaltyError(TOO_MANY_PENDING, code="too_many_pending", count=pending)


def submit_social_link(engine: Engine, actor: Actor | None, url: str, *, now: datetime | None = None) -> SubmissionView:
    """Send the link to a post that tags the merchant; points come when the merchant approves."""
    now = now or utcnow()
    member = _member(engine, actor)
    link = clean_social_url(url)

    def run(session: Session) -> SubmissionView:
        _check_can_submit(session, member, "social", now)
        duplicate = session.exec(
            select(Submission.id).where(
                Submission.merchant_id == member.merchant_id,
                Submission.kind == "social",
                Submission.url == link,
                Submission.status != "rejected",
            )
        ).first()
        if duplicate is not None:
            raise LoyaltyError(LINK_DUPLICATE, code="link_duplicate")
        row = Submission(merchant_id=member.merchant_id, account_id=member.account_id, kind="social", url=link, created_at=now)
        session.add(row)
        session.flush()
        return _submission_view(row)

    return run_in_transaction(engine, run)


def submit_photo(
    engine: Engine, actor: Actor | None, data: bytes, *, filename: str = "", now: datetime | None = None
) -> SubmissionView:
    """Enter a photo in the contest. The upload is validated and re-encoded by
    ``services.member_media.decode_upload`` (JPEG/PNG/WebP only, size and pixel limits, EXIF
    stripped, at most 1280 px wide, WebP) before anything is written; the picture is stored as
    a private ``contest`` MediaBlob with the pending submission in one transaction."""
    from loyalty_app.services.media import store_image
    from loyalty_app.services.member_media import decode_upload

    now = now or utcnow()
    member = _member(engine, actor)
    # member_media knows "avatar" and "background"; a contest photo gets the background's
    # treatment (full picture, at most 1280 px wide), stored under its own kind.
    image = decode_upload(data or b"", "background")

    def run(session: Session) -> SubmissionView:
        _check_can_submit(session, member, "photo", now)
        blob = store_image(session, merchant_id=member.merchant_id, kind="contest", image=image, fmt="WEBP")
        duplicate = session.exec(
            select(Submission.id).where(
                Submission.merchant_id == member.merchant_id,
                Submission.kind == "photo",
                Submission.media_id == blob.id,
                Submission.status != "rejected",
            )
        ).first()
        if duplicate is not None:
            raise LoyaltyError(N_("This photo was already sent."), code="photo_duplicate")
        row = Submission(
            merchant_id=member.merchant_id, account_id=member.account_id, kind="photo", media_id=blob.id, created_at=now
        )
        session.add(row)
        session.flush()
        return _submission_view(row)

    return run_in_transaction(engine, run)


def review_submission(
    engine: Engine, admin_actor: Actor | None, submission_id: int, approve: bool, reason: str = "", *, now: datetime | None = None
) -> SubmissionView:
    """The merchant approves (the member earns ``tag_social`` / ``photo_contest`` once, key
    ``submission:<id>``) or rejects (a reason is required and shown to the member).

    Reviewing the same way twice returns the submission unchanged; the other way is a Conflict.
    A refused earn (limit reached, no rule) refuses the approval: the submission stays pending."""
    now = now or utcnow()
    reviewer = authorize(engine, admin_actor, Action.ADMIN_MODERATE, merchant_id=admin_actor.merchant_id if admin_actor else 0)
    reason = (reason or "").strip()
    if not approve:
        if not reason:
            raise LoyaltyError(REASON_REQUIRED, code="reason_required")
        if len(reason) > MAX_REASON_LENGTH:
            raise LoyaltyError(REASON_TOO_LONG, code="reason_too_long", max=MAX_REASON_LENGTH)

    def run(session: Session) -> SubmissionView:
        row = session.exec(select(Submission).where(Submission.id == submission_id).with_for_update()).first()
        if row is None or row.merchant_id != reviewer.merchant_id:
            raise NotFound(SUBMISSION_NOT_FOUND, code="submission_not_found")
        wanted = "approved" if approve else "rejected"
        if row.status == wanted:
            return _submission_view(row)
        if row.status != "pending":
            raise Conflict(SUBMISSION_REVIEWED, code="submission_reviewed")
        if approve:
            outcome = earning.record_action_in_session(
                session,
                merchant_id=row.merchant_id,
                account_id=row.account_id,
                action=SUBMISSION_ACTIONS[row.kind],
                idempotency_key=f"submission:{row.id}",
                detail={"submission_id": row.id},
                now=now,
                author_id=reviewer.account_id,
            )
            row.entry_id = outcome.entry_id
            row.points = outcome.points
        else:
            row.reason = reason
        row.status = wanted
        row.reviewed_by_id = reviewer.account_id
        row.reviewed_at = now
        session.add(row)
        session.flush()
        return _submission_view(row)

    return run_in_transaction(engine, run)


def pending_submissions(engine: Engine, admin_actor: Actor | None, *, limit: int = 50) -> list[SubmissionView]:
    """Submissions waiting for review, oldest first (for the merchant console)."""
    reviewer = authorize(engine, admin_actor, Action.ADMIN_MODERATE, merchant_id=admin_actor.merchant_id if admin_actor else 0)
    with read_session(engine) as s:
        rows = s.exec(
            select(Submission)
            .where(Submission.merchant_id == reviewer.merchant_id, Submission.status == "pending")
            .order_by(Submission.created_at, Submission.id)
            .limit(max(1, min(limit, 200)))
        ).all()
        return [_submission_view(r) for r in rows]


__all__ = [
    "BadgeCard",
    "ChallengeCard",
    "EarnResult",
    "Overview",
    "SubmissionView",
    "SurveyCard",
    "WayToEarn",
    "claim_action",
    "clean_social_url",
    "engagement_overview",
    "enter_event_code",
    "pending_submissions",
    "review_submission",
    "submit_photo",
    "submit_social_link",
    "submit_survey",
    "subscribe_newsletter",
    "upsert_survey",
    "validate_answers",
]
