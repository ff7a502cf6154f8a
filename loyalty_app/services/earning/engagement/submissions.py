"""Posts and photos sent for review: the member's submissions (``submit_social_link``,
``submit_photo``), the merchant's review (``review_submission``, ``pending_submissions``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain import earning as rules
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotFound
from loyalty_app.domain.ways_to_earn import WAYS_TO_EARN, Claim
from loyalty_app.models import Submission
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning.actions import load_context, lock_member
from loyalty_app.services.earning.engagement.common import _member, _rule_for, _used
from loyalty_app.services.members.media import store_image
from loyalty_app.services.members.member_media import decode_upload
from loyalty_app.services.platform.permissions import Action, Actor, authorize
from loyalty_app.services.platform.tx import run_in_transaction

# What a member sends for review (``Submission.kind``) -> the way to earn it pays once approved:
# the registry's ways claimed by review, each with its own submit function below.
SUBMISSION_ACTIONS = {"social": EarnAction.TAG_SOCIAL.value, "photo": EarnAction.PHOTO_CONTEST.value}
assert set(SUBMISSION_ACTIONS.values()) == set(WAYS_TO_EARN.claimed(Claim.REVIEWED)), "a reviewed way needs its kind"

SOCIAL_HOSTS: tuple[str, ...] = ("instagram.com", "facebook.com", "tiktok.com", "x.com", "twitter.com", "threads.net")
MAX_URL_LENGTH = 500
MAX_PENDING = 5  # submissions waiting for review per member
SUBMISSIONS_SHOWN = 20
MAX_REASON_LENGTH = 300

NOT_AVAILABLE = N_("This way to earn is not available right now.")
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


def _submission_view(row: Submission) -> SubmissionView:
    return SubmissionView(
        row.id, row.kind, row.url, row.status, row.reason, row.points, row.created_at, row.reviewed_at, row.account_id
    )


def _own_submissions(session: Session, merchant_id: int, account_id: int) -> list[SubmissionView]:
    rows = session.exec(
        select(Submission)
        .where(Submission.merchant_id == merchant_id, Submission.account_id == account_id)
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(SUBMISSIONS_SHOWN)
    ).all()
    return [_submission_view(r) for r in rows]


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
    ``services.members.member_media.decode_upload`` (JPEG/PNG/WebP only, size and pixel limits, EXIF
    stripped, at most 1280 px wide, WebP) before anything is written; the picture is stored as
    a private ``contest`` MediaBlob with the pending submission in one transaction."""

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
