"""Real parallel processes against one SQLite file / one PostgreSQL schema.

Each worker process connects first, waits on a shared barrier, then runs its transaction, so
the transactions really overlap. Outcomes are counted, then the balance and the audit checked.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.models import Account, LedgerEntry
from loyalty_app.services import ledger
from tests.engine.ledger_workers import create_people, credit_worker, debit_worker

WORKERS = 6
TIMEOUT_S = 90


def _run_workers(target, jobs: list[tuple]) -> list[tuple[str, str]]:
    """Start one spawned process per job (args after url/barrier/results), collect outcomes."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(jobs))
    results = ctx.Queue()
    processes = [ctx.Process(target=target, args=(job[0], barrier, results, *job[1:])) for job in jobs]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=TIMEOUT_S) for _ in processes]
    for process in processes:
        process.join(timeout=TIMEOUT_S)
        assert process.exitcode == 0
    return outcomes


def _audit_ok(engine) -> None:
    report = ledger.audit(engine)
    assert report.ok, [d.describe() for d in report.drifts]


@pytest.mark.slow
def test_parallel_debits_exceeding_the_balance_exactly_enough_succeed(db_url, db_engine):
    with write_session(db_engine) as s:
        people = create_people(s)
        ledger.credit(
            s,
            merchant_id=people.merchant_id,
            account_id=people.member_id,
            points=100,
            idempotency_key="receipt:1",
            reason="Purchase",
        )
    jobs = [(db_url, people.merchant_id, people.member_id, 30, f"voucher:{n}") for n in range(WORKERS)]
    outcomes = Counter(outcome for _, outcome in _run_workers(debit_worker, jobs))
    assert outcomes == {"ok": 3, "refused:insufficient_points": WORKERS - 3}
    with read_session(db_engine) as s:
        balance = ledger.get_balance(s, merchant_id=people.merchant_id, account_id=people.member_id)
    assert (balance.available, balance.spent) == (10, 90)
    _audit_ok(db_engine)


@pytest.mark.slow
def test_the_same_receipt_credited_by_parallel_processes_is_credited_once(db_url, db_engine):
    with write_session(db_engine) as s:
        people = create_people(s)
    jobs = [(db_url, people.merchant_id, people.member_id, 50, "receipt:store-1:0042")] * WORKERS
    outcomes = Counter(outcome for _, outcome in _run_workers(credit_worker, jobs))
    assert outcomes == {"ok": 1, "replayed": WORKERS - 1}
    with read_session(db_engine) as s:
        balance = ledger.get_balance(s, merchant_id=people.merchant_id, account_id=people.member_id)
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.merchant_id == people.merchant_id)).all()
    assert balance.available == 50 and len(entries) == 1
    _audit_ok(db_engine)


@pytest.mark.slow
def test_one_key_raced_for_two_members_is_used_once(db_url, db_engine):
    """Different members do not share a balance lock: the unique key (SAVEPOINT path) decides."""
    with write_session(db_engine) as s:
        people = create_people(s)
    members = [people.member_id, people.other_member_id] * (WORKERS // 2)
    jobs = [(db_url, people.merchant_id, member, 20, "event:launch-party") for member in members]
    outcomes = _run_workers(credit_worker, jobs)
    counted = Counter(outcome for _, outcome in outcomes)
    assert counted["ok"] == 1
    assert counted["replayed"] + counted["refused:idempotency_conflict"] == WORKERS - 1
    with read_session(db_engine) as s:
        entries = s.exec(select(LedgerEntry).where(LedgerEntry.merchant_id == people.merchant_id)).all()
        (winner,) = entries
        assert s.get(Account, winner.account_id).merchant_id == people.merchant_id
        loser = people.other_member_id if winner.account_id == people.member_id else people.member_id
        assert ledger.get_balance(s, merchant_id=people.merchant_id, account_id=loser).available == 0
    # Each process for the winner's member replays; each for the other member conflicts.
    assert counted["replayed"] == WORKERS // 2 - 1
    assert counted["refused:idempotency_conflict"] == WORKERS // 2
    _audit_ok(db_engine)
