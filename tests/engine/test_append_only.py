"""The database itself refuses to rewrite ledger history (after migrations and create_all)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from loyalty_app.db import make_engine, write_session
from loyalty_app.models import Merchant
from loyalty_app.services import ledger
from loyalty_app.services.members import accounts
from loyalty_app.services.platform.tx import run_in_transaction
from tests.unit.test_migrations import _upgrade


def _one_entry(engine) -> None:
    with write_session(engine) as s:
        m = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(m)
        s.flush()
        mid = m.id
    member = accounts.sign_up_member(engine, merchant_id=mid, email="m@x.test", password="correct horse 1", first_name="A")
    run_in_transaction(
        engine,
        lambda s: ledger.credit(s, merchant_id=mid, account_id=member.id, points=10, idempotency_key="k", reason="Welcome"),
    )
    run_in_transaction(
        engine, lambda s: ledger.debit(s, merchant_id=mid, account_id=member.id, points=4, idempotency_key="d", reason="Spend")
    )


def _assert_refused(engine) -> None:
    for sql in (
        "UPDATE ledgerentry SET points = points + 1000",
        "DELETE FROM ledgerentry",
        "UPDATE lotmovement SET points = 0",
        "DELETE FROM lotmovement",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT sum(points) FROM ledgerentry")).scalar_one() == 6


def test_create_all_schema_refuses_updates_and_deletes(db_engine):
    _one_entry(db_engine)
    _assert_refused(db_engine)


def test_migrated_schema_refuses_updates_and_deletes(empty_db_url):
    _upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        _one_entry(engine)
        _assert_refused(engine)
    finally:
        engine.dispose()
