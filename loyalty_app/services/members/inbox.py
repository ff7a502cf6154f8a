"""Member <-> merchant messages: a member writes (a question, a complaint, praise), optionally
about a store visit or one of their vouchers; the merchant answers from the console; the member
sees the answers with an unread count. Complaints are counted for analytics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import read_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.text import lines, one_line
from loyalty_app.models import Account, InboxMessage, InboxThread, Reward, Store, Voucher
from loyalty_app.services.platform import admin_audit, permissions
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.platform.tx import run_in_transaction

TOPICS = ("question", "complaint", "praise")
MAX_SUBJECT, MAX_BODY = 120, 2000
MAX_OPEN_THREADS_PER_DAY = 5


@dataclass(frozen=True)
class MessageView:
    from_merchant: bool
    author: str
    body: str
    at: datetime


@dataclass(frozen=True)
class ThreadView:
    thread_id: int
    topic: str
    subject: str
    status: str
    member: str
    store: str
    voucher: str
    updated_at: datetime
    unread: bool
    messages: list[MessageView]


def _clean(text: str, limit: int, empty_msg: str, code: str) -> str:
    text = lines(text)
    if not text:
        raise LoyaltyError(empty_msg, code=code)
    if len(text) > limit:
        raise LoyaltyError(N_("This is too long ({limit} characters at most)."), code=f"{code}_too_long", limit=limit)
    return text


def _member(engine: Engine, actor: Actor | None) -> Actor:
    return permissions.authorize(engine, actor, Action.EDIT_OWN_PROFILE, merchant_id=actor.merchant_id if actor else 0)


def _admin(engine: Engine, actor: Actor | None) -> Actor:
    return permissions.authorize(engine, actor, Action.ADMIN_MODERATE, merchant_id=actor.merchant_id if actor else 0)


def start_thread(
    engine: Engine,
    actor: Actor | None,
    *,
    topic: str,
    subject: str,
    body: str,
    store_id: int | None = None,
    voucher_id: int | None = None,
    now: datetime | None = None,
) -> int:
    member, now = _member(engine, actor), now or utcnow()
    if topic not in TOPICS:
        raise LoyaltyError(N_("Choose what your message is about."), code="bad_topic")
    subject = _clean(one_line(subject), MAX_SUBJECT, N_("Give your message a subject."), "subject")
    body = _clean(body, MAX_BODY, N_("Write your message."), "body")

    def run(session: Session) -> int:
        if store_id is not None:
            store = session.get(Store, store_id)
            if store is None or store.merchant_id != member.merchant_id:
                raise NotFound(N_("This store cannot be found."), code="store_not_found")
        if voucher_id is not None:
            voucher = session.get(Voucher, voucher_id)
            if voucher is None or voucher.account_id != member.account_id:
                raise NotFound(N_("Voucher not found."), code="voucher_not_found")
        recent = session.exec(
            select(func.count())
            .select_from(InboxThread)
            .where(InboxThread.account_id == member.account_id, InboxThread.created_at >= now - timedelta(days=1))
        ).one()
        if recent >= MAX_OPEN_THREADS_PER_DAY:
            raise LoyaltyError(N_("You have sent many messages today. Please wait for an answer."), code="inbox_limit")
        thread = InboxThread(
            merchant_id=member.merchant_id,
            account_id=member.account_id,
            topic=topic,
            subject=subject,
            store_id=store_id,
            voucher_id=voucher_id,
            created_at=now,
            updated_at=now,
            member_read_at=now,
        )
        session.add(thread)
        session.flush()
        session.add(InboxMessage(thread_id=thread.id, author_id=member.account_id, body=body, at=now))
        return thread.id

    return run_in_transaction(engine, run)


def reply(engine: Engine, actor: Actor | None, *, thread_id: int, body: str, now: datetime | None = None) -> None:
    """A member adds to their own thread, or an admin answers (the thread becomes "answered")."""
    now = now or utcnow()
    is_admin = actor is not None and permissions.is_allowed(Action.ADMIN_MODERATE, actor.role)
    who = _admin(engine, actor) if is_admin else _member(engine, actor)
    body = _clean(body, MAX_BODY, N_("Write your message."), "body")

    def run(session: Session) -> None:
        thread = session.exec(select(InboxThread).where(InboxThread.id == thread_id).with_for_update()).first()
        if thread is None or thread.merchant_id != who.merchant_id or (not is_admin and thread.account_id != who.account_id):
            raise NotFound(N_("This conversation cannot be found."), code="thread_not_found")
        session.add(InboxMessage(thread_id=thread.id, author_id=who.account_id, from_merchant=is_admin, body=body, at=now))
        thread.updated_at = now
        if is_admin:
            thread.status, thread.merchant_read_at = "answered", now
            admin_audit.record(session, who, "inbox.reply", target=f"thread:{thread.id}", now=now)
        else:
            thread.status, thread.member_read_at = "open", now
        session.add(thread)

    run_in_transaction(engine, run)


def _threads(session: Session, merchant_id: int, *, account_id: int | None, for_merchant: bool, limit: int) -> list[ThreadView]:
    query = select(InboxThread).where(InboxThread.merchant_id == merchant_id)
    if account_id is not None:
        query = query.where(InboxThread.account_id == account_id)
    threads = session.exec(query.order_by(InboxThread.updated_at.desc()).limit(limit)).all()  # type: ignore[attr-defined]
    if not threads:
        return []
    ids = [t.id for t in threads]
    messages: dict[int, list[InboxMessage]] = {i: [] for i in ids}
    for m in session.exec(
        select(InboxMessage).where(InboxMessage.thread_id.in_(ids)).order_by(InboxMessage.at, InboxMessage.id)
    ).all():  # type: ignore[attr-defined]
        messages[m.thread_id].append(m)
    people = {a.id: a for a in session.exec(select(Account).where(Account.id.in_({t.account_id for t in threads}))).all()}  # type: ignore[attr-defined]
    stores = dict(session.exec(select(Store.id, Store.name).where(Store.merchant_id == merchant_id)).all())
    voucher_ids = [t.voucher_id for t in threads if t.voucher_id]
    vouchers = (
        dict(
            session.exec(
                select(Voucher.id, Reward.name).join(Reward, Reward.id == Voucher.reward_id).where(Voucher.id.in_(voucher_ids))  # type: ignore[attr-defined]
            ).all()
        )
        if voucher_ids
        else {}
    )
    views = []
    for t in threads:
        msgs = messages[t.id]
        read_at = t.merchant_read_at if for_merchant else t.member_read_at
        unread = any(m.from_merchant != for_merchant and (read_at is None or _aware(m.at) > _aware(read_at)) for m in msgs)
        person = people.get(t.account_id)
        views.append(
            ThreadView(
                t.id,
                t.topic,
                t.subject,
                t.status,
                f"{person.first_name} ({person.member_number})" if person else "",
                stores.get(t.store_id, ""),
                vouchers.get(t.voucher_id, ""),
                _aware(t.updated_at),
                unread,
                [MessageView(m.from_merchant, "", m.body, _aware(m.at)) for m in msgs],
            )
        )
    return views


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def member_threads(engine: Engine, actor: Actor | None, *, limit: int = 50) -> list[ThreadView]:
    member = permissions.authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        return _threads(s, member.merchant_id, account_id=member.account_id, for_merchant=False, limit=limit)


def store_choices(engine: Engine, actor: Actor | None) -> list[tuple[int, str]]:
    """The stores a member may write about (their merchant's active stores), by name: (id, name)."""
    member = permissions.authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    with read_session(engine) as s:
        rows = s.exec(
            select(Store.id, Store.name).where(Store.merchant_id == member.merchant_id, Store.is_active).order_by(Store.name)
        ).all()
    return [(store_id, name) for store_id, name in rows]


def merchant_threads(engine: Engine, actor: Actor | None, *, limit: int = 100) -> list[ThreadView]:
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        return _threads(s, admin.merchant_id, account_id=None, for_merchant=True, limit=limit)


def unread_count(engine: Engine, actor: Actor | None) -> int:
    return sum(1 for t in member_threads(engine, actor) if t.unread)


def mark_read(engine: Engine, actor: Actor | None, *, thread_id: int, now: datetime | None = None) -> None:
    now = now or utcnow()
    is_admin = actor is not None and permissions.is_allowed(Action.ADMIN_MODERATE, actor.role)
    who = (
        _admin(engine, actor)
        if is_admin
        else permissions.authorize(engine, actor, Action.VIEW_OWN_MEMBER_DATA, merchant_id=actor.merchant_id if actor else 0)
    )

    def run(session: Session) -> None:
        thread = session.get(InboxThread, thread_id)
        if thread is None or thread.merchant_id != who.merchant_id or (not is_admin and thread.account_id != who.account_id):
            raise NotFound(N_("This conversation cannot be found."), code="thread_not_found")
        if is_admin:
            thread.merchant_read_at = now
        else:
            thread.member_read_at = now
        session.add(thread)

    run_in_transaction(engine, run)


def thread_member(engine: Engine, actor: Actor | None, *, thread_id: int) -> int:
    """The member a conversation belongs to (for the live push of an answer); admins only."""
    admin = _admin(engine, actor)
    with read_session(engine) as s:
        thread = s.get(InboxThread, thread_id)
    if thread is None or thread.merchant_id != admin.merchant_id:
        raise NotFound(N_("This conversation cannot be found."), code="thread_not_found")
    return thread.account_id


def complaints_between(session: Session, merchant_id: int, start: datetime, end: datetime) -> int:
    """For analytics: complaints opened in [start, end)."""
    return session.exec(
        select(func.count())
        .select_from(InboxThread)
        .where(
            InboxThread.merchant_id == merchant_id,
            InboxThread.topic == "complaint",
            InboxThread.created_at >= start,
            InboxThread.created_at < end,
        )
    ).one()
