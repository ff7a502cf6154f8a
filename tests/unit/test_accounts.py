"""Sign-up rules, staff/admin creation and sign-in (generic error, refusals logged, new session)."""

from datetime import timedelta

import pytest
from passlib.context import CryptContext
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import Conflict, LoyaltyError, NotFound
from loyalty_app.models import Account, AuthSession, LoginAttempt, Merchant, Role, SecurityEvent, StaffStore, Store
from loyalty_app.services.members import accounts, passwords

PASSWORD = "a good long password"


def make_merchant(engine, slug: str) -> int:
    with write_session(engine) as s:
        merchant = Merchant(slug=slug, name=slug.title(), short_name=slug)
        s.add(merchant)
        s.flush()
        return merchant.id


def make_store(engine, merchant_id: int, code: str) -> int:
    with write_session(engine) as s:
        store = Store(merchant_id=merchant_id, code=code, name=code)
        s.add(store)
        s.flush()
        return store.id


@pytest.fixture
def cafe(db_engine) -> int:
    return make_merchant(db_engine, "cafe")


def sign_up(engine, merchant_id, email="ana@example.com", **kw) -> Account:
    return accounts.sign_up_member(
        engine, merchant_id=merchant_id, email=email, password=kw.pop("password", PASSWORD), first_name="Ana", **kw
    )


def sign_in(engine, merchant_id, email="ana@example.com", password=PASSWORD, ip="10.0.0.1", **kw):
    return accounts.sign_in(engine, merchant_id=merchant_id, email=email, password=password, ip=ip, user_agent="pytest", **kw)


def events(engine, **where) -> list[SecurityEvent]:
    with read_session(engine) as s:
        query = select(SecurityEvent)
        for key, value in where.items():
            query = query.where(getattr(SecurityEvent, key) == value)
        rows = list(s.exec(query.order_by(SecurityEvent.id)).all())
        s.expunge_all()  # read_session rolls back, which would expire the rows
        return rows


# --- sign-up -----------------------------------------------------------------------------------


def test_sign_up_normalises_email_and_stores_only_a_hash(db_engine, cafe):
    account = sign_up(db_engine, cafe, email="  Ana.Pop@Example.COM ", last_name="Pop", language="es")
    assert account.id is not None
    assert account.email == "ana.pop@example.com"
    assert account.role is Role.MEMBER
    assert account.language == "es"
    assert PASSWORD not in account.password_hash
    assert account.password_hash.startswith("$argon2id$")
    assert len(account.member_number) == 8 and account.member_number.isdigit()
    assert account.member_number[0] != "0"


@pytest.mark.parametrize("bad", ["", "ana", "ana@", "@example.com", "ana@example", "a na@example.com", "a@b@c.com"])
def test_invalid_email_is_refused(bad):
    with pytest.raises(LoyaltyError) as err:
        accounts.validate_email(bad)
    assert err.value.code == "invalid_email"
    assert err.value.message == "Please enter a valid email address."


def test_sign_up_refuses_invalid_email(db_engine, cafe):
    with pytest.raises(LoyaltyError) as err:
        sign_up(db_engine, cafe, email="ana@example")
    assert err.value.code == "invalid_email"


def test_duplicate_email_refused_in_same_merchant_but_allowed_in_another(db_engine, cafe):
    books = make_merchant(db_engine, "books")
    sign_up(db_engine, cafe, email="ana@example.com")
    with pytest.raises(Conflict) as err:
        sign_up(db_engine, cafe, email="ANA@example.com ")
    assert err.value.code == "email_taken"
    assert err.value.message == "An account with this email already exists. Please sign in instead."
    other = sign_up(db_engine, books, email="ana@example.com")
    assert other.merchant_id == books


def test_sign_up_validates_password_name_language_and_merchant(db_engine, cafe):
    with pytest.raises(LoyaltyError) as err:
        sign_up(db_engine, cafe, password="short")
    assert err.value.code == "password_too_short"
    with pytest.raises(LoyaltyError) as err:
        accounts.sign_up_member(db_engine, merchant_id=cafe, email="x@example.com", password=PASSWORD, first_name="  ")
    assert err.value.code == "first_name_required"
    with pytest.raises(LoyaltyError) as err:
        sign_up(db_engine, cafe, language="xx")
    assert err.value.code == "bad_language"
    with pytest.raises(NotFound):
        sign_up(db_engine, cafe + 999)
    with read_session(db_engine) as s:
        assert s.exec(select(Account)).all() == []


def test_member_numbers_are_unique_random_and_retry_on_collision(db_engine, cafe, monkeypatch):
    first = sign_up(db_engine, cafe, email="one@example.com")
    numbers = iter([first.member_number, first.member_number, "12345678"])
    monkeypatch.setattr(accounts, "new_member_number", lambda: next(numbers))
    second = sign_up(db_engine, cafe, email="two@example.com")
    assert second.member_number == "12345678"


def test_member_numbers_are_not_sequential():
    numbers = [int(accounts.new_member_number()) for _ in range(200)]
    assert all(10_000_000 <= n <= 99_999_999 for n in numbers)
    assert len(set(numbers)) > 190
    steps = {b - a for a, b in zip(numbers, numbers[1:])}
    assert len(steps) > 100


def test_create_staff_bound_to_own_merchant_stores_only(db_engine, cafe):
    books = make_merchant(db_engine, "books")
    cafe_store = make_store(db_engine, cafe, "old-town")
    books_store = make_store(db_engine, books, "centro")
    staff = accounts.create_staff(
        db_engine, merchant_id=cafe, email="staff@example.com", password=PASSWORD, first_name="Sam", store_ids=[cafe_store]
    )
    assert staff.role is Role.STAFF
    with read_session(db_engine) as s:
        assert s.exec(select(StaffStore.store_id).where(StaffStore.account_id == staff.id)).all() == [cafe_store]
    with pytest.raises(LoyaltyError) as err:
        accounts.create_staff(
            db_engine,
            merchant_id=cafe,
            email="staff2@example.com",
            password=PASSWORD,
            first_name="Sam",
            store_ids=[cafe_store, books_store],
        )
    assert err.value.code == "store_of_other_merchant"
    with pytest.raises(LoyaltyError) as err:
        accounts.create_staff(
            db_engine, merchant_id=cafe, email="staff3@example.com", password=PASSWORD, first_name="Sam", store_ids=[]
        )
    assert err.value.code == "store_required"


def test_create_admin(db_engine, cafe):
    admin = accounts.create_admin(db_engine, merchant_id=cafe, email="boss@example.com", password=PASSWORD, first_name="Alex")
    assert admin.role is Role.ADMIN
    assert sign_in(db_engine, cafe, email="boss@example.com").role is Role.ADMIN


# --- sign-in -----------------------------------------------------------------------------------


def test_sign_in_success_creates_a_new_session_each_time(db_engine, cafe):
    member = sign_up(db_engine, cafe)
    first = sign_in(db_engine, cafe, email=" ANA@example.com")
    second = sign_in(db_engine, cafe)
    assert first.account_id == second.account_id == member.id
    assert first.role is Role.MEMBER
    assert first.activation_ticket != second.activation_ticket
    with read_session(db_engine) as s:
        rows = s.exec(select(AuthSession).where(AuthSession.account_id == member.id)).all()
        assert len(rows) == 2
        assert all(r.secret_hash is None and r.activation_hash for r in rows)
        assert first.activation_ticket not in {r.activation_hash for r in rows}
        attempts = s.exec(select(LoginAttempt)).all()
        assert [a.success for a in attempts] == [True, True]


def test_unknown_email_and_wrong_password_give_the_same_generic_error(db_engine, cafe):
    sign_up(db_engine, cafe)
    with pytest.raises(LoyaltyError) as wrong_password:
        sign_in(db_engine, cafe, password=PASSWORD + "!")
    with pytest.raises(LoyaltyError) as unknown:
        sign_in(db_engine, cafe, email="nobody@example.com")
    for err in (wrong_password.value, unknown.value):
        assert err.message == "Wrong email or password."
        assert err.code == "wrong_credentials"
        assert err.params == {}
    reasons = [(e.reason, e.ip, e.detail["email"]) for e in events(db_engine, action="sign_in")]
    assert reasons == [
        ("wrong_password", "10.0.0.1", "ana@example.com"),
        ("unknown_email", "10.0.0.1", "nobody@example.com"),
    ]
    with read_session(db_engine) as s:
        assert [a.success for a in s.exec(select(LoginAttempt)).all()] == [False, False]
        assert s.exec(select(AuthSession)).all() == []


def test_unknown_email_still_spends_a_hash_verification(db_engine, cafe, monkeypatch):
    calls = []
    monkeypatch.setattr(passwords, "dummy_verify", lambda password: calls.append(password))
    with pytest.raises(LoyaltyError):
        sign_in(db_engine, cafe, email="nobody@example.com", password="guess-123")
    assert calls == ["guess-123"]


def test_email_of_another_merchant_does_not_sign_in(db_engine, cafe):
    books = make_merchant(db_engine, "books")
    sign_up(db_engine, books)
    with pytest.raises(LoyaltyError) as err:
        sign_in(db_engine, cafe)
    assert err.value.code == "wrong_credentials"


@pytest.mark.parametrize("change", ["deleted", "inactive"])
def test_deleted_or_inactive_accounts_cannot_sign_in(db_engine, cafe, change):
    member = sign_up(db_engine, cafe)
    with write_session(db_engine) as s:
        account = s.get(Account, member.id)
        if change == "deleted":
            account.deleted_at = utcnow()
        else:
            account.is_active = False
        s.add(account)
    with pytest.raises(LoyaltyError) as err:
        sign_in(db_engine, cafe)
    assert err.value.message == "Wrong email or password."
    assert [e.reason for e in events(db_engine, action="sign_in")] == [f"{change}_account"]


def test_weak_hash_is_upgraded_at_sign_in(db_engine, cafe):
    member = sign_up(db_engine, cafe)
    weak = CryptContext(schemes=["argon2"], argon2__type="ID", argon2__memory_cost=8192, argon2__time_cost=1)
    with write_session(db_engine) as s:
        account = s.get(Account, member.id)
        account.password_hash = weak.hash(PASSWORD)
        s.add(account)
    sign_in(db_engine, cafe)
    with read_session(db_engine) as s:
        upgraded = s.get(Account, member.id).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert passwords.verify_password(PASSWORD, upgraded)


def test_sign_in_attempts_are_recorded_with_time_and_ip(db_engine, cafe):
    sign_up(db_engine, cafe)
    at = utcnow() - timedelta(minutes=3)
    sign_in(db_engine, cafe, ip="192.0.2.7", now=at)
    with read_session(db_engine) as s:
        attempt = s.exec(select(LoginAttempt)).one()
        assert (attempt.email, attempt.ip, attempt.success, attempt.throttled) == (
            "ana@example.com",
            "192.0.2.7",
            True,
            False,
        )
        assert attempt.at == at


def test_lost_race_on_email_reports_email_taken(db_engine, cafe, monkeypatch):
    """A concurrent sign-up with the same email wins between our check and our insert."""
    sign_up(db_engine, cafe, email="ana@example.com")
    real_check = accounts._email_taken
    calls = []

    def check_misses_once(session, merchant_id, email):
        calls.append(email)
        return False if len(calls) == 1 else real_check(session, merchant_id, email)

    monkeypatch.setattr(accounts, "_email_taken", check_misses_once)
    with pytest.raises(Conflict) as err:
        sign_up(db_engine, cafe, email="ana@example.com")
    assert err.value.code == "email_taken"
    assert len(calls) == 2


def test_lost_race_on_member_number_retries(db_engine, cafe, monkeypatch):
    """A concurrent sign-up took the number between our check and our insert: try again."""
    first = sign_up(db_engine, cafe, email="one@example.com")
    real_pick = accounts._unused_member_number
    picks = []

    def stale_pick_once(session, merchant_id):
        picks.append(1)
        return first.member_number if len(picks) == 1 else real_pick(session, merchant_id)

    monkeypatch.setattr(accounts, "_unused_member_number", stale_pick_once)
    second = sign_up(db_engine, cafe, email="two@example.com")
    assert second.member_number != first.member_number
    assert len(picks) == 2
