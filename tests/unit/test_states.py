"""Reflex states called directly (as the websocket would), checking who is asking.

The states re-validate the HttpOnly session cookie from the socket's headers on every event;
these tests build the root state with such headers and call the handlers."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil

import pytest
from reflex.state import State
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account, LedgerEntry, Merchant, Store
from loyalty_app.services.members import accounts, sessions

PW = "correct horse battery"


@pytest.fixture
def app_db(db_engine, monkeypatch):
    """Point every module's get_engine() at the test database."""
    import loyalty_app.loyalty_app

    for mod in pkgutil.walk_packages(loyalty_app.__path__, "loyalty_app."):
        module = importlib.import_module(mod.name)
        if hasattr(module, "get_engine"):
            monkeypatch.setattr(module, "get_engine", lambda: db_engine)
    with write_session(db_engine) as s:
        cafe = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        books = Merchant(slug="books", name="Books", short_name="Books")
        s.add(cafe)
        s.add(books)
        s.flush()
        store = Store(merchant_id=cafe.id, code="a", name="A")
        s.add(store)
        s.flush()
        ids = {"cafe": cafe.id, "books": books.id, "store": store.id}
    member = accounts.sign_up_member(db_engine, merchant_id=ids["cafe"], email="m@x.test", password=PW, first_name="Ana")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="s@x.test", password=PW, first_name="Sam", store_ids=[ids["store"]]
    )
    books_member = accounts.sign_up_member(db_engine, merchant_id=ids["books"], email="m@x.test", password=PW, first_name="Bo")
    ids.update(member=member.id, member_number=member.member_number, staff=staff.id, books_member=books_member.id)
    return db_engine, ids


def cookie_for(engine, account_id: int, slug: str) -> str:
    with write_session(engine) as s:
        account = s.get(Account, account_id)
        _row, ticket = sessions.create_session(s, account=account, ip="127.0.0.1", user_agent="pytest", now=utcnow())
    activated = sessions.activate(engine, ticket=ticket)
    return f"{sessions.cookie_name(slug)}={activated.secret}"


def root_state(*, slug: str = "cafe", page: str = "staff", cookie: str = "") -> State:
    root = State(_reflex_internal_init=True)
    router_data = {
        "pathname": f"/m/[slug]/{page}",
        "asPath": f"/m/{slug}/{page}",
        "query": {"slug": slug},
        "headers": {"cookie": cookie, "origin": "http://localhost:3000", "user-agent": "pytest"},
        "ip": "127.0.0.1",
        "token": "test-token",
        "sid": "test-sid",
    }
    root.router_data = root._update_router_vars(router_data, {})
    return root


def substate(root: State, cls):
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def run(handler_result):
    """Drive a handler (coroutine or async generator) to the end."""
    if inspect.isasyncgen(handler_result):
        async for _ in handler_result:
            pass
    elif inspect.iscoroutine(handler_result):
        await handler_result


def ledger_rows(engine) -> int:
    with read_session(engine) as s:
        return len(s.exec(select(LedgerEntry)).all())


def test_anonymous_cannot_use_the_till(app_db):
    from loyalty_app.pages.staff import TillState

    engine, ids = app_db
    till = substate(root_state(), TillState)
    till.store_id = str(ids["store"])
    asyncio.run(run(till.scan({"code": ids["member_number"]})))
    assert till.error == "Please sign in first." and till.member_name == ""
    till._member_id = ids["member"]  # even with a member id planted server-side
    asyncio.run(run(till.credit({"amount": "10", "receipt": "R1"})))
    assert till.error == "Please sign in first." and ledger_rows(engine) == 0


def test_member_cannot_credit_themselves_at_the_till(app_db):
    from loyalty_app.pages.staff import TillState

    engine, ids = app_db
    till = substate(root_state(cookie=cookie_for(engine, ids["member"], "cafe")), TillState)
    till.store_id = str(ids["store"])
    till._member_id = ids["member"]
    asyncio.run(run(till.credit({"amount": "10", "receipt": "R1"})))
    assert till.error == "You are not allowed to do this." and ledger_rows(engine) == 0


def test_staff_credits_and_store_choice_is_checked_on_the_server(app_db):
    from loyalty_app.pages.staff import TillState

    engine, ids = app_db
    root = root_state(cookie=cookie_for(engine, ids["staff"], "cafe"))
    till = substate(root, TillState)
    asyncio.run(run(till.load()))
    assert till.stores == [{"id": str(ids["store"]), "name": "A"}]
    till.choose_store("999")  # not one of theirs: ignored
    assert till.store_id == str(ids["store"])
    asyncio.run(run(till.scan({"code": ids["member_number"]})))
    assert till.member_name == "Ana" and till.error == ""
    asyncio.run(run(till.credit({"amount": "10", "receipt": "R1"})))
    assert till.error == "" and till.result.startswith("+10 points") and ledger_rows(engine) == 1
    asyncio.run(run(till.credit({"amount": "10", "receipt": "R2"})))  # served: a new scan is needed first
    assert till.error == "Scan the member's card or enter their number first." and ledger_rows(engine) == 1
    asyncio.run(run(till.scan({"code": ids["member_number"]})))
    till.store_id = "999"  # a tampered value is re-authorized, not trusted
    asyncio.run(run(till.credit({"amount": "10", "receipt": "R2"})))
    assert till.error == "You are not allowed to do this." and ledger_rows(engine) == 1


def test_cookie_of_another_merchant_is_not_a_session_here(app_db):
    from loyalty_app.state.session import SessionState

    engine, ids = app_db
    books_cookie = cookie_for(engine, ids["books_member"], "books")
    forged = books_cookie.replace("ls_books=", "ls_cafe=")
    session = substate(root_state(cookie=forged, page="home"), SessionState)
    assert session._current_actor() is None
    real = substate(root_state(cookie=cookie_for(engine, ids["member"], "cafe"), page="home"), SessionState)
    assert real._current_actor().account_id == ids["member"]


def test_profile_save_needs_a_session_and_validates(app_db):
    from loyalty_app.pages.profile import ProfileState

    engine, ids = app_db
    anon = substate(root_state(page="profile"), ProfileState)
    asyncio.run(run(anon.save({"first_name": "Eve", "last_name": "", "birthday": "", "timezone": "UTC"})))
    assert anon.error == "Please sign in first."
    profile = substate(root_state(page="profile", cookie=cookie_for(engine, ids["member"], "cafe")), ProfileState)
    asyncio.run(run(profile.save({"first_name": "Ana", "last_name": "", "birthday": "2999-01-01", "timezone": "UTC"})))
    assert profile.error == "Enter your birthday as a date."
    asyncio.run(
        run(profile.save({"first_name": "Ana Maria", "last_name": "P", "birthday": "1990-05-04", "timezone": "Europe/Madrid"}))
    )
    assert profile.error == "" and profile.notice == "Saved"
    with read_session(engine) as s:
        account = s.get(Account, ids["member"])
    assert (account.first_name, account.timezone, str(account.birthday)) == ("Ana Maria", "Europe/Madrid", "1990-05-04")


def test_ids_and_secrets_stay_on_the_server(app_db):
    """What the browser receives (the state, serialized the way Reflex sends it) has no
    server-only ids nor the session cookie."""
    from reflex_base.utils.format import json_dumps

    from loyalty_app.pages.staff import TillState
    from loyalty_app.state.session import SessionState

    engine, ids = app_db
    cookie = cookie_for(engine, ids["staff"], "cafe")
    root = root_state(cookie=cookie)
    session, till = substate(root, SessionState), substate(root, TillState)
    assert session._current_actor() is not None
    till._member_id = 424242
    sent = json_dumps(root.dict())
    assert "merchant_slug" in sent
    for secret in ("_merchant_id", "_account_id", "_member_id", "424242", cookie.split("=", 1)[1]):
        assert secret not in sent
