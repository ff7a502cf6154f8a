"""Analytics rollups: closed local days pre-aggregated per merchant

Revision ID: c3d9a1f7e5b2
Revises: 8b4f6d0e2c31
Create Date: 2026-11-24 10:00:00

Written by hand: three derived tables (services.insight.analytics_rollup); no data to migrate, the
periodic jobs (or ``python -m loyalty_app.cli analytics-rollup``) fill them.
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = "c3d9a1f7e5b2"
down_revision: Union[str, Sequence[str], None] = "8b4f6d0e2c31"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "analyticsrollupstate",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("rolled_until", sa.Date(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("merchant_id"),
    )
    op.create_table(
        "analyticsdailypoints",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("earned", sa.Integer(), nullable=False),
        sa.Column("spent", sa.Integer(), nullable=False),
        sa.Column("expired", sa.Integer(), nullable=False),
        sa.Column("donated", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("merchant_id", "local_day"),
    )
    op.create_table(
        "analyticsmemberperiod",
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchant.id"],
        ),
        sa.PrimaryKeyConstraint("merchant_id", "period", "start", "account_id"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("analyticsmemberperiod")
    op.drop_table("analyticsdailypoints")
    op.drop_table("analyticsrollupstate")
