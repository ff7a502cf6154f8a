"""member inbox

Revision ID: 5ce56cb95d4f
Revises: f1f8f18712c8
Create Date: 2026-11-23 22:58:26.802079

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "5ce56cb95d4f"
down_revision: Union[str, Sequence[str], None] = "f1f8f18712c8"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "inboxthread",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("voucher_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("member_read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("merchant_read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
        ),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["voucher.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inboxthread", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inboxthread_account_id"), ["account_id"], unique=False)
        batch_op.create_index("ix_inboxthread_merchant_updated", ["merchant_id", "updated_at"], unique=False)

    op.create_table(
        "inboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("from_merchant", sa.Boolean(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["inboxthread.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("inboxmessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inboxmessage_thread_id"), ["thread_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("inboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inboxmessage_thread_id"))

    op.drop_table("inboxmessage")
    with op.batch_alter_table("inboxthread", schema=None) as batch_op:
        batch_op.drop_index("ix_inboxthread_merchant_updated")
        batch_op.drop_index(batch_op.f("ix_inboxthread_account_id"))

    op.drop_table("inboxthread")
