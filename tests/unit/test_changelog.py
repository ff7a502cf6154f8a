"""The published changelog ("What's new"): members of the program read it, newest first, with
upcoming changes marked; only the program's admin annotates; bad input changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from loyalty_app.db import write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.models import Merchant, Role
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import changelog

PW = "correct horse battery"


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        cafe, books = Merchant(slug="cafe", name="Cafe", short_name="Cafe"), Merchant(slug="books", name="Books", short_name="B")
        s.add(cafe)
        s.add(books)
        s.flush()
        now = utcnow()
        changelog.record_change(
            s,
            merchant_id=cafe.id,
            kind="quest",
            title="Double weekends",
            effective_at=now - timedelta(days=5),
            now=now - timedelta(days=6),
        )
        changelog.record_change(
            s,
            merchant_id=cafe.id,
            kind="tier",
            title="Gold from 1,200",
            body="Was 1,500.",
            effective_at=now + timedelta(days=10),
            now=now - timedelta(days=1),
        )
        changelog.record_change(s, merchant_id=books.id, kind="reward", title="Books only", now=now)
        ids = (cafe.id, books.id)
    member = accounts.sign_up_member(db_engine, merchant_id=ids[0], email="m@x.test", password=PW, first_name="Ana")
    admin = accounts.create_admin(db_engine, merchant_id=ids[0], email="a@x.test", password=PW, first_name="Al")
    books_admin = accounts.create_admin(db_engine, merchant_id=ids[1], email="a@x.test", password=PW, first_name="Bo")
    return {
        "engine": db_engine,
        "member": Actor(member.id, ids[0], Role.MEMBER),
        "admin": Actor(admin.id, ids[0], Role.ADMIN),
        "books_admin": Actor(books_admin.id, ids[1], Role.ADMIN),
    }


def test_members_read_their_programs_changes_newest_first(world):
    rows = changelog.published_changes(world["engine"], world["member"])
    assert [r.title for r in rows] == ["Gold from 1,200", "Double weekends"]
    assert rows[0].upcoming and not rows[1].upcoming and rows[0].body == "Was 1,500."
    with pytest.raises(NotAllowed):
        changelog.published_changes(world["engine"], None)


def test_only_the_programs_admin_annotates(world):
    e = world["engine"]
    change_id = changelog.published_changes(e, world["member"])[0].change_id
    with pytest.raises(NotAllowed):
        changelog.annotate(e, world["member"], change_id=change_id, note="mine")
    with pytest.raises(NotFound):
        changelog.annotate(e, world["books_admin"], change_id=change_id, note="theirs")
    with pytest.raises(LoyaltyError):
        changelog.annotate(e, world["admin"], change_id=change_id, note="x" * 501)
    changelog.annotate(e, world["admin"], change_id=change_id, note="Also on bank holidays.")
    assert changelog.published_changes(e, world["member"])[0].note == "Also on bank holidays."


def test_bad_entries_are_refused(world):
    with write_session(world["engine"]) as s:
        for kwargs in (
            {"kind": "nonsense", "title": "x"},
            {"kind": "reward", "title": "  "},
            {"kind": "reward", "title": "x" * 121},
            {"kind": "reward", "title": "ok", "body": "b" * 1001},
        ):
            with pytest.raises(LoyaltyError):
                changelog.record_change(s, merchant_id=world["member"].merchant_id, **kwargs)
