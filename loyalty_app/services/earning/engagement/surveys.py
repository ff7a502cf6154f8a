"""Surveys: the merchant's questions checked (``clean_questions``, ``upsert_survey``), the survey a
member sees, and ``submit_survey`` (answers checked, saved and paid in one transaction)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.domain.clock import utcnow, within
from loyalty_app.domain.earning import Action as EarnAction
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.models import Survey, SurveyResponse
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning.actions import lock_member
from loyalty_app.services.earning.engagement.common import EarnResult, _member, _result
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.platform.tx import run_in_transaction
from loyalty_app.services.platform.upsert import upsert_by_key

DEFAULT_TEXT_MAX = 500
MAX_TEXT_MAX = 2000
QUESTION_KINDS = ("choice", "text", "stars")

SURVEY_NOT_FOUND = N_("This survey is not available.")
SURVEY_ANSWERED = N_("You already answered this survey. Thank you!")
ANSWER_REQUIRED = N_("Please answer: {question}")
INVALID_CHOICE = N_("Choose one of the offered answers for: {question}")
INVALID_STARS = N_("Give 1 to 5 stars for: {question}")
ANSWER_TOO_LONG = N_("Your answer to “{question}” is too long (at most {max} characters).")
INVALID_ANSWER = N_("This answer is not valid: {question}")


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


@dataclass(frozen=True)
class SurveyCard:
    survey_id: int
    title: str
    description: str
    questions: list[dict]
    answered_at: datetime | None


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
    return upsert_by_key(session, Survey, merchant_id, key, **values)


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
        if not within(now, survey.starts_at, survey.ends_at):
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
