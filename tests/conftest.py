"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

``db_engine`` is parametrised over the backends: SQLite always; PostgreSQL when
``TEST_DATABASE_URL`` is set (``.ci/run`` sets it to this machine's server). When it is not set,
the PostgreSQL variants are skipped with a message saying so. Each PostgreSQL engine works in
its own schema, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import loyalty_app.models  # noqa: F401  (registers every table)
from loyalty_app.db import make_engine

PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_SKIP_REASON = "PostgreSQL tests skipped: TEST_DATABASE_URL is not set (see README, Testing)"


def make_pg_engine(url: str, schema: str, **kwargs) -> Engine:
    """An engine whose connections all use ``schema`` (created if missing)."""
    engine = make_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _set_search_path(dbapi_conn, _record):
        cur = dbapi_conn.cursor()
        cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return engine


def drop_pg_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _backends() -> list:
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON),
        ),
    ]


@pytest.fixture(params=_backends())
def db_backend(request) -> str:
    return request.param


@pytest.fixture
def db_url(db_backend, tmp_path) -> Iterator[str]:
    """A database URL for a fresh, empty database (file SQLite or a private PG schema).

    For PostgreSQL the URL carries the schema in ``options`` so separate processes
    (concurrency tests) can connect to the same private schema.
    """
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    drop_pg_schema(PG_URL, schema)


@pytest.fixture
def db_engine(db_url) -> Iterator[Engine]:
    """An engine on a fresh database with every table created."""
    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """SQLite only, for tests that need no backend matrix."""
    engine = make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()
