"""The Alembic history builds exactly the schema the SQLModel tables describe, on each backend."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import loyalty_app.models  # noqa: F401
from loyalty_app.db import make_engine
from loyalty_app.settings import PROJECT_ROOT


def _upgrade(url: str) -> None:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "head")


def test_migrations_match_models(empty_db_url):
    _upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(ctx, SQLModel.metadata)
            tables = set(inspect(conn).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        assert diff == [], f"models and migrations differ; run alembic revision --autogenerate: {diff}"
    finally:
        engine.dispose()


def test_upgrade_is_repeatable(empty_db_url):
    _upgrade(empty_db_url)
    _upgrade(empty_db_url)  # a second run (every `make run`) is a no-op
