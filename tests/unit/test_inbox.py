"""Member <-> merchant messages: who may write, read and answer; unread counts; complaints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import Merchant, Role, Store
from loyalty_app.services.members import accounts, inbox
from loyalty_app.services.platform.permissions import Actor

PW = "correct horse battery"


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        m, other = Merchant(slug="cafe", name="Cafe", short_name="Cafe"), Merchant(slug="books", name="Books", short_name="B")
        s.add(m)
        s.add(other)
        s.flush()
        store, foreign = (
            Store(merchant_id=m.id, code="a", name="Old Town"),
            Store(merchant_id=other.id, code="b", name="Books St"),
        )
        s.add(store)
        s.add(foreign)
        s.flush()
        ids = dict(cafe=m.id, books=other.id, store=store.id, foreign_store=foreign.id)
    ana = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="ana@x.test", password=PW, first_name="Ana")
    bob = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="bob@x.test", password=PW, first_name="Bob")
    admin = accounts.create_admin(db_engine, merchant_id=ids["cafe"], email="boss@x.test", password=PW, first_name="Al")
    books_admin = accounts.create_admin(db_engine, merchant_id=ids["books"], email="boss@x.test", password=PW, first_name="Bk")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="sam@x.test", password=PW, first_name="Sam", store_ids=[ids["store"]]
    )
    return {
        **ids,
        "engine": db_engine,
        "ana": Actor(ana.id, ids["cafe"], Role.MEMBER),
        "bob": Actor(bob.id, ids["cafe"], Role.MEMBER),
        "admin": Actor(admin.id, ids["cafe"], Role.ADMIN),
        "books_admin": Actor(books_admin.id, ids["books"], Role.ADMIN),
        "staff": Actor(staff.id, ids["cafe"], Role.STAFF, frozenset({ids["store"]})),
    }


def test_a_complaint_is_answered_and_the_member_sees_it_unread(world):
    e, now = world["engine"], utcnow()
    thread_id = inbox.start_thread(
        e,
        world["ana"],
        topic="complaint",
        subject="Cold coffee",
        body="My flat white was cold.",
        store_id=world["store"],
        now=now,
    )
    assert inbox.unread_count(e, world["ana"]) == 0
    admin_view = inbox.merchant_threads(e, world["admin"])
    assert [(t.topic, t.store, t.unread, t.status) for t in admin_view] == [("complaint", "Old Town", True, "open")]
    inbox.reply(e, world["admin"], thread_id=thread_id, body="Sorry! Your next one is on us.", now=now + timedelta(minutes=5))
    assert inbox.unread_count(e, world["ana"]) == 1
    mine = inbox.member_threads(e, world["ana"])[0]
    assert mine.status == "answered" and [m.from_merchant for m in mine.messages] == [False, True]
    inbox.mark_read(e, world["ana"], thread_id=thread_id, now=now + timedelta(minutes=6))
    assert inbox.unread_count(e, world["ana"]) == 0
    with read_session(e) as s:
        assert inbox.complaints_between(s, world["cafe"], now - timedelta(days=1), now + timedelta(days=1)) == 1


def test_nobody_reads_or_answers_someone_elses_conversation(world):
    e = world["engine"]
    thread_id = inbox.start_thread(e, world["ana"], topic="question", subject="Opening hours", body="Open on Sunday?")
    assert inbox.member_threads(e, world["bob"]) == []
    with pytest.raises(NotFound):
        inbox.reply(e, world["bob"], thread_id=thread_id, body="I am not Ana")
    with pytest.raises(NotFound):
        inbox.reply(e, world["books_admin"], thread_id=thread_id, body="other shop")
    with pytest.raises(NotAllowed):
        inbox.merchant_threads(e, world["staff"])
    with pytest.raises(NotAllowed):
        inbox.start_thread(e, None, topic="question", subject="x", body="y")


def test_bad_input_changes_nothing(world):
    e = world["engine"]
    for kwargs, code in (
        ({"topic": "spam", "subject": "s", "body": "b"}, "bad_topic"),
        ({"topic": "praise", "subject": "  ", "body": "b"}, "subject"),
        ({"topic": "praise", "subject": "s", "body": ""}, "body"),
        ({"topic": "praise", "subject": "s" * 121, "body": "b"}, "subject_too_long"),
        ({"topic": "praise", "subject": "s", "body": "b", "store_id": None, "voucher_id": 999999}, "voucher_not_found"),
    ):
        with pytest.raises(LoyaltyError) as err:
            inbox.start_thread(e, world["ana"], **kwargs)
        assert err.value.code == code
    with pytest.raises(NotFound):
        inbox.start_thread(e, world["ana"], topic="praise", subject="s", body="b", store_id=world["foreign_store"])
    assert inbox.member_threads(e, world["ana"]) == []


def test_a_member_can_open_a_few_conversations_a_day(world):
    e = world["engine"]
    for i in range(inbox.MAX_OPEN_THREADS_PER_DAY):
        inbox.start_thread(e, world["ana"], topic="praise", subject=f"Thanks {i}", body="Great")
    with pytest.raises(LoyaltyError) as err:
        inbox.start_thread(e, world["ana"], topic="praise", subject="One more", body="Great")
    assert err.value.code == "inbox_limit"
