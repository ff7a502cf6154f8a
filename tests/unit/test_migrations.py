"""The Alembic history builds exactly the schema the SQLModel tables describe, on each backend."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
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


def _member_with_points(engine) -> int:
    from loyalty_app.db import write_session
    from loyalty_app.models import Merchant
    from loyalty_app.services import ledger
    from loyalty_app.services.members import accounts

    with write_session(engine) as s:
        merchant = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(merchant)
        s.flush()
        merchant_id = merchant.id
    member = accounts.sign_up_member(
        engine, merchant_id=merchant_id, email="ana@x.test", password="correct horse battery", first_name="Ana"
    )
    with write_session(engine) as s:
        ledger.credit(s, merchant_id=merchant_id, account_id=member.id, points=40, idempotency_key="k1", reason="test")
    return member.id


def _refused(engine, statement: str) -> bool:
    from sqlalchemy.exc import IntegrityError

    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except IntegrityError:
        return True
    return False


def test_the_database_itself_refuses_negative_balances_and_lots_out_of_range(empty_db_url):
    """The ledger keeps these invariants; the CHECK constraints (migration e5a7c2d9b014, and the
    models for create_all) make the database refuse a row that breaks them, whatever writes it."""
    from sqlalchemy import text as sql

    _upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        member = _member_with_points(engine)
        assert _refused(engine, f"UPDATE memberbalance SET available = -1 WHERE account_id = {member}")
        assert _refused(engine, f"UPDATE memberbalance SET pending = -5 WHERE account_id = {member}")
        assert _refused(engine, f"UPDATE pointlot SET remaining = -1 WHERE account_id = {member}")
        assert _refused(engine, f"UPDATE pointlot SET remaining = original_points + 1 WHERE account_id = {member}")
        assert not _refused(engine, f"UPDATE pointlot SET remaining = 0 WHERE account_id = {member}")  # in range: allowed
        with engine.connect() as conn:
            assert conn.execute(sql(f"SELECT available FROM memberbalance WHERE account_id = {member}")).scalar() == 40
    finally:
        engine.dispose()


def test_create_all_has_the_same_checks(db_engine):
    member = _member_with_points(db_engine)
    assert _refused(db_engine, f"UPDATE memberbalance SET available = -1 WHERE account_id = {member}")
    assert _refused(db_engine, f"UPDATE pointlot SET remaining = original_points + 1 WHERE account_id = {member}")


def test_upgrade_keeps_existing_rows_when_sqlite_copies_a_table(tmp_path):
    """SQLite adds the CHECK constraints by copying the table: rows that other tables refer to
    (a lot's movements) must survive with foreign keys enforced."""
    from loyalty_app.db import read_session
    from loyalty_app.services import ledger

    url = f"sqlite:///{tmp_path / 'old.db'}"
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, "c3d9a1f7e5b2")  # the schema before the constraints
    engine = make_engine(url)
    try:
        member = _member_with_points(engine)
        from loyalty_app.db import write_session

        with write_session(engine) as s:
            ledger.debit(s, merchant_id=1, account_id=member, points=15, idempotency_key="k2", reason="test")
        engine.dispose()
        command.upgrade(cfg, "head")
        assert ledger.audit(engine).ok
        with read_session(engine) as s:
            assert ledger.get_balance(s, merchant_id=1, account_id=member).available == 25
        assert _refused(engine, f"UPDATE memberbalance SET available = -1 WHERE account_id = {member}")
    finally:
        engine.dispose()
