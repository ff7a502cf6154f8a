"""Database engine and transaction scopes.

Services own transactions (``read_session`` / ``write_session``); states and pages never open
one. SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` for write transactions, so two
processes that both want to write queue up instead of failing half way with "database is
locked" on the read-to-write upgrade. PostgreSQL uses row locks taken by the services.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from loyalty_app.settings import get_settings

_IMMEDIATE = "loyalty_sqlite_immediate"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10, echo: bool = False) -> Engine:
    """Create an engine with the pragmas/pool settings this app relies on."""
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # pragma: no cover - driver hook
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - driver hook
            if conn.get_execution_options().get(_IMMEDIATE):
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.exec_driver_sql("BEGIN")

        return engine
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def holds_sqlite_write_lock(session: Session) -> bool:
    """True inside a ``write_session`` on SQLite (another write transaction would wait on us)."""
    return bool(session.connection().get_execution_options().get(_IMMEDIATE))


@functools.lru_cache(maxsize=1)
def get_engine() -> Engine:
    settings = get_settings()
    return make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )


@contextlib.contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads; never commits. Closing it (not rolling back) ends the transaction
    and keeps loaded objects readable after the block (rollback would expire them)."""
    engine = engine or get_engine()
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextlib.contextmanager
def write_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for one write transaction: commit on success, roll back on any error.

    On SQLite the transaction starts with BEGIN IMMEDIATE (a write lock up front).
    """
    engine = engine or get_engine()
    if is_sqlite(str(engine.url)):
        engine = engine.execution_options(**{_IMMEDIATE: True})
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
