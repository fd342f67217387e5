"""draft fund rounds and roadmap phases

Onboarding copies a municipality's fund rules and roadmap template as drafts: a copied
round or phase must not appear on the new municipality's public pages (with the source's
budget and dates) before its staff have adapted and published it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:25:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fund_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('roadmap_phase', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draft', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('roadmap_phase', schema=None) as batch_op:
        batch_op.drop_column('draft')
    with op.batch_alter_table('fund_round', schema=None) as batch_op:
        batch_op.drop_column('draft')
