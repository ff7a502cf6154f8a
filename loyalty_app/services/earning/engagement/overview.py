"""The Challenges tab's read model: ``engagement_overview`` gathers, in one read, the member's
challenges, badges, the ways to earn open to them now, the current survey and their submissions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import earning as rules
from loyalty_app.domain.badges import BadgeKind
from loyalty_app.domain.challenges import Recurrence
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, NotFound
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN
from loyalty_app.models import Account, Challenge, ChallengeProgress, EarningRule, Role, Submission
from loyalty_app.services import ledger
from loyalty_app.services.earning.actions import ProgramContext, load_context
from loyalty_app.services.earning.badges import load_badges, member_badges
from loyalty_app.services.earning.challenges import member_challenges
from loyalty_app.services.earning.engagement.common import _limit_reached, _RuleFinder, _used
from loyalty_app.services.earning.engagement.submissions import SUBMISSION_ACTIONS, SubmissionView, _own_submissions
from loyalty_app.services.earning.engagement.surveys import SurveyCard, _current_survey
from loyalty_app.services.earning.tiers import current_tier
from loyalty_app.services.platform.permissions import Action, Actor, authorize

# The ways to earn the Challenges tab offers, in the order it shows them (the registry's cards).
WAYS: tuple[str, ...] = WAYS_TO_EARN.on_challenges_tab()


def period_end(recurrence: str, now: datetime, tz: str) -> datetime | None:
    """When the current week or month of a recurring challenge ends (merchant's midnight)."""
    day = rules.local_date(now, tz)
    if recurrence == Recurrence.WEEKLY.value:
        return rules.local_midnight_utc(day + timedelta(days=7 - day.weekday()), tz)
    if recurrence == Recurrence.MONTHLY.value:
        first = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
        return rules.local_midnight_utc(first, tz)
    return None


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


def email_consent_granted(account: Account) -> bool:
    value = (account.consents or {}).get("email")
    if isinstance(value, dict):
        return bool(value.get("granted"))
    return bool(value)  # older rows: an ISO timestamp string


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
