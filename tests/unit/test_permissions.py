"""The authorization matrix (every Action x anonymous, member, another member, staff of another
store, staff, admin, admin of another merchant), object-level rules and the refusal log."""

from dataclasses import dataclass

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import NotAllowed
from loyalty_app.models import Account, Merchant, Role, SecurityEvent, Store
from loyalty_app.services.platform.permissions import (
    ADMIN_ACTIONS,
    MEMBER_ACTIONS,
    STAFF_ACTIONS,
    Action,
    Actor,
    authorize,
    is_allowed,
)


@dataclass
class World:
    cafe: int
    books: int
    store_1: int
    store_2: int
    books_store: int
    member: Actor
    other_member: Actor
    staff: Actor
    staff_other_store: Actor
    admin: Actor
    books_admin: Actor
    books_member: Actor


def _account(s, merchant_id, role, email) -> int:
    # No password hashing here: authorization never looks at passwords.
    number = str(10_000_000 + len(s.exec(select(Account.id)).all()))
    account = Account(merchant_id=merchant_id, role=role, email=email, password_hash="x", member_number=number)
    s.add(account)
    s.flush()
    return account.id


@pytest.fixture
def world(db_engine) -> World:
    with write_session(db_engine) as s:
        cafe, books = Merchant(slug="cafe", name="Cafe", short_name="Cafe"), Merchant(slug="books", name="B", short_name="B")
        s.add_all([cafe, books])
        s.flush()
        stores = [Store(merchant_id=cafe.id, code="one", name="One"), Store(merchant_id=cafe.id, code="two", name="Two")]
        stores.append(Store(merchant_id=books.id, code="centro", name="Centro"))
        s.add_all(stores)
        s.flush()
        store_1, store_2, books_store = (st.id for st in stores)
        ids = {
            name: _account(s, merchant, role, f"{name}@example.com")
            for name, merchant, role in [
                ("member", cafe.id, Role.MEMBER),
                ("other_member", cafe.id, Role.MEMBER),
                ("staff", cafe.id, Role.STAFF),
                ("staff_other_store", cafe.id, Role.STAFF),
                ("admin", cafe.id, Role.ADMIN),
                ("books_admin", books.id, Role.ADMIN),
                ("books_member", books.id, Role.MEMBER),
            ]
        }
        cafe_id, books_id = cafe.id, books.id
    return World(
        cafe=cafe_id,
        books=books_id,
        store_1=store_1,
        store_2=store_2,
        books_store=books_store,
        member=Actor(ids["member"], cafe_id, Role.MEMBER, frozenset(), 1),
        other_member=Actor(ids["other_member"], cafe_id, Role.MEMBER, frozenset(), 2),
        staff=Actor(ids["staff"], cafe_id, Role.STAFF, frozenset({store_1}), 3),
        staff_other_store=Actor(ids["staff_other_store"], cafe_id, Role.STAFF, frozenset({store_2}), 4),
        admin=Actor(ids["admin"], cafe_id, Role.ADMIN, frozenset({store_1, store_2}), 5),
        books_admin=Actor(ids["books_admin"], books_id, Role.ADMIN, frozenset({books_store}), 6),
        books_member=Actor(ids["books_member"], books_id, Role.MEMBER, frozenset(), 7),
    )


def call_for(world: World, action: Action) -> dict:
    """The natural request for each action, always about the cafe member at store one."""
    if action in MEMBER_ACTIONS:
        return {"target_account_id": world.member.account_id}
    if action in STAFF_ACTIONS:
        return {"target_account_id": world.member.account_id, "store_id": world.store_1}
    return {}


# Which actor may do which action (the expected matrix, written out independently of the code).
EXPECTED_ALLOWED = {
    "anonymous": set(),
    "member": set(MEMBER_ACTIONS),
    "other_member": set(),
    "staff_other_store": set(),
    "staff": set(STAFF_ACTIONS),
    "admin": set(ADMIN_ACTIONS) | set(STAFF_ACTIONS),
    "books_admin": set(),
}


def security_events(engine) -> list[tuple]:
    with read_session(engine) as s:
        return [
            (e.merchant_id, e.account_id, e.action, e.reason, e.detail)
            for e in s.exec(select(SecurityEvent).order_by(SecurityEvent.id)).all()
        ]


def test_every_action_has_roles():
    assert MEMBER_ACTIONS | STAFF_ACTIONS | ADMIN_ACTIONS == set(Action)
    assert len(Action) == 15


@pytest.mark.parametrize("who", list(EXPECTED_ALLOWED))
def test_permission_matrix(db_engine, world, who):
    actor = None if who == "anonymous" else getattr(world, who)
    refusals = 0
    for action in Action:
        kwargs = call_for(world, action)
        if action in EXPECTED_ALLOWED[who]:
            assert authorize(db_engine, actor, action, merchant_id=world.cafe, **kwargs) == actor, action
            continue
        refusals += 1
        with pytest.raises(NotAllowed) as err:
            authorize(db_engine, actor, action, merchant_id=world.cafe, ip="198.51.100.4", **kwargs)
        if who == "anonymous":
            assert (err.value.message, err.value.code) == ("Please sign in first.", "sign_in_required")
        else:
            assert (err.value.message, err.value.code) == ("You are not allowed to do this.", "not_allowed")
    events = security_events(db_engine)
    assert len(events) == refusals == len(Action) - len(EXPECTED_ALLOWED[who])
    refused_actions = [action for _, _, action, _, _ in events]
    assert refused_actions == [a.value for a in Action if a not in EXPECTED_ALLOWED[who]]
    for merchant_id, account_id, _, reason, _ in events:
        assert merchant_id == world.cafe
        assert account_id == (None if actor is None else actor.account_id)
        assert reason
    with read_session(db_engine) as s:
        assert {e.ip for e in s.exec(select(SecurityEvent)).all()} <= {"198.51.100.4"}


def test_refusal_reasons_say_why(db_engine, world):
    cases = [
        (None, Action.DONATE, {}, "anonymous"),
        (world.books_admin, Action.ADMIN_EXPORT, {}, "other_merchant"),
        (world.member, Action.ADMIN_EXPORT, {}, "role_member_not_allowed"),
        (world.other_member, Action.DONATE, {"target_account_id": world.member.account_id}, "not_own_account"),
        (world.staff, Action.STAFF_SCAN_MEMBER, {"store_id": world.store_2}, "store_not_assigned"),
        (world.staff, Action.STAFF_SCAN_MEMBER, {}, "store_required"),
    ]
    for actor, action, kwargs, _reason in cases:
        with pytest.raises(NotAllowed):
            authorize(db_engine, actor, action, merchant_id=world.cafe, **kwargs)
    assert [e[3] for e in security_events(db_engine)] == [c[3] for c in cases]
    detail = security_events(db_engine)[4][4]
    assert detail == {
        "target_account_id": None,
        "store_id": world.store_2,
        "role": "staff",
        "actor_merchant_id": world.cafe,
        "session_id": world.staff.session_id,
    }


def test_member_acting_without_a_target_acts_on_own_account(db_engine, world):
    assert authorize(db_engine, world.member, Action.VIEW_OWN_MEMBER_DATA, merchant_id=world.cafe) == world.member


def test_staff_never_acts_on_own_account_or_on_non_members(db_engine, world):
    for target in (world.staff.account_id, world.admin.account_id, world.books_member.account_id, 999_999):
        with pytest.raises(NotAllowed):
            authorize(
                db_engine,
                world.staff,
                Action.STAFF_CREDIT_PURCHASE,
                merchant_id=world.cafe,
                target_account_id=target,
                store_id=world.store_1,
            )
    reasons = [e[3] for e in security_events(db_engine)]
    assert reasons == ["own_account"] + ["target_not_member_of_merchant"] * 3


def test_admin_cannot_reach_another_merchants_objects(db_engine, world):
    with pytest.raises(NotAllowed):
        authorize(
            db_engine, world.admin, Action.ADMIN_MODERATE, merchant_id=world.cafe, target_account_id=world.books_member.account_id
        )
    with pytest.raises(NotAllowed):
        authorize(
            db_engine,
            world.admin,
            Action.STAFF_SCAN_MEMBER,
            merchant_id=world.cafe,
            target_account_id=world.member.account_id,
            store_id=world.books_store,
        )
    # Admin of books: nothing in the cafe, even claiming the cafe's id for itself is refused.
    for action in Action:
        with pytest.raises(NotAllowed):
            authorize(db_engine, world.books_admin, action, merchant_id=world.cafe, **call_for(world, action))
    # ...but everything admin-level at home.
    for action in ADMIN_ACTIONS:
        assert authorize(db_engine, world.books_admin, action, merchant_id=world.books)
    assert [e[3] for e in security_events(db_engine)][:2] == ["target_of_other_merchant", "store_of_other_merchant"]


def test_a_forged_store_list_is_checked_against_the_database(db_engine, world):
    forged = Actor(world.staff.account_id, world.cafe, Role.STAFF, frozenset({world.books_store}), 3)
    with pytest.raises(NotAllowed):
        authorize(
            db_engine,
            forged,
            Action.STAFF_SCAN_MEMBER,
            merchant_id=world.cafe,
            target_account_id=world.member.account_id,
            store_id=world.books_store,
        )
    assert security_events(db_engine)[0][3] == "store_of_other_merchant"


def test_inactive_store_is_refused(db_engine, world):
    with write_session(db_engine) as s:
        s.get(Store, world.store_1).is_active = False
    with pytest.raises(NotAllowed):
        authorize(
            db_engine,
            world.staff,
            Action.STAFF_SCAN_MEMBER,
            merchant_id=world.cafe,
            target_account_id=world.member.account_id,
            store_id=world.store_1,
        )
    assert security_events(db_engine)[0][3] == "store_of_other_merchant"


def test_role_given_as_plain_string_is_understood(db_engine, world):
    as_string = Actor(world.member.account_id, world.cafe, "member", frozenset(), 1)  # type: ignore[arg-type]
    assert authorize(db_engine, as_string, Action.DONATE, merchant_id=world.cafe)
    assert is_allowed(Action.DONATE, Role.MEMBER) and not is_allowed(Action.ADMIN_EXPORT, Role.STAFF)


def test_with_a_read_session_lookups_use_it_and_the_refusal_is_logged(db_engine, world):
    with read_session(db_engine) as s:
        assert authorize(
            s,
            world.staff,
            Action.STAFF_SCAN_MEMBER,
            merchant_id=world.cafe,
            target_account_id=world.member.account_id,
            store_id=world.store_1,
        )
        with pytest.raises(NotAllowed):
            authorize(s, world.member, Action.ADMIN_EXPORT, merchant_id=world.cafe)
    assert [e[3] for e in security_events(db_engine)] == ["role_member_not_allowed"]


def test_refusal_inside_a_write_transaction_survives_its_rollback(db_engine, world):
    with pytest.raises(NotAllowed):
        with write_session(db_engine) as s:
            s.add(SecurityEvent(action="caller_write", reason="must be rolled back"))
            s.flush()
            authorize(s, world.other_member, Action.DONATE, merchant_id=world.cafe, target_account_id=world.member.account_id)
    assert [(e[2], e[3]) for e in security_events(db_engine)] == [("donate", "not_own_account")]
