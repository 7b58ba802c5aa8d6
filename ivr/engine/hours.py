"""Opening hours of a line: is it open now, and when does it open next, in the line's time zone.

The call's clock may be in any zone (tests pin it to a UTC instant); the schedule is always read in
the flow's zone (Europe/Moscow for the Госуслуги flow), so "Saturday 19:00" means Moscow time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ivr.flow.schema import DAYS, Schedule

_DAY_AT = ("в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу", "в воскресенье")
_DAY_FROM = ("понедельника", "вторника", "среды", "четверга", "пятницы", "субботы", "воскресенья")
_DAY_TO = ("понедельник", "вторник", "среду", "четверг", "пятницу", "субботу", "воскресенье")


Span = tuple[time, time]
# Holidays may close a line for a long stretch (New Year: ten days); a search for the next opening
# looks this far ahead.
LOOKAHEAD_DAYS = 60
HOLIDAYS_AHEAD_DAYS = 14  # holidays {hours} names to a caller


def _parse(span: str) -> Span:
    start, end = span.split("-")
    end_t = time(23, 59, 59) if end == "24:00" else time.fromisoformat(end)
    return time.fromisoformat(start), end_t


@dataclass(frozen=True)
class Hours:
    tz: ZoneInfo
    week: tuple[tuple[Span, ...], ...]  # Monday first; () = closed all day; spans in order
    source: str | None = None
    holidays: frozenset[date] = frozenset()  # closed all day

    @classmethod
    def from_schedule(cls, schedule: Schedule, default_tz: str) -> Hours:
        week = tuple(tuple(sorted(map(_parse, getattr(schedule, d) or ()))) for d in DAYS)
        return cls(ZoneInfo(schedule.timezone or default_tz), week, schedule.source, frozenset(schedule.holidays))

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def spans(self, day: date) -> tuple[Span, ...]:
        return () if day in self.holidays else self.week[day.weekday()]

    def is_open(self, moment: datetime) -> bool:
        now = self.local(moment)
        clock = now.time()
        return any(start <= clock < end for start, end in self.spans(now.date()))

    def next_open(self, moment: datetime) -> datetime | None:
        """The next opening instant strictly after ``moment`` (in the line's zone)."""
        now = self.local(moment)
        for ahead in range(LOOKAHEAD_DAYS):
            day: date = now.date() + timedelta(days=ahead)
            for start, _ in self.spans(day):
                opening = datetime.combine(day, start, tzinfo=self.tz)
                if opening > now:
                    return opening
        return None

    def describe_next_open(self, moment: datetime) -> str:
        """ "сегодня в 10:00", "завтра в 08:00", "в понедельник в 08:00"."""
        opening = self.next_open(moment)
        if opening is None:
            return "по графику на официальном сайте"
        days = (opening.date() - self.local(moment).date()).days
        when = "сегодня" if days == 0 else "завтра" if days == 1 else _DAY_AT[opening.weekday()]
        return f"{when} в {opening:%H:%M}"

    def describe_week(self, moment: datetime | None = None) -> str:
        """The schedule in words that read well on screen and aloud, grouping equal days:
        "с понедельника по пятницу с 08:00 до 20:00, в субботу с 09:00 до 18:00, в воскресенье выходной"."""
        parts: list[str] = []
        i = 0
        while i < 7:
            j = i
            while j + 1 < 7 and self.week[j + 1] == self.week[i]:
                j += 1
            days = _DAY_AT[i] if i == j else f"с {_DAY_FROM[i]} по {_DAY_TO[j]}"
            spans = self.week[i]
            hours = " и ".join(f"с {a:%H:%M} до {b:%H:%M}" for a, b in spans) if spans else "выходной"
            parts.append(f"{days} {hours}")
            i = j + 1
        zone = "время московское" if str(self.tz) == "Europe/Moscow" else f"часовой пояс {self.tz}"
        holidays = ""
        # a caller hears the holidays of the next two weeks, not a year of them
        soon = sorted(self.holidays)
        if moment is not None:
            today = self.local(moment).date()
            soon = [d for d in soon if today <= d <= today + timedelta(days=HOLIDAYS_AHEAD_DAYS)]
        if soon:
            shown = ", ".join(f"{d:%d.%m.%Y}" for d in soon)
            holidays = f"; в праздничные дни ({shown}) — выходной"
        return f"{', '.join(parts)} ({zone}){holidays}"
