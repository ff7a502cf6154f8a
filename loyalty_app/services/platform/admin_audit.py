"""The audit log of admin actions: who did what to which object, and when. Written in the same
transaction as the action (``record``), so an action and its trace land together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, AdminAuditEntry
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor


def record(
    session: Session, actor: Actor, action: str, *, target: str = "", detail: dict | None = None, now: datetime | None = None
) -> None:
    session.add(
        AdminAuditEntry(
            merchant_id=actor.merchant_id,
            actor_id=actor.account_id,
            action=action[:48],
            target=target[:120],
            detail=detail or {},
            at=now or utcnow(),
        )
    )


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    who: str
    action: str
    target: str
    detail: dict


def recent(engine: Engine, actor: Actor | None, *, limit: int = 100) -> list[AuditRow]:
    admin = permissions.authorize(engine, actor, Action.ADMIN_VIEW_ANALYTICS, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        rows = s.exec(
            select(AdminAuditEntry, Account.first_name, Account.email)
            .join(Account, Account.id == AdminAuditEntry.actor_id, isouter=True)
            .where(AdminAuditEntry.merchant_id == admin.merchant_id)
            .order_by(AdminAuditEntry.at.desc(), AdminAuditEntry.id.desc())  # type: ignore[attr-defined]
            .limit(max(1, min(limit, 500)))
        ).all()
    return [AuditRow(e.at, first or email or "", e.action, e.target, e.detail) for e, first, email in rows]
