"""The program's published changelog: what changed in the rules, when it takes effect, and the
merchant's notes. Members read it on "What's new"; the merchant console writes it when a rule
change is published (``record_change`` inside the publishing transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import lines, one_line
from loyalty_app.models import ProgramChange, Role
from loyalty_app.services.earning.segments import MemberSegments
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.platform.tx import run_in_transaction

KINDS = ("reward", "earning", "tier", "quest", "challenge", "badge", "charity", "survey", "program")
MAX_NOTE = 500


@dataclass(frozen=True)
class ChangeView:
    change_id: int
    kind: str
    title: str
    body: str
    effective_at: datetime
    published_at: datetime
    note: str
    upcoming: bool  # takes effect later


def record_change(
    session: Session,
    *,
    merchant_id: int,
    kind: str,
    title: str,
    body: str = "",
    effective_at: datetime | None = None,
    author_id: int | None = None,
    now: datetime | None = None,
    segment_key: str | None = None,
) -> ProgramChange:
    """Publish one changelog entry in the caller's transaction (the rule change and its entry
    land together or not at all). ``segment_key``: the change concerns an offer targeted at that
    segment, so only its members read it (a merchant's "At risk" offer is not news for everyone)."""
    now = now or utcnow()
    title = one_line(title)
    if kind not in KINDS:
        raise LoyaltyError(N_("Unknown kind of change."), code="bad_change_kind")
    if not title or len(title) > 120:
        raise LoyaltyError(N_("Give the change a title (120 characters at most)."), code="bad_change_title")
    if len(body or "") > 1000:
        raise LoyaltyError(N_("The description is at most {limit} characters."), code="bad_change_body", limit=1000)
    row = ProgramChange(
        merchant_id=merchant_id,
        kind=kind,
        title=title,
        body=(body or "").strip(),
        effective_at=effective_at or now,
        published_at=now,
        author_id=author_id,
        segment_key=segment_key or None,
    )
    session.add(row)
    session.flush()
    return row


def published_changes(engine: Engine, actor: Actor | None, *, limit: int = 50, now: datetime | None = None) -> list[ChangeView]:
    """Newest first, for a member of the program (entries of targeted offers only when the member
    is in the segment) or its admin (every entry)."""

    is_admin = actor is not None and actor.role == Role.ADMIN
    action = Action.ADMIN_MANAGE_PROGRAM if is_admin else Action.VIEW_OWN_MEMBER_DATA
    who = permissions.authorize(engine, actor, action, merchant_id=actor.merchant_id if actor else 0)
    now = now or utcnow()
    limit = max(1, min(limit, 200))
    with read_session(engine) as s:
        rows = s.exec(
            select(ProgramChange)
            .where(ProgramChange.merchant_id == who.merchant_id, ProgramChange.published_at <= now)
            .order_by(ProgramChange.published_at.desc(), ProgramChange.id.desc())  # type: ignore[attr-defined]
            .limit(limit if is_admin else limit * 2)
        ).all()
        if not is_admin:
            segments = MemberSegments(s, who.account_id, now)  # computed only if an entry is targeted
            rows = [r for r in rows if segments.allows(r.segment_key)][:limit]
    return [_view(r, now) for r in rows]


def annotate(engine: Engine, actor: Actor | None, *, change_id: int, note: str) -> ChangeView:
    """The merchant adds or edits a note on a published entry ("extended to Sundays too")."""
    admin = permissions.authorize(engine, actor, Action.ADMIN_MANAGE_PROGRAM, merchant_id=actor.merchant_id if actor else 0)
    note = lines(note)
    if len(note) > MAX_NOTE:
        raise LoyaltyError(N_("A note is at most {limit} characters."), code="note_too_long", limit=MAX_NOTE)

    def run(session: Session) -> ChangeView:
        row = session.get(ProgramChange, change_id)
        if row is None or row.merchant_id != admin.merchant_id:
            raise NotFound(N_("This change cannot be found."), code="change_not_found")
        row.note = note
        session.add(row)
        session.flush()
        return _view(row, utcnow())

    return run_in_transaction(engine, run)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _view(row: ProgramChange, now: datetime) -> ChangeView:
    return ChangeView(
        row.id,
        row.kind,
        row.title,
        row.body,
        _aware(row.effective_at),
        _aware(row.published_at),
        row.note,
        upcoming=_aware(row.effective_at) > now,
    )
