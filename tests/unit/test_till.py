"""The manual till: who may look members up and credit them, and what bad input does."""

from __future__ import annotations

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.money import parse_amount_cents
from loyalty_app.models import LedgerEntry, Merchant, Role, Store
from loyalty_app.services import ledger
from loyalty_app.services.insight import overview
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.store import till

PW = "correct horse battery"


def _merchant(engine, slug: str) -> tuple[int, int, int]:
    with write_session(engine) as s:
        m = Merchant(slug=slug, name=slug.title(), short_name=slug.title())
        s.add(m)
        s.flush()
        a, b = Store(merchant_id=m.id, code="a", name="A"), Store(merchant_id=m.id, code="b", name="B")
        s.add(a)
        s.add(b)
        s.flush()
        return m.id, a.id, b.id


@pytest.fixture
def world(db_engine):
    cafe, store_a, store_b = _merchant(db_engine, "cafe")
    books, books_store, _ = _merchant(db_engine, "books")
    member = accounts.sign_up_member(db_engine, merchant_id=cafe, email="m@x.test", password=PW, first_name="Ana")
    staff = accounts.create_staff(
        db_engine, merchant_id=cafe, email="s@x.test", password=PW, first_name="Sam", store_ids=[store_a]
    )
    admin = accounts.create_admin(db_engine, merchant_id=cafe, email="a@x.test", password=PW, first_name="Al")
    other_staff = accounts.create_staff(
        db_engine, merchant_id=books, email="s@x.test", password=PW, first_name="Bo", store_ids=[books_store]
    )
    return {
        "engine": db_engine,
        "member": member,
        "store_a": store_a,
        "store_b": store_b,
        "staff": Actor(staff.id, cafe, Role.STAFF, frozenset({store_a}), 1),
        "admin": Actor(admin.id, cafe, Role.ADMIN, frozenset(), 2),
        "member_actor": Actor(member.id, cafe, Role.MEMBER, frozenset(), 3),
        "other_staff": Actor(other_staff.id, books, Role.STAFF, frozenset({books_store}), 4),
    }


def test_staff_finds_member_and_credits_once_per_receipt(world):
    e, staff = world["engine"], world["staff"]
    found = till.find_member(e, staff, store_id=world["store_a"], member_number=world["member"].member_number)
    assert found.account_id == world["member"].id and found.name == "Ana" and found.available == 0
    first = till.credit_purchase_at_till(
        e, staff, store_id=world["store_a"], member_account_id=found.account_id, amount_text="24,50", receipt="R1"
    ).outcome
    again = till.credit_purchase_at_till(
        e, staff, store_id=world["store_a"], member_account_id=found.account_id, amount_text="24.50", receipt="R1"
    ).outcome
    assert first.points == 24 and not first.replayed
    assert again.replayed and again.entry_id == first.entry_id
    with read_session(e) as s:
        assert ledger.get_balance(s, merchant_id=staff.merchant_id, account_id=found.account_id).available == 24
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.account_id == found.account_id)).all()
        assert len(entries) == 1 and entries[0].author_id == staff.account_id


@pytest.mark.parametrize("text", ["", "abc", "-3", "0", "0.00", "12.345", "1e5", "100000.01"])
def test_bad_amounts_are_refused_and_write_nothing(world, text):
    e, staff = world["engine"], world["staff"]
    with pytest.raises(LoyaltyError):
        till.credit_purchase_at_till(
            e, staff, store_id=world["store_a"], member_account_id=world["member"].id, amount_text=text, receipt="R9"
        )
    with read_session(e) as s:
        assert s.exec(select(LedgerEntry)).all() == []


def test_amount_parsing():
    assert parse_amount_cents("24.5") == 2450
    assert parse_amount_cents(" 1 234,56 ") == 123456
    assert parse_amount_cents("100000") == 10_000_000


def test_staff_of_another_store_merchant_or_a_member_are_refused(world):
    e = world["engine"]
    number = world["member"].member_number
    with pytest.raises(NotAllowed):
        till.find_member(e, world["staff"], store_id=world["store_b"], member_number=number)
    with pytest.raises(NotAllowed):
        till.find_member(e, world["member_actor"], store_id=world["store_a"], member_number=number)
    with pytest.raises(NotAllowed):
        till.find_member(e, None, store_id=world["store_a"], member_number=number)
    # Staff of another merchant cannot reach a cafe store, nor find cafe members from their own.
    with pytest.raises(NotAllowed):
        till.find_member(e, world["other_staff"], store_id=world["store_a"], member_number=number)
    books_store = next(iter(world["other_staff"].store_ids))
    with pytest.raises(NotFound):
        till.find_member(e, world["other_staff"], store_id=books_store, member_number=number)
    with pytest.raises(NotAllowed):
        till.credit_purchase_at_till(
            e, world["other_staff"], store_id=books_store, member_account_id=world["member"].id, amount_text="5", receipt="X"
        )


def test_unknown_number_gets_a_clear_message(world):
    with pytest.raises(NotFound) as err:
        till.find_member(world["engine"], world["staff"], store_id=world["store_a"], member_number="12")
    assert "No member has this number" in err.value.message


def test_admin_overview_is_admin_only_and_counts_this_merchant(world):
    e = world["engine"]
    till.credit_purchase_at_till(
        e, world["admin"], store_id=world["store_b"], member_account_id=world["member"].id, amount_text="10", receipt="A1"
    )
    figures = overview.program_overview(e, world["admin"])
    assert figures.members == 1 and figures.stores == 2 and figures.outstanding_points == 10 and figures.earned_30d == 10
    with pytest.raises(NotAllowed):
        overview.program_overview(e, world["staff"])
    with pytest.raises(NotAllowed):
        overview.program_overview(e, world["other_staff"])
