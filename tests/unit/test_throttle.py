"""Login throttling: the pure counting rules, then per-account and per-IP lockouts at sign-in."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.models import LoginAttempt, Merchant, SecurityEvent
from loyalty_app.services.members import accounts, passwords
from loyalty_app.services.platform import throttle
from loyalty_app.settings import Settings

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
PASSWORD = "a good long password"
SETTINGS = Settings(
    instance_dir=Path("/nonexistent"),
    database_url="",
    redis_url=None,
    secret_key="test",
    default_language="en",
    demo_mode=False,
    app_origin="http://localhost",
    login_max_failures_per_account=3,
    login_max_failures_per_ip=5,
    login_failure_window=15 * 60,
)


# --- pure rules --------------------------------------------------------------------------------


def test_no_lockout_below_the_limit():
    failures = [T0 - timedelta(minutes=1), T0 - timedelta(minutes=2)]
    assert throttle.lockout_remaining(failures, max_failures=3, window=WINDOW, now=T0) is None


def test_lockout_ends_when_the_oldest_counted_failure_leaves_the_window():
    failures = [T0 - timedelta(minutes=1), T0 - timedelta(minutes=2), T0 - timedelta(minutes=10)]
    remaining = throttle.lockout_remaining(failures, max_failures=3, window=WINDOW, now=T0)
    assert remaining == timedelta(minutes=5)
    assert throttle.lockout_remaining(failures, max_failures=3, window=WINDOW, now=T0 + timedelta(minutes=5)) is None


def test_only_the_most_recent_max_failures_matter():
    failures = [T0 - timedelta(minutes=m) for m in (1, 2, 3, 14)]
    assert throttle.lockout_remaining(failures, max_failures=3, window=WINDOW, now=T0) == timedelta(minutes=12)


def test_minutes_round_up_and_are_never_zero():
    assert throttle.minutes_to_wait(timedelta(seconds=1)) == 1
    assert throttle.minutes_to_wait(timedelta(seconds=60)) == 1
    assert throttle.minutes_to_wait(timedelta(seconds=61)) == 2
    assert throttle.minutes_to_wait(timedelta(minutes=14, seconds=59)) == 15


# --- at sign-in --------------------------------------------------------------------------------


@pytest.fixture
def cafe(db_engine) -> int:
    with write_session(db_engine) as s:
        merchant = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(merchant)
        s.flush()
        merchant_id = merchant.id
    accounts.sign_up_member(db_engine, merchant_id=merchant_id, email="ana@example.com", password=PASSWORD, first_name="Ana")
    return merchant_id


def attempt(engine, merchant_id, *, password, now, email="ana@example.com", ip="10.0.0.1", settings=SETTINGS):
    return accounts.sign_in(
        engine,
        merchant_id=merchant_id,
        email=email,
        password=password,
        ip=ip,
        user_agent="pytest",
        now=now,
        settings=settings,
    )


def fail(engine, merchant_id, count, *, start=T0, step=timedelta(seconds=10), **kw):
    for i in range(count):
        with pytest.raises(LoyaltyError) as err:
            attempt(engine, merchant_id, password="wrong password", now=start + i * step, **kw)
        assert err.value.code == "wrong_credentials"


def test_account_locked_after_max_failures_with_a_clear_message(db_engine, cafe, monkeypatch):
    fail(db_engine, cafe, 3, ip="10.0.0.1")
    checked = []
    monkeypatch.setattr(passwords, "verify_password", lambda *a: checked.append(a) or True)
    # Even the right password from another address is refused, without checking it.
    with pytest.raises(LoyaltyError) as err:
        attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=1), ip="10.0.0.2")
    assert err.value.code == "throttled"
    assert err.value.message == "Too many sign-in attempts. Try again in {minutes} minutes."
    # The first failure (T0) leaves the 15-minute window at T0+15 min: 14 minutes to wait.
    assert err.value.params == {"minutes": 14}
    assert str(err.value) == "Too many sign-in attempts. Try again in 14 minutes."
    assert checked == []
    with read_session(db_engine) as s:
        last = s.exec(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
        assert (last.success, last.throttled, last.ip) == (False, True, "10.0.0.2")
        event = s.exec(select(SecurityEvent).where(SecurityEvent.reason == "throttled_account")).one()
        assert (event.action, event.ip, event.detail["email"]) == ("sign_in", "10.0.0.2", "ana@example.com")


def test_throttled_attempts_do_not_extend_the_lockout(db_engine, cafe):
    fail(db_engine, cafe, 3)
    for minute in (1, 5, 10):
        with pytest.raises(LoyaltyError) as err:
            attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=minute))
        assert err.value.code == "throttled"
    # After the first failure leaves the window, the right password works again.
    result = attempt(db_engine, cafe, password=PASSWORD, now=T0 + WINDOW + timedelta(seconds=1))
    assert result.activation_ticket


def test_success_resets_the_account_count(db_engine, cafe):
    fail(db_engine, cafe, 2)
    attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=1))
    fail(db_engine, cafe, 2, start=T0 + timedelta(minutes=2))
    # Only 2 failures since the success: the account is not locked.
    assert attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=3)).activation_ticket


def test_unknown_emails_are_throttled_too(db_engine, cafe):
    fail(db_engine, cafe, 3, email="ghost@example.com")
    with pytest.raises(LoyaltyError) as err:
        attempt(db_engine, cafe, password="whatever1", email="ghost@example.com", now=T0 + timedelta(minutes=1))
    assert err.value.code == "throttled"
    # Other accounts are unaffected by that lockout.
    assert attempt(db_engine, cafe, password=PASSWORD, ip="10.0.0.9", now=T0 + timedelta(minutes=1)).activation_ticket


def test_ip_locked_after_max_failures_across_emails_and_merchants(db_engine, cafe):
    with write_session(db_engine) as s:
        books = Merchant(slug="books", name="Books", short_name="Books")
        s.add(books)
        s.flush()
        books_id = books.id
    # Credential stuffing: one address, a different email each time, in two programs.
    for i in range(5):
        merchant_id = cafe if i % 2 else books_id
        with pytest.raises(LoyaltyError) as err:
            attempt(db_engine, merchant_id, password="leaked-pass", email=f"victim{i}@example.com", now=T0 + timedelta(minutes=i))
        assert err.value.code == "wrong_credentials"
    with pytest.raises(LoyaltyError) as err:
        attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=5))
    assert err.value.code == "throttled"
    assert err.value.params == {"minutes": 10}
    with read_session(db_engine) as s:
        assert s.exec(select(SecurityEvent).where(SecurityEvent.reason == "throttled_ip")).one().ip == "10.0.0.1"
    # The same member from another address signs in fine.
    assert attempt(db_engine, cafe, password=PASSWORD, ip="10.0.0.2", now=T0 + timedelta(minutes=5)).activation_ticket


def test_ip_count_is_not_reset_by_a_success(db_engine, cafe):
    fail(db_engine, cafe, 2, email="x1@example.com")
    attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=1))
    fail(db_engine, cafe, 3, email="x2@example.com", start=T0 + timedelta(minutes=2))
    with pytest.raises(LoyaltyError) as err:
        attempt(db_engine, cafe, password="whatever1", email="x3@example.com", now=T0 + timedelta(minutes=3))
    assert err.value.code == "throttled"


def test_production_defaults_lock_an_account_after_five_failures(db_engine, cafe):
    defaults = replace(
        SETTINGS,
        login_max_failures_per_account=Settings.login_max_failures_per_account,
        login_max_failures_per_ip=Settings.login_max_failures_per_ip,
    )
    assert defaults.login_max_failures_per_account == 5
    fail(db_engine, cafe, 4, settings=defaults)
    assert attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=1), settings=defaults)
    fail(db_engine, cafe, 5, start=T0 + timedelta(minutes=2), settings=defaults)
    with pytest.raises(LoyaltyError) as err:
        attempt(db_engine, cafe, password=PASSWORD, now=T0 + timedelta(minutes=3), settings=defaults)
    assert err.value.code == "throttled"
    assert err.value.params == {"minutes": 14}
