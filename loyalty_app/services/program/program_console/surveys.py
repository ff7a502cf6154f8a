"""Surveys in the editor: the questions as lines of text (``questions_text``, ``parse_questions``)
and the survey kind (saved through ``engagement.upsert_survey``)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.models import Merchant, Survey
from loyalty_app.services.earning import engagement
from loyalty_app.services.program.program_console.editor import _Spec, list_function, retire_function, save_function
from loyalty_app.services.program.program_console.forms import _Form, _local_text
from loyalty_app.services.program.program_console.rows import RowView, _Ctx, _status, _window_facts

QUESTIONS_COUNT = N_("Add 1 to 20 questions, one per line.")
QUESTION_KIND = N_("Line {line}: start with choice:, stars: or text:.")
QUESTION_TEXT = N_("Line {line}: write the question (200 characters at most).")
QUESTION_OPTIONS = N_("Line {line}: a choice needs 2 to 12 different answers after “=”, separated by “;”.")
QUESTION_LINE_RE = re.compile(r"^\s*(choice|stars|text)\s*:\s*(.*)$", re.IGNORECASE)
OPTIONAL_MARK_RE = re.compile(r"\s*\((optional|opcional|opțional|необязательно)\)\s*$", re.IGNORECASE)


# ---------------------------------------------------------------- the questions as lines


def questions_text(questions: list[dict]) -> str:
    """A survey's questions as the editor shows them, one per line:
    ``choice: How often? = Daily; Weekly``, ``stars: Rate our coffee``, ``text: Ideas? (optional)``."""
    lines = []
    for q in questions or []:
        line = f"{q.get('kind', 'text')}: {q.get('text', '')}"
        if q.get("kind") == "choice":
            line += " = " + "; ".join(q.get("options") or [])
        if not q.get("required", True):
            line += " (optional)"
        lines.append(line)
    return "\n".join(lines)


def parse_questions(f: _Form, name: str, existing: list[dict]) -> list[dict]:
    """The editor's lines -> the survey's question list (ids kept for unchanged question texts)."""
    lines = [line for line in f.s(name).replace("\r", "\n").split("\n") if line.strip()]
    if not 1 <= len(lines) <= 20:
        f.fail(name, QUESTIONS_COUNT, "invalid_questions")
        return []
    old_ids = {str(q.get("text", "")).strip().lower(): q.get("id") for q in existing or []}
    used: set[str] = set()
    questions: list[dict] = []
    for number, line in enumerate(lines, start=1):
        match = QUESTION_LINE_RE.match(line)
        if match is None:
            f.fail(name, QUESTION_KIND, "invalid_questions", line=number)
            return []
        kind, rest = match.group(1).lower(), match.group(2).strip()
        required = True
        optional = OPTIONAL_MARK_RE.search(rest)
        if optional:
            required, rest = False, rest[: optional.start()].strip()
        options: list[str] = []
        if kind == "choice":
            rest, _sep, tail = rest.partition("=")
            options = [o.strip() for o in tail.split(";") if o.strip()]
            if not 2 <= len(options) <= 12 or len(set(options)) != len(options) or any(len(o) > 80 for o in options):
                f.fail(name, QUESTION_OPTIONS, "invalid_questions", line=number)
                return []
        text = " ".join(rest.split())
        if not text or len(text) > 200:
            f.fail(name, QUESTION_TEXT, "invalid_questions", line=number)
            return []
        qid = old_ids.get(text.lower())
        if not qid or qid in used:
            qid = f"q{number}"
            while qid in used or qid in old_ids.values():
                qid += "x"
        used.add(qid)
        item: dict[str, Any] = {"id": qid, "text": text, "kind": kind, "required": required}
        if kind == "choice":
            item["options"] = options
        if kind == "text":
            item["max_length"] = engagement.DEFAULT_TEXT_MAX
        questions.append(item)
    try:
        return engagement.clean_questions(questions)
    except LoyaltyError:  # pragma: no cover - the checks above are stricter
        f.fail(name, QUESTIONS_COUNT, "invalid_questions")
        return []


# ---------------------------------------------------------------- the survey kind


def _parse_survey(f: _Form, session: Session, merchant: Merchant, row: Survey | None) -> dict:
    values = dict(
        title=f.text("name", max_len=120, required=True),
        description=f.text("description", max_len=300, multiline=True),
        questions=parse_questions(f, "questions", list(row.questions or []) if row is not None else []),
        starts_at=f.moment("starts_at"),
        ends_at=f.moment("ends_at"),
    )
    f.window("ends_at", values["starts_at"], values["ends_at"])
    values["is_active"] = row.is_active if row is not None else True
    return values


def _upsert_survey(session: Session, merchant_id: int, key: str, values: dict) -> Survey:
    return engagement.upsert_survey(session, merchant_id, key, **values)


def _survey_view(row: Survey, ctx: _Ctx) -> RowView:
    facts: list[tuple[str, dict]] = [(N_("Questions: {n}"), {"n": len(row.questions or [])})]
    facts += _window_facts(row.starts_at, row.ends_at)
    form = {
        "id": str(row.id),
        "name": row.title,
        "description": row.description,
        "questions": questions_text(row.questions or []),
        "starts_at": _local_text(row.starts_at, ctx.tz),
        "ends_at": _local_text(row.ends_at, ctx.tz),
    }
    return RowView(
        row.id, row.key, row.title, _status(row.is_active, row.starts_at, row.ends_at, ctx.now), tuple(facts), form, True
    )


SURVEY = _Spec(
    "survey",
    Survey,
    "survey",
    _parse_survey,
    _upsert_survey,
    _survey_view,
    start=lambda r: r.starts_at,
    title_params=lambda r, lang, tz: {"name": r.title},
    order=(Survey.id,),
)


list_surveys = list_function(SURVEY, "list_surveys")
save_survey = save_function(SURVEY, "save_survey")
retire_survey = retire_function(SURVEY, "retire_survey")
