"""Helpers for the ledger tests: program setup, a shared per-backend database, and the worker
functions that concurrency tests run in separate processes (``multiprocessing`` 'spawn').

Worker functions live in an importable module (not in a test file) because spawned processes
import their target by module path.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import loyalty_app.models  # noqa: F401  (registers every table)
from loyalty_app.db import make_engine, write_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.models import Account, Merchant, Role


@dataclass(frozen=True)
class People:
    merchant_id: int
    member_id: int
    other_member_id: int
    staff_id: int


def create_people(session: Session, slug: str | None = None) -> People:
    """A merchant with two members and one staff account (unique slug/emails)."""
    slug = slug or f"m{uuid.uuid4().hex[:10]}"
    merchant = Merchant(slug=slug, name=slug.title(), short_name=slug[:8])
    session.add(merchant)
    session.flush()
    accounts = [
        Account(
            merchant_id=merchant.id, email=f"{name}@{slug}.test", password_hash="x", member_number=f"{i}{slug[:8]}", role=role
        )
        for i, (name, role) in enumerate([("ann", Role.MEMBER), ("bob", Role.MEMBER), ("sam", Role.STAFF)])
    ]
    session.add_all(accounts)
    session.flush()
    return People(merchant.id, *(account.id for account in accounts))


@contextlib.contextmanager
def shared_database(backend: str, pg_url: str | None, tmp_dir) -> Iterator[tuple[str, Engine]]:
    """A private database for a whole test module: (url usable by other processes, engine).

    Tests that share it isolate themselves by creating their own merchant, which is exactly
    the isolation the ledger promises; creating a PostgreSQL schema per test would cost seconds.
    """
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / 'shared.db'}"
        cleanup = None
    else:
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = make_engine(pg_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        sep = "&" if "?" in pg_url else "?"
        url = f"{pg_url}{sep}options=-csearch_path%3D{schema}"
        cleanup = schema
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()
        if cleanup:
            admin = make_engine(pg_url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{cleanup}" CASCADE'))
            admin.dispose()


# --------------------------------------------------------------------------- process workers


def _outcome(fn) -> str:
    try:
        result = fn()
    except LoyaltyError as refused:
        return f"refused:{refused.code}"
    return "replayed" if result.replayed else "ok"


def debit_worker(url: str, barrier, results, merchant_id: int, account_id: int, points: int, key: str) -> None:
    """One process: wait for the others, then try to debit; report ok/refused:<code>."""
    from loyalty_app.services import ledger
    from loyalty_app.services.platform.tx import run_in_transaction

    engine = make_engine(url)
    with engine.connect():
        pass  # connect before the barrier so the race is about the transaction, not start-up
    barrier.wait()
    outcome = _outcome(
        lambda: run_in_transaction(
            engine,
            lambda s: ledger.debit(
                s, merchant_id=merchant_id, account_id=account_id, points=points, idempotency_key=key, reason="Reward"
            ),
            attempts=8,
        )
    )
    results.put((key, outcome))
    engine.dispose()


def credit_worker(url: str, barrier, results, merchant_id: int, account_id: int, points: int, key: str) -> None:
    """One process: wait for the others, then credit (the same receipt as the others)."""
    from loyalty_app.services import ledger
    from loyalty_app.services.platform.tx import run_in_transaction

    engine = make_engine(url)
    with engine.connect():
        pass
    barrier.wait()
    outcome = _outcome(
        lambda: run_in_transaction(
            engine,
            lambda s: ledger.credit(
                s,
                merchant_id=merchant_id,
                account_id=account_id,
                points=points,
                idempotency_key=key,
                reason="Purchase",
                source={"receipt": key},
            ),
            attempts=8,
        )
    )
    results.put((key, outcome))
    engine.dispose()


def setup_people(url: str) -> People:
    engine = make_engine(url)
    with write_session(engine) as session:
        people = create_people(session)
    engine.dispose()
    return people
