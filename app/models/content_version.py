"""Content versions: a counter per (scope, kind) bumped by every write.

Public read caches and ETags are keyed by these counters, so a write to one
municipality's cards invalidates exactly those cached bodies and nothing else.
"""

from sqlmodel import Field, SQLModel

GLOBAL_SCOPE = "global"


class ContentVersion(SQLModel, table=True):
    __tablename__ = "content_version"

    scope: str = Field(primary_key=True, max_length=64)
    kind: str = Field(primary_key=True, max_length=64)
    version: int = Field(default=0)
