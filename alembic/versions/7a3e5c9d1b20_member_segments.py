"""member segments, reward and challenge targeting, retiring tiers and badges

Revision ID: 7a3e5c9d1b20
Revises: d778b5162c01
Create Date: 2026-11-24 09:00:00

Merchant segments (criteria as JSON), ``segment_key`` on rewards and challenges (quests and
earning rules already have one), and ``is_active`` on tiers and badges so they can be retired.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "7a3e5c9d1b20"
down_revision: Union[str, Sequence[str], None] = "d778b5162c01"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merchant_id"], ["merchant.id"], name="fk_segment_merchant_id_merchant"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "key"),
    )
    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_merchant_id"), ["merchant_id"], unique=False)

    with op.batch_alter_table("badge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table("tier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table("challenge", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))

    with op.batch_alter_table("programchange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segment_key", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("programchange", schema=None) as batch_op:
        batch_op.drop_column("segment_key")

    with op.batch_alter_table("challenge", schema=None) as batch_op:
        batch_op.drop_column("segment_key")

    with op.batch_alter_table("reward", schema=None) as batch_op:
        batch_op.drop_column("segment_key")

    with op.batch_alter_table("tier", schema=None) as batch_op:
        batch_op.drop_column("is_active")

    with op.batch_alter_table("badge", schema=None) as batch_op:
        batch_op.drop_column("is_active")

    with op.batch_alter_table("segment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_segment_merchant_id"))

    op.drop_table("segment")
