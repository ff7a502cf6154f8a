"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL.

``db_engine`` is parametrised over the backends: SQLite always; PostgreSQL when
``TEST_DATABASE_URL`` is set (``.ci/run`` sets it to this machine's server). When it is not set,
the PostgreSQL variants are skipped with a message saying so. Each PostgreSQL engine works in
its own schema, so parallel runs never see each other's rows.
"""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> str:
    """An SQLite file with every table, created once and copied for each test (fast)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    return str(path)


@pytest.fixture(scope="session")
def _pg_schema_url() -> Iterator[str]:
    """One private PostgreSQL schema with every table for this pytest process."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield url
    drop_pg_schema(PG_URL, schema)


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def db_url(db_backend, tmp_path, request) -> Iterator[str]:
    """A database URL with every table and no rows (file SQLite, or a private PG schema).

    Other processes can open it (concurrency tests). PostgreSQL reuses one schema per pytest
    process and empties it before each test.
    """
    if db_backend == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_pg_schema_url")
    _truncate_all(url)
    yield url


@pytest.fixture
def empty_db_url(db_backend, tmp_path) -> Iterator[str]:
    """A URL to a database with no tables at all (for migration tests)."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
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
    """An engine on a fresh database with every table and no rows."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path) -> Iterator[Engine]:
    """SQLite only, for tests that need no backend matrix."""
    engine = make_engine(f"sqlite:///{tmp_path / 'unit.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()
