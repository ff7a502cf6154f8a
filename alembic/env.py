"""Alembic environment: the database URL comes from loyalty_app.settings, the schema from the
SQLModel tables in loyalty_app.models (one migration history for SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import loyalty_app.models  # noqa: F401  (registers every table)
from loyalty_app.db import make_engine, normalise_url
from loyalty_app.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=normalise_url(_url()),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    broken_before: list = []
    if sqlite:
        # Batch migrations copy a table and drop the old one; with foreign keys enforced, dropping
        # a table other rows refer to fails. SQLite only honours this pragma outside a
        # transaction, so it goes straight to the driver; the references are checked before commit.
        if connection.in_transaction():
            raise RuntimeError("SQLite migrations need a connection outside a transaction (foreign keys are switched off)")
        driver = connection.connection.driver_connection
        broken_before = driver.execute("PRAGMA foreign_key_check").fetchall()
        driver.execute("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:  # only what the migration broke: rows broken before are not its doing
                broken = [
                    row
                    for row in connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if tuple(row) not in {tuple(b) for b in broken_before}
                ]
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    finally:
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
