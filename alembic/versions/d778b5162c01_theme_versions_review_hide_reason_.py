"""theme versions, review hide reason, analytics indexes

Revision ID: d778b5162c01
Revises: 5ce56cb95d4f
Create Date: 2026-11-23 23:32:55.138447

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "d778b5162c01"
down_revision: Union[str, Sequence[str], None] = "5ce56cb95d4f"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "themeversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("theme", sa.JSON(), nullable=False),
        sa.Column("logo_id", sa.Integer(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["logo_id"],
            ["mediablob.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "version"),
    )
    with op.batch_alter_table("themeversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_themeversion_merchant_id"), ["merchant_id"], unique=False)
        batch_op.create_index(
            "uq_themeversion_one_draft",
            ["merchant_id"],
            unique=True,
            sqlite_where=sa.text("status = 'draft'"),
            postgresql_where=sa.text("status = 'draft'"),
        )

    with op.batch_alter_table("ledgerentry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledgerentry_merchant_time",
            ["merchant_id", "created_at", "kind", "account_id", "earned_delta", "spent_delta", "expired_delta", "donated_delta"],
            unique=False,
        )

    with op.batch_alter_table("memberactivity", schema=None) as batch_op:
        batch_op.create_index("ix_memberactivity_account_time", ["account_id", "at"], unique=False)
        batch_op.create_index("ix_memberactivity_merchant_time", ["merchant_id", "at", "account_id", "action"], unique=False)

    with op.batch_alter_table("rewardrating", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hidden_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default="")
        )

    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.create_index("ix_voucher_merchant_issued", ["merchant_id", "issued_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("voucher", schema=None) as batch_op:
        batch_op.drop_index("ix_voucher_merchant_issued")

    with op.batch_alter_table("rewardrating", schema=None) as batch_op:
        batch_op.drop_column("hidden_reason")

    with op.batch_alter_table("memberactivity", schema=None) as batch_op:
        batch_op.drop_index("ix_memberactivity_merchant_time")
        batch_op.drop_index("ix_memberactivity_account_time")

    with op.batch_alter_table("ledgerentry", schema=None) as batch_op:
        batch_op.drop_index("ix_ledgerentry_merchant_time")

    with op.batch_alter_table("themeversion", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_themeversion_one_draft", sqlite_where=sa.text("status = 'draft'"), postgresql_where=sa.text("status = 'draft'")
        )
        batch_op.drop_index(batch_op.f("ix_themeversion_merchant_id"))

    op.drop_table("themeversion")
