"""Recurrence rules (RFC 5545 RRULE) expanded in a local time zone.

A rule is stored with its start as a *local wall-clock time* and expanded with
dateutil in local time, then each occurrence is given the zone's offset for that
date. That is what keeps "09:00 on the 15th" at 09:00 in Helsinki on both sides of
a daylight-saving change (07:00Z in winter, 06:00Z in summer); expanding in UTC
would move it by an hour twice a year.

A wall-clock time that does not exist (03:30 on the last Sunday of March) is read
with the offset before the change, so it lands an hour later in local time; one
that happens twice (03:30 on the last Sunday of October) is the first of the two.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

CONTINUOUS = "continuous"
AD_HOC = "ad hoc"
UNDATED = (CONTINUOUS, AD_HOC)
_UNDATED_SPELLINGS = {
    "continuous": CONTINUOUS,
    "jatkuva": CONTINUOUS,
    "jatkuvasti": CONTINUOUS,
    "ad hoc": AD_HOC,
    "ad-hoc": AD_HOC,
    "adhoc": AD_HOC,
    "tarvittaessa": AD_HOC,
}
_ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
}
# A communication plan plans in days, not hours: anything finer would flood a calendar.
_ALLOWED_FREQ = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY"}
MAX_COUNT = 1000
# A rule must produce a date within this many years of its start to be accepted.
_HORIZON_YEARS = 10


class InvalidRule(ValueError):
    """A cadence that is neither an acceptable RRULE nor `continuous` / `ad hoc`."""


def normalize_cadence(value: str, zone: ZoneInfo) -> str:
    """The canonical form of a cadence: `continuous`, `ad hoc`, or an RRULE value
    (upper case, no `RRULE:` prefix, UNTIL in local time), or InvalidRule."""
    text = " ".join(value.strip().split())
    undated = _UNDATED_SPELLINGS.get(text.lower())
    if undated is not None:
        return undated
    if "\n" in value or "DTSTART" in text.upper():
        raise InvalidRule("give only the RRULE value; the start goes in cadence_start")
    text = text.upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for piece in filter(None, text.split(";")):
        name, sep, part_value = piece.partition("=")
        if not sep or not part_value:
            raise InvalidRule(f"'{piece}' is not NAME=VALUE")
        if name not in _ALLOWED_PARTS:
            raise InvalidRule(f"'{name}' is not supported in a cadence")
        if name in parts:
            raise InvalidRule(f"'{name}' is given twice")
        parts[name] = part_value
    if "FREQ" not in parts:
        raise InvalidRule(
            "an RRULE needs FREQ (e.g. FREQ=MONTHLY;INTERVAL=6), or use 'continuous' or 'ad hoc'"
        )
    if parts["FREQ"] not in _ALLOWED_FREQ:
        raise InvalidRule(f"FREQ must be one of {', '.join(sorted(_ALLOWED_FREQ))}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise InvalidRule("give COUNT or UNTIL, not both")
    if "COUNT" in parts and not (
        parts["COUNT"].isdigit() and 1 <= int(parts["COUNT"]) <= MAX_COUNT
    ):
        raise InvalidRule(f"COUNT must be between 1 and {MAX_COUNT}")
    if "UNTIL" in parts:
        parts["UNTIL"] = _local_until(parts["UNTIL"], zone)
    canonical = ";".join(f"{name}={part}" for name, part in parts.items())
    start = datetime(2026, 1, 1, 9, 0)
    rule = _parse(canonical, start)
    probe = rule.replace(count=None, until=start + timedelta(days=366 * _HORIZON_YEARS))
    if probe.after(start, inc=True) is None:
        raise InvalidRule("this rule never produces a date")
    return canonical


def _local_until(value: str, zone: ZoneInfo) -> str:
    """UNTIL in UTC (`...Z`) becomes local wall-clock time, as the rule is expanded."""
    try:
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            return moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")
        if "T" in value:
            datetime.strptime(value, "%Y%m%dT%H%M%S")
        else:
            datetime.strptime(value, "%Y%m%d")
    except ValueError as error:
        raise InvalidRule("UNTIL must look like 20261231 or 20261231T235959[Z]") from error
    return value


def _parse(rule_text: str, start: datetime) -> rrule:
    try:
        rule = rrulestr(rule_text, dtstart=start)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise InvalidRule(f"not a valid RRULE: {error}") from error
    if not isinstance(rule, rrule):
        raise InvalidRule("give a single RRULE")
    return rule


def occurrences(
    cadence: str,
    start_local: datetime,
    zone: ZoneInfo,
    window_start: datetime,
    window_end: datetime,
) -> Iterator[datetime]:
    """Aware local datetimes of a canonical cadence within [window_start, window_end).

    `start_local` is a naive wall-clock time in `zone`; the window bounds are aware.
    Undated cadences produce nothing.
    """
    if cadence in UNDATED:
        return
    rule = _parse(cadence, start_local.replace(tzinfo=None))
    first = window_start.astimezone(zone).replace(tzinfo=None)
    last = window_end.astimezone(zone).replace(tzinfo=None)
    for moment in rule:
        if moment >= last:
            return
        if moment >= first:
            yield moment.replace(tzinfo=zone)


def default_start(year: int) -> datetime:
    """Where a rule without its own start begins: the plan year's first day, 09:00."""
    return datetime.combine(date(year, 1, 1), time(9, 0))
