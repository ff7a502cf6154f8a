"""till guards: fraud flags, live clients, personal account

Revision ID: cf619bf124c4
Revises: 51090cc977d5
Create Date: 2026-11-23 22:01:48.136254

"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "cf619bf124c4"
down_revision: Union[str, Sequence[str], None] = "51090cc977d5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "fraudflag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("member_account_id", sa.Integer(), nullable=True),
        sa.Column("staff_account_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution_note", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["staff_account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fraudflag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fraudflag_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fraudflag_member_account_id"), ["member_account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fraudflag_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "liveclient",
        sa.Column("client_token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("client_token"),
    )
    with op.batch_alter_table("liveclient", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_liveclient_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_liveclient_seen_at"), ["seen_at"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("personal_account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_account_personal_account_id", "account", ["personal_account_id"], ["id"])

    with op.batch_alter_table("programrules", schema=None) as batch_op:
        batch_op.add_column(sa.Column("till_credits_per_member_hour", sa.Integer(), nullable=False, server_default="4"))
        batch_op.add_column(sa.Column("till_undo_minutes", sa.Integer(), nullable=False, server_default="10"))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("programrules", schema=None) as batch_op:
        batch_op.drop_column("till_undo_minutes")
        batch_op.drop_column("till_credits_per_member_hour")

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint("fk_account_personal_account_id", type_="foreignkey")
        batch_op.drop_column("personal_account_id")

    with op.batch_alter_table("liveclient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_liveclient_seen_at"))
        batch_op.drop_index(batch_op.f("ix_liveclient_account_id"))

    op.drop_table("liveclient")
    with op.batch_alter_table("fraudflag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fraudflag_merchant_id"))
        batch_op.drop_index(batch_op.f("ix_fraudflag_member_account_id"))
        batch_op.drop_index(batch_op.f("ix_fraudflag_at"))

    op.drop_table("fraudflag")
