"""Index a member's lots by expiry date (the cockpit's points expiring within 30 days)

Revision ID: a1c4e7b9d302
Revises: f2b8d4c6a193
Create Date: 2026-12-07 21:50:00

``expiring_points`` read every open lot of the member through ``ix_pointlot_open`` (account,
remaining) and filtered the dates: its cost grew with the member's history. With this index it
reads only the lots expiring in the window.
"""

from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = "a1c4e7b9d302"
down_revision: Union[str, Sequence[str], None] = "f2b8d4c6a193"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_pointlot_member_expiry", "pointlot", ["account_id", "expires_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_pointlot_member_expiry", table_name="pointlot")
