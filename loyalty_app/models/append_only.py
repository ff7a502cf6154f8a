"""Database-level guard: ledger entries and lot movements can be inserted, never changed.

The code never updates or deletes them; these triggers make the database refuse it too, so a
bug, a hand-written SQL fix or a compromised service cannot rewrite history. Corrections are
new entries (reversals, adjustments). Installed by create_all (tests) and by the migrations.
"""

from __future__ import annotations

from sqlalchemy import DDL, event

APPEND_ONLY_TABLES = ("ledgerentry", "lotmovement")


def append_only_statements(dialect: str, table: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION loyalty_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501'; END $$",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION loyalty_refuse_change()",
        ]
    return []


def install_listeners(metadata) -> None:
    """Attach the triggers to ``create_all`` for each dialect we support."""
    for name in APPEND_ONLY_TABLES:
        table = metadata.tables[name]
        for dialect in ("sqlite", "postgresql"):
            for statement in append_only_statements(dialect, name):
                # DDL() applies %-formatting: escape the literal % of the PL/pgSQL message.
                event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))
