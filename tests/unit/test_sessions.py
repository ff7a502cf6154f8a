"""Server-side sessions: activation ticket (single use, 60 s), resolve with idle and absolute
timeouts, throttled last-seen writes, revocation."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.models import Account, AuthSession, Merchant, Role, SecurityEvent, Store
from loyalty_app.services.members import accounts, sessions
from loyalty_app.settings import get_settings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a good long password"
SETTINGS = get_settings()


def make_merchant(engine, slug):
    with write_session(engine) as s:
        merchant = Merchant(slug=slug, name=slug, short_name=slug)
        s.add(merchant)
        s.flush()
        return merchant.id


@pytest.fixture
def cafe(db_engine):
    merchant_id = make_merchant(db_engine, "cafe")
    member = accounts.sign_up_member(
        db_engine, merchant_id=merchant_id, email="ana@example.com", password=PASSWORD, first_name="Ana"
    )
    return merchant_id, member.id


def sign_in(engine, merchant_id, email="ana@example.com", now=T0):
    return accounts.sign_in(
        engine, merchant_id=merchant_id, email=email, password=PASSWORD, ip="10.0.0.1", user_agent="pytest", now=now
    )


def cookie_for(engine, merchant_id, *, email="ana@example.com", now=T0, slug="cafe") -> str:
    ticket = sign_in(engine, merchant_id, email=email, now=now).activation_ticket
    activated = sessions.activate(engine, ticket=ticket, now=now + timedelta(seconds=2))
    assert activated is not None
    return f"theme=dark; {sessions.cookie_name(slug)}={activated.secret}; other=1"


def session_row(engine, **where) -> AuthSession:
    with read_session(engine) as s:
        query = select(AuthSession)
        for key, value in where.items():
            query = query.where(getattr(AuthSession, key) == value)
        row = s.exec(query).one()
        s.expunge(row)
        return row


def resolve(engine, merchant_id, cookie, now, slug="cafe"):
    return sessions.resolve(engine, merchant_id=merchant_id, cookie_header=cookie, slug=slug, now=now)


# --- activation --------------------------------------------------------------------------------


def test_ticket_and_secret_are_stored_only_as_sha256(db_engine, cafe):
    merchant_id, member_id = cafe
    ticket = sign_in(db_engine, merchant_id).activation_ticket
    assert len(ticket) >= 43
    row = session_row(db_engine, account_id=member_id)
    assert row.activation_hash == sessions.hash_token(ticket)
    assert row.activation_expires_at == T0 + timedelta(seconds=60)
    assert row.secret_hash is None
    activated = sessions.activate(db_engine, ticket=ticket, now=T0 + timedelta(seconds=1))
    assert activated.merchant_slug == "cafe" and activated.account_id == member_id
    row = session_row(db_engine, account_id=member_id)
    assert row.secret_hash == sessions.hash_token(activated.secret)
    assert row.activation_hash is None
    assert activated.secret not in {row.secret_hash, ticket}
    assert activated.max_age == SETTINGS.member_absolute_timeout - 1


def test_ticket_is_single_use(db_engine, cafe):
    merchant_id, _ = cafe
    ticket = sign_in(db_engine, merchant_id).activation_ticket
    assert sessions.activate(db_engine, ticket=ticket, now=T0) is not None
    assert sessions.activate(db_engine, ticket=ticket, now=T0) is None


def test_ticket_expires_after_60_seconds_and_its_session_is_revoked(db_engine, cafe):
    merchant_id, member_id = cafe
    ticket = sign_in(db_engine, merchant_id).activation_ticket
    assert sessions.activate(db_engine, ticket=ticket, now=T0 + timedelta(seconds=61)) is None
    row = session_row(db_engine, account_id=member_id)
    assert row.revoked_at is not None and row.activation_hash is None
    # A ticket that failed once cannot be retried either.
    assert sessions.activate(db_engine, ticket=ticket, now=T0 + timedelta(seconds=1)) is None


def test_unknown_or_malformed_tickets_are_refused(db_engine, cafe):
    sign_in(db_engine, cafe[0])  # a live ticket exists; none of these is it
    for ticket in ["", "short", "x" * 43, "../../etc/passwd" * 4]:
        assert sessions.activate(db_engine, ticket=ticket, now=T0) is None, ticket


def test_each_sign_in_gets_a_new_session(db_engine, cafe):
    merchant_id, _ = cafe
    first = cookie_for(db_engine, merchant_id)
    second = cookie_for(db_engine, merchant_id)
    assert first != second
    assert resolve(db_engine, merchant_id, first, T0).session_id != resolve(db_engine, merchant_id, second, T0).session_id


# --- resolve -----------------------------------------------------------------------------------


def test_resolve_returns_the_actor(db_engine, cafe):
    merchant_id, member_id = cafe
    actor = resolve(db_engine, merchant_id, cookie_for(db_engine, merchant_id), T0 + timedelta(seconds=5))
    assert actor.account_id == member_id
    assert actor.merchant_id == merchant_id
    assert actor.role is Role.MEMBER
    assert actor.store_ids == frozenset()
    assert actor.session_id == session_row(db_engine, account_id=member_id).id


def test_resolve_without_a_valid_cookie_is_none(db_engine, cafe):
    merchant_id, _ = cafe
    cookie_for(db_engine, merchant_id)  # a live session exists; none of these headers names it
    for header in ["", "ls_cafe=", "ls_books=abc", "ls_cafe=not a token", "garbage;;; =;", "ls_cafe=" + "A" * 43]:
        assert resolve(db_engine, merchant_id, header, T0) is None, header


def test_cookie_parser_tolerates_odd_neighbours():
    header = 'a="b; c"; bad cookie; ls_cafe=' + "Z" * 43 + "; ls_cafe=" + "Y" * 43
    assert sessions.parse_cookie(header, "ls_cafe") == "Z" * 43
    assert sessions.parse_cookie(header, "ls_books") is None


def test_member_idle_timeout(db_engine, cafe):
    merchant_id, member_id = cafe
    cookie = cookie_for(db_engine, merchant_id)
    idle = timedelta(seconds=SETTINGS.member_idle_timeout)
    # Activity moves the idle clock: each visit within the idle time keeps the session alive.
    assert resolve(db_engine, merchant_id, cookie, T0 + idle - timedelta(minutes=1)) is not None
    assert resolve(db_engine, merchant_id, cookie, T0 + 2 * idle - timedelta(minutes=2)) is not None
    assert resolve(db_engine, merchant_id, cookie, T0 + 3 * idle) is None
    assert session_row(db_engine, account_id=member_id).revoked_at == T0 + 3 * idle
    # Once revoked it stays dead, even if the clock went back.
    assert resolve(db_engine, merchant_id, cookie, T0) is None


def test_member_absolute_timeout_even_when_active(db_engine, cafe):
    merchant_id, _ = cafe
    cookie = cookie_for(db_engine, merchant_id)
    absolute = timedelta(seconds=SETTINGS.member_absolute_timeout)
    step = timedelta(seconds=SETTINGS.member_idle_timeout) / 2
    now = T0
    while now + step < T0 + absolute:
        now += step
        assert resolve(db_engine, merchant_id, cookie, now) is not None
    assert resolve(db_engine, merchant_id, cookie, T0 + absolute) is None


def test_staff_timeouts_are_short_and_carry_store_ids(db_engine, cafe):
    merchant_id, _ = cafe
    with write_session(db_engine) as s:
        stores = [Store(merchant_id=merchant_id, code=c, name=c) for c in ("a", "b", "c")]
        s.add_all(stores)
        s.flush()
        store_a, store_b, store_c = (st.id for st in stores)
        stores[2].is_active = False
    accounts.create_staff(
        db_engine,
        merchant_id=merchant_id,
        email="staff@example.com",
        password=PASSWORD,
        first_name="Sam",
        store_ids=[store_a, store_c],
    )
    accounts.create_admin(db_engine, merchant_id=merchant_id, email="boss@example.com", password=PASSWORD, first_name="Alex")
    staff_cookie = cookie_for(db_engine, merchant_id, email="staff@example.com")
    admin_cookie = cookie_for(db_engine, merchant_id, email="boss@example.com")
    staff = resolve(db_engine, merchant_id, staff_cookie, T0 + timedelta(minutes=1))
    admin = resolve(db_engine, merchant_id, admin_cookie, T0 + timedelta(minutes=1))
    assert staff.role is Role.STAFF and staff.store_ids == frozenset({store_a})
    assert admin.role is Role.ADMIN and admin.store_ids == frozenset({store_a, store_b})
    idle = timedelta(seconds=SETTINGS.staff_idle_timeout)
    assert resolve(db_engine, merchant_id, staff_cookie, T0 + timedelta(minutes=1) + idle + timedelta(seconds=1)) is None
    # Admin: active every 20 minutes, still cut at the 12-hour absolute timeout.
    now = T0
    while now + timedelta(minutes=20) < T0 + timedelta(seconds=SETTINGS.staff_absolute_timeout):
        now += timedelta(minutes=20)
        assert resolve(db_engine, merchant_id, admin_cookie, now) is not None
    assert resolve(db_engine, merchant_id, admin_cookie, T0 + timedelta(seconds=SETTINGS.staff_absolute_timeout)) is None


def test_promotion_to_staff_applies_staff_timeouts_at_once(db_engine, cafe):
    merchant_id, member_id = cafe
    cookie = cookie_for(db_engine, merchant_id)
    with write_session(db_engine) as s:
        account = s.get(Account, member_id)
        account.role = Role.ADMIN
        s.add(account)
    assert resolve(db_engine, merchant_id, cookie, T0 + timedelta(hours=13)) is None


def test_last_seen_is_written_at_most_once_a_minute(db_engine, cafe):
    merchant_id, member_id = cafe
    cookie = cookie_for(db_engine, merchant_id)  # activated at T0+2s
    assert resolve(db_engine, merchant_id, cookie, T0 + timedelta(seconds=30)) is not None
    assert session_row(db_engine, account_id=member_id).last_seen_at == T0 + timedelta(seconds=2)
    assert resolve(db_engine, merchant_id, cookie, T0 + timedelta(seconds=62)) is not None
    assert session_row(db_engine, account_id=member_id).last_seen_at == T0 + timedelta(seconds=62)
    assert resolve(db_engine, merchant_id, cookie, T0 + timedelta(seconds=100)) is not None
    assert session_row(db_engine, account_id=member_id).last_seen_at == T0 + timedelta(seconds=62)


def test_cookie_of_one_merchant_does_not_work_in_another(db_engine, cafe):
    merchant_id, _ = cafe
    books_id = make_merchant(db_engine, "books")
    cookie = cookie_for(db_engine, merchant_id)
    # Under its own name, the books app does not even read the cafe cookie.
    assert resolve(db_engine, books_id, cookie, T0, slug="books") is None
    # Copied under the books cookie name: refused and logged.
    secret = sessions.parse_cookie(cookie, "ls_cafe")
    assert resolve(db_engine, books_id, f"ls_books={secret}", T0, slug="books") is None
    with read_session(db_engine) as s:
        event = s.exec(select(SecurityEvent)).one()
        assert (event.merchant_id, event.reason) == (books_id, "session_of_other_merchant")
    # The cafe session itself is untouched.
    assert resolve(db_engine, merchant_id, cookie, T0) is not None


@pytest.mark.parametrize("change", ["deleted", "inactive"])
def test_deleted_or_disabled_account_ends_its_sessions(db_engine, cafe, change):
    merchant_id, member_id = cafe
    cookie = cookie_for(db_engine, merchant_id)
    with write_session(db_engine) as s:
        account = s.get(Account, member_id)
        if change == "deleted":
            account.deleted_at = T0
        else:
            account.is_active = False
        s.add(account)
    assert resolve(db_engine, merchant_id, cookie, T0 + timedelta(seconds=5)) is None
    assert session_row(db_engine, account_id=member_id).revoked_at is not None


def test_ticket_of_a_disabled_account_does_not_activate(db_engine, cafe):
    merchant_id, member_id = cafe
    ticket = sign_in(db_engine, merchant_id).activation_ticket
    with write_session(db_engine) as s:
        account = s.get(Account, member_id)
        account.is_active = False
        s.add(account)
    assert sessions.activate(db_engine, ticket=ticket, now=T0) is None


# --- revocation --------------------------------------------------------------------------------


def test_revoke_ends_only_that_session(db_engine, cafe):
    merchant_id, _ = cafe
    phone, laptop = cookie_for(db_engine, merchant_id), cookie_for(db_engine, merchant_id)
    assert sessions.revoke(db_engine, merchant_id=merchant_id, cookie_header=phone, slug="cafe", now=T0)
    assert resolve(db_engine, merchant_id, phone, T0) is None
    assert resolve(db_engine, merchant_id, laptop, T0) is not None
    assert not sessions.revoke(db_engine, merchant_id=merchant_id, cookie_header=phone, slug="cafe", now=T0)
    assert not sessions.revoke(db_engine, merchant_id=merchant_id, cookie_header="", slug="cafe")


def test_revoke_all_ends_every_session_of_the_account(db_engine, cafe):
    merchant_id, member_id = cafe
    phone, laptop = cookie_for(db_engine, merchant_id), cookie_for(db_engine, merchant_id)
    pending_ticket = sign_in(db_engine, merchant_id).activation_ticket
    assert sessions.revoke_all(db_engine, member_id, now=T0) == 3
    assert resolve(db_engine, merchant_id, phone, T0) is None
    assert resolve(db_engine, merchant_id, laptop, T0) is None
    assert sessions.activate(db_engine, ticket=pending_ticket, now=T0) is None
    assert sessions.revoke_all(db_engine, member_id, now=T0) == 0
