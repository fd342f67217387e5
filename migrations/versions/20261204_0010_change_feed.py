"""change feed: the change log behind tombstones, the feed and webhooks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('change_event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('resource_id', sa.Uuid(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_change_event_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_change_event')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.create_index('ix_change_event_municipality_id_kind_occurred_at', ['municipality_id', 'kind', 'occurred_at'], unique=False)
        batch_op.create_index('ix_change_event_municipality_id_seq', ['municipality_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_event_occurred_at'), ['occurred_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('change_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_event_occurred_at'))
        batch_op.drop_index('ix_change_event_municipality_id_seq')
        batch_op.drop_index('ix_change_event_municipality_id_kind_occurred_at')
    op.drop_table('change_event')
