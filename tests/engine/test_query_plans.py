"""A guard against plan regressions on the hot paths, on SQLite and PostgreSQL.

A program with realistic table statistics (thousands of members, tens of thousands of ledger
entries and lots, one member with a long history, the demo's program definitions; then
``ANALYZE``) runs the real hot paths: the member's cockpit, a purchase credit, the till's member
lookup and the periodic tier evaluation. Every SELECT they send is recorded and ``EXPLAIN``-ed
with its own parameters; the test fails when a plan scans a whole member-sized table (the
ledger, lots, lot movements, balances, accounts) instead of searching an index, or reads the
merchant-wide analytics index (``ix_ledgerentry_merchant_time``: a scan of the merchant's whole
window) for one member. The figures (statements per path) are printed for the curious.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine

from benchmarks.ledger import bulk_load
from loyalty_app.db import write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import MemberActivity, Role, StaffStore, Store
from loyalty_app.models.accounts import Account
from loyalty_app.services.earning import actions as earning
from loyalty_app.services.earning import tiers
from loyalty_app.services.member_app import cockpit
from loyalty_app.services.operations.demo_program import seed_demo_program
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.store import till

GUARDED_TABLES = ("ledgerentry", "pointlot", "lotmovement", "memberbalance", "account", "membertier", "memberactivity")
MERCHANT_WIDE_INDEX = "ix_ledgerentry_merchant_time"


def _scans(dialect: str, plan: str) -> list[str]:
    """The plan lines that read a guarded table whole (or the merchant-wide index)."""
    bad = []
    for line in plan.splitlines():
        if MERCHANT_WIDE_INDEX in line:
            bad.append(line.strip())
        elif dialect == "postgresql":
            match = re.search(r"Seq Scan on (\w+)", line)
            if match and match.group(1) in GUARDED_TABLES:
                bad.append(line.strip())
        else:
            # SQLite: "SCAN t" (whole table) or "SCAN t USING [COVERING] INDEX i" (whole index);
            # "SEARCH t USING INDEX i (...)" is a lookup and fine.
            match = re.search(r"\bSCAN (\w+)", line)
            if match and match.group(1) in GUARDED_TABLES:
                bad.append(line.strip())
    return bad


def _explain(engine: Engine, statement: str, parameters) -> str:
    dialect = engine.dialect.name
    prefix = "EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        try:
            cur.execute(prefix + statement, parameters)
            rows = cur.fetchall()
        finally:
            cur.close()
        conn.rollback()
    return "\n".join(str(row[-1]) if dialect != "postgresql" else str(row[0]) for row in rows)


@pytest.fixture
def shop(db_engine):
    """The realistic data set, analysed."""
    merchant_id, account_ids, heavy = bulk_load(db_engine, members=5_000, entries=40_000, cockpit_entries=3_000)
    now = utcnow()
    with write_session(db_engine) as s:
        store = Store(merchant_id=merchant_id, code="plan", name="Plan store")
        s.add(store)
        s.flush()
        staff = Account(
            merchant_id=merchant_id, role=Role.STAFF, email="cashier@plan.test", password_hash="x", member_number="S1"
        )
        s.add(staff)
        s.flush()
        s.add(StaffStore(account_id=staff.id, store_id=store.id))
        store_id, staff_id = store.id, staff.id
    seed_demo_program(db_engine, merchant_id, [], [store_id], now)
    rng = random.Random(5)
    activity = [
        {
            "merchant_id": merchant_id,
            "account_id": heavy if i < 2_000 else rng.choice(account_ids),
            "action": rng.choice(["purchase", "purchase", "check_in", "write_review"]),
            "store_id": store_id,
            "at": (at := now - timedelta(days=rng.uniform(0, 360))),
            "local_day": at.date(),
            "idempotency_key": f"plan:{i}",
            "points": 10,
            "breakdown": {},
            "detail": {},
        }
        for i in range(20_000)
    ]
    with db_engine.begin() as conn:
        conn.execute(insert(MemberActivity.__table__), activity)  # type: ignore[attr-defined]
    tiers.evaluate_tiers(db_engine, merchant_id, now)  # every member holds a tier row, as in a live program
    with db_engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return {
        "merchant_id": merchant_id,
        "members": account_ids,
        "heavy": heavy,
        "store_id": store_id,
        "staff": Actor(staff_id, merchant_id, Role.STAFF, frozenset({store_id}), 0),
    }


def _recorded(engine: Engine, run: Callable[[], object]) -> list[tuple[str, object]]:
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def test_hot_paths_search_indexes_and_never_scan_the_ledger(db_engine, shop):
    m = shop["merchant_id"]
    heavy, other = shop["heavy"], shop["members"][-1]
    number = "70000599"  # printed under the card's QR
    with write_session(db_engine) as s:
        s.get(Account, other).member_number = number
    paths: dict[str, Callable[[], object]] = {
        "cockpit": lambda: cockpit.member_summary(db_engine, merchant_id=m, account_id=heavy),
        "credit": lambda: earning.credit_purchase(
            db_engine, merchant_id=m, account_id=other, store_id=shop["store_id"], amount_cents=1250, receipt="PLAN-1"
        ),
        "member lookup": lambda: till.find_member(db_engine, shop["staff"], store_id=shop["store_id"], member_number=number),
        # A batch is a small share of a real program's members (1,000 of 100,000): here 20 of 5,000.
        "tier evaluation": lambda: tiers.evaluate_tiers(db_engine, m, utcnow(), batch_size=20),
    }
    problems = []
    for name, run in paths.items():
        statements = _recorded(db_engine, run)
        assert statements, name  # the path ran and read something
        distinct = {statement: parameters for statement, parameters in statements}  # each text once
        print(f"{db_engine.dialect.name} {name}: {len(statements)} SELECTs, {len(distinct)} distinct")
        for statement, parameters in distinct.items():
            plan = _explain(db_engine, statement, parameters)
            for line in _scans(db_engine.dialect.name, plan):
                problems.append(f"{name}: {line}\n    {' '.join(statement.split())[:300]}")
    assert not problems, "\n".join(problems)


def test_the_guard_sees_a_scan(db_engine, shop):
    """The guard itself: a query without a usable index is reported on both backends."""
    plan = _explain(db_engine, "SELECT count(*) FROM ledgerentry WHERE points = 7", ())
    assert _scans(db_engine.dialect.name, plan)
