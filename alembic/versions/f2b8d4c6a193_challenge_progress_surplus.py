"""Challenge progress keeps the matching actions counted after completion

Revision ID: f2b8d4c6a193
Revises: e5a7c2d9b014
Create Date: 2026-12-07 19:40:00

Written by hand. An undone purchase takes back its challenge step; when the challenge already
had more matching actions than its target, one of those takes the undone one's place, so the
completion and its bonus stand. Existing rows start at 0 (no surplus was counted before).
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = "f2b8d4c6a193"
down_revision: Union[str, Sequence[str], None] = "e5a7c2d9b014"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.add_column("challengeprogress", sa.Column("surplus", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("challengeprogress") as batch:
        batch.drop_column("surplus")
