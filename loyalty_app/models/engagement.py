"""Ways to earn beyond purchases: surveys a merchant defines with the members' answers, and
posts or photos members send in for the merchant to review (social tags, photo contest).

Points never live here: an answered survey or an approved submission is paid through
``services.earning.actions.record_action`` (the ledger), and ``entry_id`` / the activity's idempotency
key (``survey:<id>:<member>``, ``submission:<id>``) tie the two together.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty_app.domain.clock import utcnow
from loyalty_app.models.program import KeyedDefinition, MemberRow


class Survey(KeyedDefinition, table=True):
    """A short questionnaire. ``questions`` is a list of
    ``{"id", "text", "kind": "choice"|"text"|"stars", "options": [...], "required": bool,
    "max_length": int}`` (options only for ``choice``; ``required`` defaults to true)."""

    title: str = Field(max_length=120)
    description: str = Field(default="", max_length=300)
    questions: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_active: bool = True
    starts_at: datetime | None = None  # UTC
    ends_at: datetime | None = None  # UTC
    created_at: datetime = Field(default_factory=utcnow)


class SurveyResponse(SQLModel, table=True):
    """One member's answers to one survey (once: the unique constraint backs the service up)."""

    __table_args__ = (UniqueConstraint("survey_id", "account_id"),)

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    answers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # question id -> answer
    at: datetime = Field(default_factory=utcnow)


class Submission(MemberRow, table=True):
    """A member's post link (``social``) or photo (``photo``) waiting for the merchant's review.

    ``status``: pending | approved | rejected. Approving pays the action's earning rule once
    (``entry_id``, idempotency key ``submission:<id>``); rejecting needs a ``reason`` the member
    sees."""

    __table_args__ = (Index("ix_submission_merchant_status", "merchant_id", "status"),)

    kind: str = Field(max_length=8)  # social | photo
    url: str = Field(default="", max_length=500)
    media_id: int | None = Field(default=None, foreign_key="mediablob.id")
    status: str = Field(default="pending", max_length=10)
    reason: str = Field(default="", max_length=300)
    reviewed_by_id: int | None = Field(default=None, foreign_key="account.id")
    reviewed_at: datetime | None = None
    entry_id: int | None = None  # the ledger entry that paid for it
    points: int = 0  # credited on approval
    created_at: datetime = Field(default_factory=utcnow)
