"""The tier window's sum reads one index: (account, kind, time, earned points)

Revision ID: b7d2f5a8c416
Revises: a1c4e7b9d302
Create Date: 2026-12-07 22:00:00

``ix_ledgerentry_member_kind_time`` (account, kind, time) found a member's earn entries in a
window but the sum then read each row of the table; with the earned points in the index the sum
is index-only. It replaces the old index (same leading columns, so every query that used it
can use this one).
"""

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = "b7d2f5a8c416"
down_revision: Union[str, Sequence[str], None] = "a1c4e7b9d302"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        "ix_ledgerentry_member_earned", "ledgerentry", ["account_id", "kind", "created_at", "earned_delta"], unique=False
    )
    op.drop_index("ix_ledgerentry_member_kind_time", table_name="ledgerentry")


def downgrade() -> None:
    """Downgrade schema."""
    op.create_index("ix_ledgerentry_member_kind_time", "ledgerentry", ["account_id", "kind", "created_at"], unique=False)
    op.drop_index("ix_ledgerentry_member_earned", table_name="ledgerentry")
