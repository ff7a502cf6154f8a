"""Balances never negative, a lot's remaining within [0, original]: CHECK constraints

Revision ID: e5a7c2d9b014
Revises: c3d9a1f7e5b2
Create Date: 2026-12-07 19:30:00

Written by hand (autogenerate does not compare CHECK constraints). The ledger already keeps
these invariants and the audit proves them; the database now refuses a row that breaks them,
whatever writes it. SQLite cannot add a constraint to a table in place: batch mode copies the
table (the data is kept; a database that already breaks an invariant fails here, loudly).
PostgreSQL adds each constraint NOT VALID (a brief lock; new rows are checked at once) and then
VALIDATEs it, which reads the existing rows without blocking writes to a large ``pointlot``.
"""

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = "e5a7c2d9b014"
down_revision: Union[str, Sequence[str], None] = "c3d9a1f7e5b2"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHECKS = {
    "memberbalance": (
        ("ck_memberbalance_available_not_negative", "available >= 0"),
        ("ck_memberbalance_pending_not_negative", "pending >= 0"),
    ),
    "pointlot": (("ck_pointlot_remaining_in_range", "remaining >= 0 AND remaining <= original_points"),),
}


def upgrade() -> None:
    """Upgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        for table, checks in CHECKS.items():
            for name, condition in checks:
                op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
                op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")
        return
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, condition in checks:
                batch.create_check_constraint(name, condition)


def downgrade() -> None:
    """Downgrade schema."""
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for name, _condition in checks:
                batch.drop_constraint(name, type_="check")
