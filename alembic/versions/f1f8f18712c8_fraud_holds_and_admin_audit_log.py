"""fraud holds and admin audit log

Revision ID: f1f8f18712c8
Revises: 12581002fb3b
Create Date: 2026-11-23 22:54:55.437478

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "f1f8f18712c8"
down_revision: Union[str, Sequence[str], None] = "12581002fb3b"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "adminauditentry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("target", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adminauditentry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adminauditentry_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_adminauditentry_merchant_id"), ["merchant_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("spending_suspended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "spending_suspended_reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=""
            )
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("spending_suspended_reason")
        batch_op.drop_column("spending_suspended_at")

    with op.batch_alter_table("adminauditentry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adminauditentry_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_adminauditentry_at"))

    op.drop_table("adminauditentry")
