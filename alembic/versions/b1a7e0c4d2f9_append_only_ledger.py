"""ledger entries and lot movements are append-only (database triggers)

Revision ID: b1a7e0c4d2f9
Revises: 507adeff761c
"""

from alembic import op

from loyalty_app.models.append_only import APPEND_ONLY_TABLES, append_only_statements

revision = "b1a7e0c4d2f9"
down_revision = "507adeff761c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in append_only_statements(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        if dialect == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        elif dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
