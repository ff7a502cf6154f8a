"""The merchant admin's first screen: a few program figures, aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, LedgerEntry, MemberBalance, Role, Store
from loyalty_app.services.platform import permissions
from loyalty_app.services.platform.permissions import Action, Actor


@dataclass(frozen=True)
class ProgramOverview:
    members: int
    new_members_30d: int
    stores: int
    outstanding_points: int  # the program's liability: points members can still spend
    earned_30d: int
    spent_30d: int


def program_overview(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> ProgramOverview:
    admin = permissions.authorize(engine, actor, Action.ADMIN_VIEW_ANALYTICS, merchant_id=actor.merchant_id if actor else 0)
    mid = admin.merchant_id
    since = (now or utcnow()) - timedelta(days=30)
    with read_session(engine) as s:
        members = s.exec(
            select(func.count())
            .select_from(Account)
            .where(
                Account.merchant_id == mid,
                Account.role == Role.MEMBER,
                Account.deleted_at.is_(None),  # type: ignore[union-attr]
            )
        ).one()
        new_members = s.exec(
            select(func.count())
            .select_from(Account)
            .where(Account.merchant_id == mid, Account.role == Role.MEMBER, Account.created_at >= since)
        ).one()
        stores = s.exec(select(func.count()).select_from(Store).where(Store.merchant_id == mid, Store.is_active)).one()
        outstanding = s.exec(
            select(func.coalesce(func.sum(MemberBalance.available + MemberBalance.pending), 0)).where(
                MemberBalance.merchant_id == mid
            )
        ).one()
        earned, spent = s.exec(
            select(
                func.coalesce(func.sum(LedgerEntry.earned_delta), 0),
                func.coalesce(func.sum(LedgerEntry.spent_delta), 0),
            ).where(LedgerEntry.merchant_id == mid, LedgerEntry.created_at >= since)
        ).one()
    return ProgramOverview(int(members), int(new_members), int(stores), int(outstanding), int(earned), int(spent))
