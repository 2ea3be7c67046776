"""Dates as news pages print them -> aware datetimes with the offset the site had at that moment.

Hand-written rather than `dateparser`: DataLife Engine and its neighbours print a small, closed set of forms
(reference/dle.md §2.3), and this runs on every page of a crawl, so each form is one precompiled regex plus a
dict look-up. Nothing here reads the clock: relative forms resolve against the page's `fetched_at`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

# A date line is short; a longer text is prose, where a date found would be one mentioned, not the page's own.
MAX_TEXT_LENGTH = 200
# Years outside this are typos or not dates; year 1 would also overflow when converted to UTC.
MIN_YEAR, MAX_YEAR = 1900, 2100
# "N units ago" beyond this is not a date line (and could overflow datetime arithmetic).
MAX_AGO_COUNT = 9999
# How far back a year-less "29 февраля" may look for its year: a leap year is at most 8 years away.
YEARLESS_LOOKBACK = 8
MIDNIGHT = time(0, 0)
# Unix time in seconds or milliseconds, 2001-09-09 to 2286: shorter digit runs are years or ids, not instants.
_UNIX_TIME = re.compile(r"\d{10}|\d{13}")

_LETTERS = r"[^\W\d_]+"  # a word of any script: Russian, Kazakh (әғқңөұүһі), Latin
_GLUE = r"\s*(?:[,|]\s*)?"  # between date and time: "22.11.2022, 17:37", "22.11.2022 | 17:37"
_CLOCK_AFTER = _GLUE + r"(?:в\s+)?(?P<h>\d+):(?P<m>\d+)(?::(?P<s>\d+))?"  # digits checked in _clock, so 25:99 fails
_CLOCK_BEFORE = r"(?:(?P<h1>\d+):(?P<m1>\d+)" + _GLUE + r")?"  # "13:51, 15 Август 2025"

# 22.11.2022, 17:37 | 22-11-2022, 17:37 | 22/11/2022 17:37 | 22.11.2022 | 17:37, 22.11.2022
NUMERIC_DATE = re.compile(
    r"(?<!\d)" + _CLOCK_BEFORE + r"(?P<d>\d{1,2})(?P<sep>[./-])(?P<mo>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)"
    r"(?:" + _CLOCK_AFTER + r")?"
)
# 22 ноября 2022, 17:37 | 1 Декабря 2020 14:02 | 22 ноя. 2022 г. в 17:37 | 22 ноября | 2024 жылғы 5 наурыз
MONTH_DATE = re.compile(
    r"(?<!\d)" + _CLOCK_BEFORE + r"(?:(?P<y1>\d{4})\s*(?:жылғы|жылы|ж\.)\s*)?"
    r"(?P<d>\d{1,2})\s*(?P<mon>" + _LETTERS + r")\.?"
    r"(?:" + _GLUE + r"(?P<y>\d{4})(?!\d)(?:\s*(?:года|год|г|жылы|жыл|ж)\b\.?)?)?"
    r"(?:" + _CLOCK_AFTER + r")?"
)
# 5 минут назад | минуту назад | 5 мин. назад | 2 сағат бұрын
AGO = re.compile(r"(?<!\w)(?:(?P<n>\d+)\s*)?(?P<unit>" + _LETTERS + r")\.?\s+(?:назад|бұрын)(?!\w)")
# Сегодня, 17:37 | Вчера в 17:37 | В понедельник в 17:37 | Бүгін, 17:37; the word is looked up afterwards
NAMED_DAY = re.compile(r"(?<![^\W\d_])(?P<word>" + _LETTERS + r")(?:" + _CLOCK_AFTER + r")?")
# The whole line, so a lead starting "Только что стало известно" is not taken for a date.
JUST_NOW = re.compile(r"\W*(?:только что|жаңа ғана)\W*")


def _spellings(words: str) -> tuple[str, ...]:
    """Each word as written, plus a Latin-"i" twin of any Kazakh "і", as many Kazakh sites type it."""
    return tuple(dict.fromkeys(form for word in words.split() for form in (word, word.replace("і", "i"))))


def _table(groups: Iterable[tuple[int, str]]) -> Mapping[str, int]:
    return MappingProxyType({word: value for value, words in groups for word in _spellings(words)})


# Russian genitive (langdate), nominative (customlangdate, DLE's default) and short forms, then Kazakh; lower-case.
RUSSIAN_MONTHS = (
    "января январь янв", "февраля февраль фев февр", "марта март мар", "апреля апрель апр",
    "мая май", "июня июнь июн", "июля июль июл", "августа август авг",
    "сентября сентябрь сен сент", "октября октябрь окт", "ноября ноябрь ноя нояб", "декабря декабрь дек",
)  # fmt: skip
KAZAKH_MONTH_NAMES = (
    "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
    "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
)  # fmt: skip
KAZAKH_MONTHS = _table(enumerate(KAZAKH_MONTH_NAMES, start=1))
MONTHS = _table(enumerate((f"{ru} {kz}" for ru, kz in zip(RUSSIAN_MONTHS, KAZAKH_MONTH_NAMES)), start=1))
# Kazakh months take case endings: "қарашада" (in November), "қарашаның", "қарашадағы".
KAZAKH_CASE_ENDINGS = _spellings("да де та те дағы дегі тағы тегі ның нің дың дің тың тің ы і сы сі")

# Days back from the fetch day.
DAYS_BACK = _table(((0, "сегодня бүгін"), (1, "вчера кеше"), (2, "позавчера алдыңгүні")))
WEEKDAYS = _table(
    (
        (0, "понедельник дүйсенбі"), (1, "вторник сейсенбі"), (2, "среда среду сәрсенбі"),
        (3, "четверг бейсенбі"), (4, "пятница пятницу жұма"), (5, "суббота субботу сенбі"),
        (6, "воскресенье жексенбі"),
    )
)  # fmt: skip
# Seconds per unit. Months and years are not fixed lengths, and DLE never prints them, so they are not dates here.
UNIT_SECONDS = _table(
    (
        (1, "секунду секунды секунд секунда сек"),
        (60, "минуту минуты минут минута мин"),
        (3600, "час часа часов ч сағат сағ"),
        (86400, "день дня дней сутки күн"),
        (604800, "неделю недели недель неделя апта"),
    )
)


def parse_site_date(raw: str, *, fetched_at: datetime, tz: ZoneInfo) -> datetime | None:
    """Visible date text of a Russian/Kazakh news page -> aware datetime in the site's zone, or None if not a date.

    The site prints local wall time without an offset, so the zone (not a fixed offset) decides it: Asia/Almaty
    was +06:00 before 2024-03-01 and +05:00 after. Relative forms ("Вчера, 17:37", "5 минут назад") resolve
    against `fetched_at` seen in that zone, because that is the "today" the server printed them for.
    """
    text = " ".join(raw.lower().split())
    if not text or len(text) > MAX_TEXT_LENGTH:
        return None
    now = fetched_at.astimezone(tz)
    for parse in SITE_FORMS:
        if (when := parse(text, now, tz)) is not None:
            return when
    return None


def parse_machine_date(value: str, tz: ZoneInfo | None = None) -> datetime | None:
    """ISO 8601 (JSON-LD, <time datetime>, article:published_time) or RFC 2822 (RSS pubDate) -> aware datetime.

    Keeps the offset the string states, as a fixed offset: the publisher's own offset beats our zone table
    (a server with old tzdata may still say +06:00). A string without offset is read in tz (UTC if tz is None).
    """
    text = value.strip()
    parsed = (_from_unix(text) or _from_iso(text) or _from_rfc2822(text)) if text else None
    if parsed is None or parsed.tzinfo is not None:
        return parsed
    return parsed.replace(tzinfo=tz or timezone.utc)


def states_offset(value: str) -> bool:
    """Whether a machine date carries its own offset ("Z", "+03:00", "+0300", "GMT"), or is a Unix time (UTC)."""
    parsed = _from_unix(value.strip()) or _from_iso(value.strip()) or _from_rfc2822(value.strip())
    return parsed is not None and parsed.tzinfo is not None


def _from_unix(text: str) -> datetime | None:
    """Seconds (10 digits) or milliseconds (13 digits) since the epoch, as some JSON-LD and data attributes give."""
    if not _UNIX_TIME.fullmatch(text):
        return None
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    return datetime.fromtimestamp(seconds, timezone.utc)


def _from_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.upper())  # upper: "…t17:37z" is valid ISO 8601 too
    except ValueError:
        return None


def _from_rfc2822(text: str) -> datetime | None:
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _numeric(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """22.11.2022, 17:37 (DLE's default `j-m-Y, H:i` and its common variants)."""
    found = NUMERIC_DATE.search(text)
    if found is None:
        return None
    return _at(_day(int(found["y"]), int(found["mo"]), int(found["d"])), _clock_of(found), tz)


def _month_name(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """22 ноября 2022, 17:37; a year-less date is the latest one not after the fetch day."""
    for found in MONTH_DATE.finditer(text):
        month = _month(found["mon"])
        if month is None:  # "5 комментариев": a number and a word, not a date
            continue
        year = found["y"] or found["y1"]
        day = int(found["d"])
        when = _day(int(year), month, day) if year else _latest(month, day, now.date())
        return _at(when, _clock_of(found), tz)
    return None


def _ago(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """5 минут назад: counted back in absolute time, so a clock change in between costs no hour."""
    found = AGO.search(text)
    if found is None or (unit := UNIT_SECONDS.get(found["unit"])) is None:
        return None
    count = int(found["n"] or 1)
    if count > MAX_AGO_COUNT:
        return None
    when = (now.astimezone(timezone.utc) - timedelta(seconds=unit * count)).astimezone(tz)
    return when.replace(second=0, microsecond=0)  # the page only knows the minute, if that


def _just_now(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    return now if JUST_NOW.fullmatch(text) else None


def _named_day(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """Сегодня/Вчера/Позавчера, HH:MM and "В понедельник в HH:MM"; the engine always prints the time with them."""
    for found in NAMED_DAY.finditer(text):
        if found["h"] is None:
            continue
        word = found["word"]
        if word in DAYS_BACK:
            day = now.date() - timedelta(days=DAYS_BACK[word])
        elif word in WEEKDAYS:
            day = _last_weekday(now.date(), WEEKDAYS[word])
        else:
            continue
        return _at(day, _clock_of(found), tz)
    return None


SITE_FORMS: tuple[Callable[[str, datetime, ZoneInfo], datetime | None], ...] = (
    _numeric,  # the commonest form first
    _ago,
    _month_name,
    _just_now,
    _named_day,
)


def _month(word: str) -> int | None:
    month = MONTHS.get(word)
    if month is not None:
        return month
    for ending in KAZAKH_CASE_ENDINGS:
        if word.endswith(ending) and (month := KAZAKH_MONTHS.get(word[: -len(ending)])) is not None:
            return month
    return None


def _day(year: int, month: int, day: int) -> date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31.02.2022
        return None


def _latest(month: int, day: int, today: date) -> date | None:
    """The most recent month/day not after today: "22 ноября" read on 1 January is last year's."""
    for year in range(today.year, today.year - YEARLESS_LOOKBACK, -1):
        when = _day(year, month, day)
        if when is not None and when <= today:
            return when
    return None


def _last_weekday(today: date, weekday: int) -> date:
    """The latest such weekday strictly before today: for today the engine prints "Сегодня"."""
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def _clock_of(found: re.Match[str]) -> time | None:
    """The time printed after the date, else before it, else midnight; None if it is not a valid time."""
    groups = found.groupdict()
    if groups["h"] is not None:
        return _clock(groups["h"], groups["m"], groups["s"])
    if groups.get("h1") is not None:
        return _clock(groups["h1"], groups["m1"], None)
    return MIDNIGHT


def _clock(hour: str, minute: str, second: str | None) -> time | None:
    if len(hour) > 2 or len(minute) != 2 or (second is not None and len(second) != 2):
        return None
    h, m, s = int(hour), int(minute), int(second or 0)
    return time(h, m, s) if h < 24 and m < 60 and s < 60 else None


def _at(day: date | None, clock: time | None, tz: ZoneInfo) -> datetime | None:
    # A wall time that occurs twice is read with fold=0, the earlier one: Almaty's clocks went back from
    # 2024-03-01 00:00 +06 to 2024-02-29 23:00 +05, so "29.02.2024, 23:30" is taken as 23:30+06:00.
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock, tzinfo=tz)
