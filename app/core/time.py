"""Time: everything is stored as aware UTC; Europe/Helsinki is the municipal local zone."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BeforeValidator
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

HELSINKI = ZoneInfo("Europe/Helsinki")


def utcnow() -> datetime:
    """The current instant, aware and in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that accepts only aware datetimes and always returns UTC.

    A naive datetime is refused at bind time: it is ambiguous (local? UTC?), and a
    silent guess is how bookings end up an hour off around daylight-saving changes.
    SQLite stores no zone, so values come back naive and are re-marked as UTC here.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: give a timezone-aware value")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # Stored without offset so that string comparison orders correctly.
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware value in UTC, or ValueError (a 422 in a model) when UTC cannot hold it:
    0001-01-01T00:00+14:00 is in year 0 in UTC, 9999-12-31T23:00-14:00 in year 10000,
    and converting either raised OverflowError, a 500 wherever it happened."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: in UTC it must be within the years 1 to 9999") from None


def _representable_in_utc(value: datetime) -> datetime:
    """The value unchanged if UTC can hold it; naive values pass, for whoever accepts
    them says what they mean."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        as_utc(value)
    return value


def _written_as_a_time(value: Any) -> Any:
    """Refuse a number where a time is expected. Pydantic reads `1700000000` or `0.5` as
    seconds since 1970, so `?modified_since=0.5` was taken for 1970-01-01T00:00:00.5Z;
    the contract is RFC 3339, and a number is far more likely a client's mistake."""
    number = isinstance(value, int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value.strip()) is not None
    )
    if number:
        raise ValueError(
            "must be written as RFC 3339, e.g. 2026-05-01 or 2026-05-01T09:00:00+03:00"
        )
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

Instant = Annotated[
    AwareDatetime, BeforeValidator(_written_as_a_time), AfterValidator(_representable_in_utc)
]
"""A time with an offset that has a UTC equivalent: the type of every time a client sends."""

LooseInstant = Annotated[
    datetime, BeforeValidator(_written_as_a_time), AfterValidator(_representable_in_utc)
]
"""As `Instant`, for the few inputs that explain a missing offset themselves."""

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def _within_the_days_kept(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return value


# Validators rather than annotated-types bounds: with a BeforeValidator in front, pydantic
# would write those bounds into the JSON Schema as keywords no schema knows ("ge": "1900-…").
Day = Annotated[date, BeforeValidator(_written_as_a_time), AfterValidator(_within_the_days_kept)]
"""A calendar day a client sends: wide enough for any plan, schedule or history kept
here, narrow enough that a window of a few years around it, or its Helsinki midnight
in UTC, stays within Python's years 1 to 9999 (at 9999-12-31 they raised OverflowError)."""


def isoformat(value: datetime) -> str:
    """RFC 3339 with an explicit offset (`Z` is avoided for readability of local times)."""
    return value.isoformat()
