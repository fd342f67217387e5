"""go live: truthful public data (story hashtags, the info package's name, roadmap
phase status from the dates, a guide-expertise vocabulary per municipality, demo
guides and stories)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 15:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
landing = sa.table(
    'landing_config',
    sa.column('id', sa.Uuid()),
    sa.column('story_hashtag', sa.String()),
    sa.column('story_hashtags', sa.JSON()),
)


def upgrade() -> None:
    op.create_table('guide_expertise',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('municipality_id', sa.Uuid(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('label', JSON, nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipality.id'], name=op.f('fk_guide_expertise_municipality_id_municipality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guide_expertise')),
    sa.UniqueConstraint('municipality_id', 'key', name=op.f('uq_guide_expertise_municipality_id_key'))
    )
    with op.batch_alter_table('guide_expertise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guide_expertise_municipality_id'), ['municipality_id'], unique=False)
    for table in ('guide', 'story'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('demo', sa.Boolean(), nullable=False, server_default=sa.false())
            )
    # One stories hashtag became a list: the model names two (seed p. 60–65).
    with op.batch_alter_table('landing_config', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_hashtags', JSON, nullable=True))
    bind = op.get_bind()
    for row_id, tag in bind.execute(sa.select(landing.c.id, landing.c.story_hashtag)).all():
        bind.execute(
            landing.update()
            .where(landing.c.id == row_id)
            .values(story_hashtags=[tag] if tag else [])
        )
    with op.batch_alter_table('landing_config', schema=None) as batch_op:
        batch_op.alter_column('story_hashtags', existing_type=JSON, nullable=False)
        batch_op.drop_column('story_hashtag')
        batch_op.add_column(sa.Column('info_package_name', JSON, nullable=True))
    # A phase's status follows its dates unless set; "planned" was only the default.
    with op.batch_alter_table('roadmap_phase', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=sa.String(length=16), nullable=True
        )
    op.execute("UPDATE roadmap_phase SET status = NULL WHERE status = 'planned'")


def downgrade() -> None:
    for table in ('guide', 'story'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('demo')
    with op.batch_alter_table('guide_expertise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_guide_expertise_municipality_id'))
    op.drop_table('guide_expertise')
    op.execute("UPDATE roadmap_phase SET status = 'planned' WHERE status IS NULL")
    with op.batch_alter_table('roadmap_phase', schema=None) as batch_op:
        batch_op.alter_column(
            'status', existing_type=sa.String(length=16), nullable=False
        )
    with op.batch_alter_table('landing_config', schema=None) as batch_op:
        batch_op.drop_column('info_package_name')
        batch_op.add_column(sa.Column('story_hashtag', sa.String(length=120), nullable=True))
    bind = op.get_bind()
    for row_id, tags in bind.execute(sa.select(landing.c.id, landing.c.story_hashtags)).all():
        bind.execute(
            landing.update()
            .where(landing.c.id == row_id)
            .values(story_hashtag=(tags or [None])[0])
        )
    with op.batch_alter_table('landing_config', schema=None) as batch_op:
        batch_op.drop_column('story_hashtags')
