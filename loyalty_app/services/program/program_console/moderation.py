"""Moderation: members' reviews of rewards (hide with a reason, show again) and the posts and photos
sent for review (list, approve or reject, the photo itself), each traced in the admin audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.models import Account, MediaBlob, Reward, RewardRating, Submission
from loyalty_app.services.catalog import rewards as reward_service
from loyalty_app.services.earning import engagement
from loyalty_app.services.platform import admin_audit
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.program.program_console.forms import _aware, _Form
from loyalty_app.services.program.program_console.rows import _admin

REASON_REQUIRED = N_("Say why.")
SUBMISSION_NOT_FOUND = engagement.SUBMISSION_NOT_FOUND


@dataclass(frozen=True)
class ReviewRow:
    rating_id: int
    reward_name: str
    first_name: str
    stars: int
    text: str
    updated_at: datetime
    hidden: bool
    hidden_reason: str


@dataclass(frozen=True)
class SubmissionRow:
    submission_id: int
    kind: str  # social | photo
    url: str
    has_photo: bool
    member: str
    created_at: datetime


# ---------------------------------------------------------------- reviews


def list_reviews(engine: Engine, actor: Actor | None, *, limit: int = 100) -> list[ReviewRow]:
    """Written reviews of the program's rewards, newest first, hidden ones included."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    with read_session(engine) as s:
        rows = s.exec(
            select(RewardRating, Reward.name, Account.first_name)
            .join(Reward, Reward.id == RewardRating.reward_id)
            .join(Account, Account.id == RewardRating.account_id)
            .where(RewardRating.merchant_id == admin.merchant_id, RewardRating.review_text != "")
            .order_by(RewardRating.updated_at.desc(), RewardRating.id.desc())  # type: ignore[attr-defined]
            .limit(max(1, min(limit, 500)))
        ).all()
    return [
        ReviewRow(
            r.id,
            reward,
            first or "",
            r.stars,
            r.review_text,
            _aware(r.updated_at),
            r.hidden_at is not None,
            getattr(r, "hidden_reason", "") or "",
        )
        for r, reward, first in rows
    ]


def hide_review(engine: Engine, actor: Actor | None, rating_id: int | str, reason: str, *, now: datetime | None = None) -> None:
    """Hide a review from members (and from the rating averages), with the reason."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    f = _Form({"reason": reason}, "UTC")
    text = f.text("reason", max_len=300, required=True)
    if "reason" in f.errors and f.errors["reason"].code == "field_required":
        f.errors["reason"] = LoyaltyError(REASON_REQUIRED, code="reason_required", field="reason")
    f.check()
    reward_service.hide_review(
        engine,
        merchant_id=admin.merchant_id,
        rating_id=_review_id(rating_id),
        moderator_id=admin.account_id,
        hidden=True,
        reason=text,
        now=now,
    )
    _audit(engine, admin, "moderation.hide_review", f"review:{rating_id}", {"reason": text})


def show_review(engine: Engine, actor: Actor | None, rating_id: int | str) -> None:
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    reward_service.hide_review(
        engine, merchant_id=admin.merchant_id, rating_id=_review_id(rating_id), moderator_id=admin.account_id, hidden=False
    )
    _audit(engine, admin, "moderation.show_review", f"review:{rating_id}", {})


def _audit(engine: Engine, admin: Actor, action: str, target: str, detail: dict) -> None:
    """Moderation runs in the rewards/engagement services' own transactions; its trace follows."""
    with write_session(engine) as s:
        admin_audit.record(s, admin, action, target=target, detail=detail)


def _review_id(value: int | str) -> int:
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise NotFound(N_("Review not found."), code="review_not_found")
    return int(text)


# ---------------------------------------------------------------- posts and photos sent for review


def list_submissions(engine: Engine, actor: Actor | None, *, limit: int = 50) -> list[SubmissionRow]:
    """Social posts and contest photos waiting for review, oldest first, with the member's name."""
    pending = engagement.pending_submissions(engine, actor, limit=limit)
    ids = {p.account_id for p in pending}
    with read_session(engine) as s:
        names = dict(s.exec(select(Account.id, Account.first_name).where(Account.id.in_(ids))).all()) if ids else {}  # type: ignore[attr-defined]
        media = (
            dict(
                s.exec(
                    select(Submission.id, Submission.media_id).where(Submission.id.in_([p.submission_id for p in pending]))
                ).all()
            )
            if pending
            else {}
        )  # type: ignore[attr-defined]
    return [
        SubmissionRow(
            p.submission_id,
            p.kind,
            p.url,
            bool(media.get(p.submission_id)),
            names.get(p.account_id, "") or "",
            _aware(p.created_at),
        )
        for p in pending
    ]


def review_submission(
    engine: Engine, actor: Actor | None, submission_id: int | str, approve: bool, reason: str = "", *, now: datetime | None = None
) -> engagement.SubmissionView:
    """Approve (the member earns the action's points) or reject with a reason."""
    text = str(submission_id or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        _admin(engine, actor, Action.ADMIN_MODERATE)
        raise NotFound(SUBMISSION_NOT_FOUND, code="submission_not_found")
    view = engagement.review_submission(engine, actor, int(text), approve, reason, now=now)
    _audit(engine, actor, f"moderation.{'approve' if approve else 'reject'}_submission", f"submission:{text}", {"reason": reason})
    return view


def submission_photo(engine: Engine, actor: Actor | None, submission_id: int) -> tuple[str, bytes]:
    """(content type, bytes) of a contest photo, for the merchant's admins only."""
    admin = _admin(engine, actor, Action.ADMIN_MODERATE)
    with read_session(engine) as s:
        row = s.get(Submission, submission_id)
        blob = s.get(MediaBlob, row.media_id) if row is not None and row.media_id else None
        if row is None or row.merchant_id != admin.merchant_id or blob is None or blob.merchant_id != admin.merchant_id:
            raise NotFound(SUBMISSION_NOT_FOUND, code="submission_not_found")
        return blob.content_type, blob.data
