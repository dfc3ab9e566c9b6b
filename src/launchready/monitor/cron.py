"""A small five-field cron evaluator over zoneinfo, for heartbeats declared with ``cron`` + ``tz``.

Why our own: no cron library is pinned in the project's locks, and a heartbeat only needs "the
next scheduled time after T" for standard expressions (``*``, lists, ranges, ``/`` steps, month
and weekday names, 7 = Sunday, ``@hourly``/``@daily``/``@weekly``/``@monthly``/``@yearly``).
Semantics follow Vixie cron: when both day-of-month and day-of-week are restricted, a day matches
either. Local times are wall-clock times in ``tz``: a time skipped by a spring-forward change does
not occur, and a time repeated by a fall-back change counts once (its first occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MONTHS = {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# How far ahead to look for the next match: 29 February on a Monday can be 28 years away.
_SEARCH_YEARS = 30


class CronError(ValueError):
    """An expression that is not valid cron; the message is one line."""


def _field(text: str, low: int, high: int, names: dict[str, int], what: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{what}: bad step {step_text!r}")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        else:
            first, dash, last = body.partition("-")
            start = _value(first, low, high, names, what)
            end = _value(last, low, high, names, what) if dash else (high if step_text else start)
            if end < start:
                raise CronError(f"{what}: range {body!r} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(text: str, low: int, high: int, names: dict[str, int], what: str) -> int:
    lowered = text.lower()
    if lowered in names:
        return names[lowered]
    if not text.isdigit():
        raise CronError(f"{what}: {text!r} is not a number from {low} to {high}")
    number = int(text)
    if not low <= number <= high:
        raise CronError(f"{what}: {number} is not from {low} to {high}")
    return number


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    tz: ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def next_after(self, epoch: float) -> float:
        """The first scheduled instant strictly after ``epoch`` (UTC seconds)."""
        start = datetime.fromtimestamp(epoch, UTC).astimezone(self.tz)
        day = start.date()
        last_day = day + timedelta(days=366 * _SEARCH_YEARS)
        while day <= last_day:
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        wall = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.tz)
                        instant = wall.timestamp()
                        if instant <= epoch:
                            continue
                        # A wall time that does not exist (skipped by a DST jump) does not round-trip.
                        back = datetime.fromtimestamp(instant, UTC).astimezone(self.tz)
                        if (back.hour, back.minute) != (hour, minute):
                            continue
                        return instant
            day += timedelta(days=1)
        raise CronError(f"{self.expression!r} never fires")

    def previous_at_or_before(self, epoch: float, *, horizon_s: float) -> float | None:
        """The last scheduled instant at or before ``epoch`` within ``horizon_s``, else None."""
        found: float | None = None
        cursor = epoch - horizon_s
        while True:
            candidate = self.next_after(cursor)
            if candidate > epoch:
                return found
            found, cursor = candidate, candidate


def parse_cron(expression: str, tz: str = "UTC") -> CronSchedule:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"unknown time zone {tz!r} (expected an IANA name like 'Europe/Paris')") from None
    text = _MACROS.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"cron {expression!r}: expected 5 fields (minute hour day month weekday), got {len(fields)}")
    try:
        minutes = _field(fields[0], 0, 59, {}, "minute")
        hours = _field(fields[1], 0, 23, {}, "hour")
        days = _field(fields[2], 1, 31, {}, "day of month")
        months = _field(fields[3], 1, 12, _MONTHS, "month")
        weekdays = frozenset(d % 7 for d in _field(fields[4], 0, 7, _DAYS, "day of week"))
    except CronError as exc:
        raise CronError(f"cron {expression!r}: {exc}") from None
    schedule = CronSchedule(
        expression=expression,
        tz=zone,
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        weekdays=weekdays,
        days_restricted=not fields[2].startswith("*"),
        weekdays_restricted=not fields[4].startswith("*"),
    )
    # 30 February and friends: valid fields, never a date.
    try:
        schedule.next_after(datetime(2000, 1, 1, tzinfo=UTC).timestamp())
    except CronError:
        raise CronError(f"cron {expression!r}: never fires (no such date)") from None
    return schedule
