"""The merchant's fraud view: flags raised by the till (velocity, a cashier's own account), many
accounts behind one IP or one mailbox, self-referral attempts, and the members whose spending is
on hold. Each decision (resolve a flag, suspend or restore spending) is in the audit log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import one_line
from loyalty_app.models import Account, AuthSession, FraudFlag, Role, SecurityEvent, Store
from loyalty_app.services.platform import admin_audit, permissions
from loyalty_app.services.platform.permissions import Action, Actor, canonical_email
from loyalty_app.services.platform.tx import run_in_transaction

SHARED_IP_MIN_ACCOUNTS = 3
WINDOW = timedelta(days=30)
MAX_REASON = 300


@dataclass(frozen=True)
class FlagRow:
    flag_id: int
    kind: str
    at: datetime
    member: str
    member_id: int | None
    staff: str
    store: str
    detail: dict
    resolved: bool
    note: str


@dataclass(frozen=True)
class Cluster:
    """Several member accounts behind one thing (an IP address, a mailbox)."""

    key: str
    members: list[tuple[int, str]]  # (account id, "Ana P. (0001 2345)")


@dataclass(frozen=True)
class SuspendedRow:
    account_id: int
    member: str
    since: datetime
    reason: str


@dataclass(frozen=True)
class FraudOverview:
    flags: list[FlagRow]
    shared_ips: list[Cluster]
    shared_mailboxes: list[Cluster]
    self_referrals: list[tuple[datetime, str, str]]  # (at, member, reason code)
    suspended: list[SuspendedRow]


def _label(account: Account | None) -> str:
    if account is None:
        return ""
    name = f"{account.first_name} {account.last_name[:1] + '.' if account.last_name else ''}".strip() or account.email
    return f"{name} ({account.member_number})" if account.role == Role.MEMBER else name


def fraud_overview(engine: Engine, actor: Actor | None, *, now: datetime | None = None) -> FraudOverview:
    admin = permissions.authorize(engine, actor, Action.ADMIN_MODERATE, merchant_id=actor.merchant_id if actor else 0)
    mid, now = admin.merchant_id, now or utcnow()
    with read_session(engine) as s:
        flags = s.exec(
            select(FraudFlag)
            .where(FraudFlag.merchant_id == mid)
            .order_by(FraudFlag.resolved_at.is_not(None), FraudFlag.at.desc())  # type: ignore[union-attr]
            .limit(200)
        ).all()
        ids = {i for f in flags for i in (f.member_account_id, f.staff_account_id) if i}
        accounts = {a.id: a for a in s.exec(select(Account).where(Account.id.in_(ids))).all()} if ids else {}  # type: ignore[attr-defined]
        stores = dict(s.exec(select(Store.id, Store.name).where(Store.merchant_id == mid)).all())
        flag_rows = [
            FlagRow(
                f.id,
                f.kind,
                f.at,
                _label(accounts.get(f.member_account_id)),
                f.member_account_id,
                _label(accounts.get(f.staff_account_id)),
                stores.get(f.store_id, ""),
                f.detail,
                f.resolved_at is not None,
                f.resolution_note,
            )
            for f in flags
        ]
        shared_ips = _shared_ips(s, mid, now)
        shared_mailboxes = _shared_mailboxes(s, mid)
        self_refs = s.exec(
            select(SecurityEvent.at, SecurityEvent.account_id, SecurityEvent.reason)
            .where(
                SecurityEvent.merchant_id == mid,
                SecurityEvent.reason.like("%self%"),  # type: ignore[attr-defined]
                SecurityEvent.at >= now - WINDOW,
            )
            .order_by(SecurityEvent.at.desc())
            .limit(50)  # type: ignore[attr-defined]
        ).all()
        ref_accounts = {a.id: a for a in s.exec(select(Account).where(Account.id.in_({r[1] for r in self_refs if r[1]}))).all()}  # type: ignore[attr-defined]
        suspended = s.exec(
            select(Account)
            .where(Account.merchant_id == mid, Account.spending_suspended_at.is_not(None))  # type: ignore[union-attr]
            .order_by(Account.spending_suspended_at.desc())  # type: ignore[union-attr]
        ).all()
    return FraudOverview(
        flags=flag_rows,
        shared_ips=shared_ips,
        shared_mailboxes=shared_mailboxes,
        self_referrals=[(at, _label(ref_accounts.get(aid)), reason) for at, aid, reason in self_refs],
        suspended=[SuspendedRow(a.id, _label(a), a.spending_suspended_at, a.spending_suspended_reason) for a in suspended],
    )


def _shared_ips(session: Session, merchant_id: int, now: datetime) -> list[Cluster]:
    """IPs from which several member accounts signed in over the last 30 days (grouped in SQL)."""
    busy = session.exec(
        select(AuthSession.ip)
        .join(Account, Account.id == AuthSession.account_id)
        .where(
            AuthSession.merchant_id == merchant_id,
            Account.role == Role.MEMBER,
            AuthSession.ip != "",
            AuthSession.created_at >= now - WINDOW,
        )
        .group_by(AuthSession.ip)
        .having(func.count(func.distinct(AuthSession.account_id)) >= SHARED_IP_MIN_ACCOUNTS)
        .limit(50)
    ).all()
    clusters = []
    for ip in busy:
        member_ids = session.exec(
            select(AuthSession.account_id)
            .join(Account, Account.id == AuthSession.account_id)
            .where(
                AuthSession.merchant_id == merchant_id,
                AuthSession.ip == ip,
                Account.role == Role.MEMBER,
                AuthSession.created_at >= now - WINDOW,
            )
            .distinct()
        ).all()
        members = session.exec(select(Account).where(Account.id.in_(member_ids)).order_by(Account.id)).all()  # type: ignore[attr-defined]
        clusters.append(Cluster(ip, [(a.id, _label(a)) for a in members]))
    return clusters


def _shared_mailboxes(session: Session, merchant_id: int) -> list[Cluster]:
    """Member accounts whose addresses deliver to one mailbox (ana+1@x, ana+2@x, a.na@gmail)."""
    groups: dict[str, list[Account]] = defaultdict(list)
    for account in session.exec(
        select(Account).where(Account.merchant_id == merchant_id, Account.role == Role.MEMBER, Account.deleted_at.is_(None))  # type: ignore[union-attr]
    ).all():
        groups[canonical_email(account.email)].append(account)
    return [Cluster(box, [(a.id, _label(a)) for a in accounts]) for box, accounts in groups.items() if len(accounts) > 1]


def _reason(text: str) -> str:
    text = one_line(text)
    if not text:
        raise LoyaltyError(N_("Write a short reason."), code="reason_required")
    if len(text) > MAX_REASON:
        raise LoyaltyError(N_("The reason is at most {limit} characters."), code="reason_too_long", limit=MAX_REASON)
    return text


def resolve_flag(engine: Engine, actor: Actor | None, *, flag_id: int, note: str, now: datetime | None = None) -> None:
    admin = permissions.authorize(engine, actor, Action.ADMIN_MODERATE, merchant_id=actor.merchant_id if actor else 0)
    note, now = _reason(note), now or utcnow()

    def run(session: Session) -> None:
        flag = session.get(FraudFlag, flag_id)
        if flag is None or flag.merchant_id != admin.merchant_id:
            raise NotFound(N_("This flag cannot be found."), code="flag_not_found")
        if flag.resolved_at is None:
            flag.resolved_at, flag.resolved_by_id, flag.resolution_note = now, admin.account_id, note
            session.add(flag)
            admin_audit.record(session, admin, "fraud.resolve_flag", target=f"flag:{flag.id}", detail={"note": note}, now=now)

    run_in_transaction(engine, run)


def set_spending_hold(
    engine: Engine, actor: Actor | None, *, account_id: int, hold: bool, reason: str = "", now: datetime | None = None
) -> None:
    """Suspend (with a reason) or restore a member's spending; earning is never blocked."""
    admin = permissions.authorize(
        engine, actor, Action.ADMIN_MODERATE, merchant_id=actor.merchant_id if actor else 0, target_account_id=account_id
    )
    now = now or utcnow()
    text = _reason(reason) if hold else ""

    def run(session: Session) -> None:
        account = session.exec(select(Account).where(Account.id == account_id).with_for_update()).first()
        if account is None or account.merchant_id != admin.merchant_id or account.role != Role.MEMBER:
            raise NotFound(N_("Member not found."), code="member_not_found")
        account.spending_suspended_at = now if hold else None
        account.spending_suspended_reason = text
        session.add(account)
        admin_audit.record(
            session,
            admin,
            "fraud.hold_spending" if hold else "fraud.restore_spending",
            target=f"member:{account.member_number}",
            detail={"reason": text},
            now=now,
        )

    run_in_transaction(engine, run)
