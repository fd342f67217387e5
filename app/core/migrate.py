"""Alembic, driven from code: the CLI, the app's readiness check and the tests share it."""

from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from app.core.config import Settings


def alembic_config(settings: Settings, database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(settings.migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url or settings.database_url)
    return config


def head_revision(settings: Settings) -> str | None:
    """The newest migration this code expects the database to be at."""
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()


def upgrade(settings: Settings, database_url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings, database_url), revision)


def downgrade(settings: Settings, database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(settings, database_url), revision)


# Search structures the models do not describe: SQLite's FTS5 table (and the shadow
# tables it keeps), PostgreSQL's GIN expression index and the slot exclusion
# constraint. Autogenerate leaves them be.
SEARCH_OBJECTS = ("service_card_fts", "ix_service_card_search", "ex_slot_no_overlap")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: compare everything but the search structures above."""
    return not (reflected and name is not None and name.startswith(SEARCH_OBJECTS))
