"""Date parsing: every printed form, both sides of Kazakhstan's 2024-03-01 clock change, midnight edges, junk.

Expected values are worked out by hand from the calendar and the zone's offsets, not copied from the code's output.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from newscrawler.extract.dates import parse_machine_date, parse_site_date

ALMATY = ZoneInfo("Asia/Almaty")
MOSCOW = ZoneInfo("Europe/Moscow")
# Wednesday 2022-11-23, 15:00:42 in Almaty (+06:00).
WED = datetime(2022, 11, 23, 9, 0, 42, tzinfo=timezone.utc)
# 00:30 on Wednesday 2022-11-23 in Almaty, still 22 November in UTC (and 21:30 on the 22nd in Moscow).
AFTER_MIDNIGHT = datetime(2022, 11, 22, 18, 30, tzinfo=timezone.utc)
# 00:02 on 2022-11-23 in Almaty.
JUST_AFTER_MIDNIGHT = datetime(2022, 11, 22, 18, 2, tzinfo=timezone.utc)
# Friday 2024-03-01, 09:00 in Almaty, the first morning of +05:00; the change was at 2024-02-29T18:00Z.
FIRST_MORNING = datetime(2024, 3, 1, 4, 0, tzinfo=timezone.utc)

SITE_CASES = [
    # Numeric forms, DLE's default and its variants.
    ("22.11.2022, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22.11.2022 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22-11-2022, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22/11/2022 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22.11.2022", WED, ALMATY, "2022-11-22T00:00:00+06:00"),
    ("22.11.2022 17:37:45", WED, ALMATY, "2022-11-22T17:37:45+06:00"),
    ("1.3.2024 9:05", WED, ALMATY, "2024-03-01T09:05:00+05:00"),
    ("17:37, 22.11.2022", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("\u00a0 22.11.2022,\u00a017:37, ", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("Опубликовано: 22.11.2022, 17:37 | 338", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22.11.2022 | 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    # Month names: genitive, nominative, any case, short, with and without time.
    ("22 ноября 2022", WED, ALMATY, "2022-11-22T00:00:00+06:00"),
    ("22 ноябрь 2022", WED, ALMATY, "2022-11-22T00:00:00+06:00"),
    ("1 Декабря 2020 14:02", WED, ALMATY, "2020-12-01T14:02:00+06:00"),
    ("15 Август 2025", WED, ALMATY, "2025-08-15T00:00:00+05:00"),
    ("13:51, 15 Август 2025", WED, ALMATY, "2025-08-15T13:51:00+05:00"),
    ("5 МАРТА 2024", WED, ALMATY, "2024-03-05T00:00:00+05:00"),
    ("5 марта 2024 14:02", WED, ALMATY, "2024-03-05T14:02:00+05:00"),
    ("22 ноября 2022, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22 ноября 2022 в 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22 ноября 2022 г., 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("22 ноя 2022", WED, ALMATY, "2022-11-22T00:00:00+06:00"),
    ("22 ноя. 2022, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("1 сент. 2023", WED, ALMATY, "2023-09-01T00:00:00+06:00"),
    ("9 мая 2024", WED, ALMATY, "2024-05-09T00:00:00+05:00"),
    ("Дата: 22 ноября 2022, 17:37 | 5 комментариев", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    # Kazakh months, base forms, a case ending, year first, Latin "i" for "і".
    ("5 қаңтар 2023", WED, ALMATY, "2023-01-05T00:00:00+06:00"),
    ("12 ақпан 2024 10:15", WED, ALMATY, "2024-02-12T10:15:00+06:00"),
    ("8 наурыз 2024", WED, ALMATY, "2024-03-08T00:00:00+05:00"),
    ("1 сәуір 2024", WED, ALMATY, "2024-04-01T00:00:00+05:00"),
    ("1 сәуiр 2024", WED, ALMATY, "2024-04-01T00:00:00+05:00"),
    ("9 мамыр 2024", WED, ALMATY, "2024-05-09T00:00:00+05:00"),
    ("15 маусым 2024", WED, ALMATY, "2024-06-15T00:00:00+05:00"),
    ("4 Шілде 2024", WED, ALMATY, "2024-07-04T00:00:00+05:00"),
    ("30 тамыз 2024", WED, ALMATY, "2024-08-30T00:00:00+05:00"),
    ("1 қыркүйек 2024", WED, ALMATY, "2024-09-01T00:00:00+05:00"),
    ("25 қазан 2024", WED, ALMATY, "2024-10-25T00:00:00+05:00"),
    ("5 Қараша 2024, 14:02", WED, ALMATY, "2024-11-05T14:02:00+05:00"),
    ("16 желтоқсан 2021", WED, ALMATY, "2021-12-16T00:00:00+06:00"),
    ("2024 жылғы 5 қарашада", WED, ALMATY, "2024-11-05T00:00:00+05:00"),
    ("5 қарашада 2024", WED, ALMATY, "2024-11-05T00:00:00+05:00"),
    # No year: the latest such date not after the fetch day (Wednesday 2022-11-23 in Almaty).
    ("22 ноября, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("23 ноября, 10:00", WED, ALMATY, "2022-11-23T10:00:00+06:00"),
    ("24 ноября, 10:00", WED, ALMATY, "2021-11-24T10:00:00+06:00"),
    ("29 февраля", WED, ALMATY, "2020-02-29T00:00:00+06:00"),
    ("29 февраля, 10:00", FIRST_MORNING, ALMATY, "2024-02-29T10:00:00+06:00"),
    # Today / yesterday / the day before, Russian and Kazakh.
    ("Сегодня, 10:05", WED, ALMATY, "2022-11-23T10:05:00+06:00"),
    ("Сегодня в 10:05", WED, ALMATY, "2022-11-23T10:05:00+06:00"),
    ("Вчера, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("Вчера в 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("Позавчера, 08:00", WED, ALMATY, "2022-11-21T08:00:00+06:00"),
    ("Позавчера в 08:00", WED, ALMATY, "2022-11-21T08:00:00+06:00"),
    ("Бүгін, 10:05", WED, ALMATY, "2022-11-23T10:05:00+06:00"),
    ("Бүгiн, 10:05", WED, ALMATY, "2022-11-23T10:05:00+06:00"),
    ("Кеше, 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    # Just now is the fetch moment itself; "N units ago" is truncated to the minute (fetch is 15:00:42 local).
    ("Только что", WED, ALMATY, "2022-11-23T15:00:42+06:00"),
    ("5 минут назад", WED, ALMATY, "2022-11-23T14:55:00+06:00"),
    ("минуту назад", WED, ALMATY, "2022-11-23T14:59:00+06:00"),
    ("1 минуту назад", WED, ALMATY, "2022-11-23T14:59:00+06:00"),
    ("2 минуты назад", WED, ALMATY, "2022-11-23T14:58:00+06:00"),
    ("5 мин. назад", WED, ALMATY, "2022-11-23T14:55:00+06:00"),
    ("2 часа назад", WED, ALMATY, "2022-11-23T13:00:00+06:00"),
    ("час назад", WED, ALMATY, "2022-11-23T14:00:00+06:00"),
    ("21 час назад", WED, ALMATY, "2022-11-22T18:00:00+06:00"),
    ("3 дня назад", WED, ALMATY, "2022-11-20T15:00:00+06:00"),
    ("2 недели назад", WED, ALMATY, "2022-11-09T15:00:00+06:00"),
    ("30 секунд назад", WED, ALMATY, "2022-11-23T15:00:00+06:00"),
    ("50 секунд назад", WED, ALMATY, "2022-11-23T14:59:00+06:00"),
    ("5 минут бұрын", WED, ALMATY, "2022-11-23T14:55:00+06:00"),
    ("2 сағат бұрын", WED, ALMATY, "2022-11-23T13:00:00+06:00"),
    ("1 күн бұрын", WED, ALMATY, "2022-11-22T15:00:00+06:00"),
    # Weekdays: the latest one strictly before Wednesday 2022-11-23 (a Wednesday means a week ago).
    ("В понедельник в 17:37", WED, ALMATY, "2022-11-21T17:37:00+06:00"),
    ("Во вторник в 17:37", WED, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("В среду в 17:37", WED, ALMATY, "2022-11-16T17:37:00+06:00"),
    ("В четверг в 17:37", WED, ALMATY, "2022-11-17T17:37:00+06:00"),
    ("В пятницу в 17:37", WED, ALMATY, "2022-11-18T17:37:00+06:00"),
    ("В субботу в 17:37", WED, ALMATY, "2022-11-19T17:37:00+06:00"),
    ("В воскресенье в 17:37", WED, ALMATY, "2022-11-20T17:37:00+06:00"),
    ("Дүйсенбі, 17:37", WED, ALMATY, "2022-11-21T17:37:00+06:00"),
    # Midnight: 00:30 on the 23rd in Almaty while UTC is still on the 22nd.
    ("Сегодня, 00:10", AFTER_MIDNIGHT, ALMATY, "2022-11-23T00:10:00+06:00"),
    ("Вчера, 23:50", AFTER_MIDNIGHT, ALMATY, "2022-11-22T23:50:00+06:00"),
    ("Во вторник в 17:37", AFTER_MIDNIGHT, ALMATY, "2022-11-22T17:37:00+06:00"),
    ("45 минут назад", AFTER_MIDNIGHT, ALMATY, "2022-11-22T23:45:00+06:00"),
    ("5 минут назад", JUST_AFTER_MIDNIGHT, ALMATY, "2022-11-22T23:57:00+06:00"),
    # The same instant in Moscow is 21:30 on the 22nd.
    ("Сегодня, 01:00", AFTER_MIDNIGHT, MOSCOW, "2022-11-22T01:00:00+03:00"),
    ("22.11.2022, 17:37", WED, MOSCOW, "2022-11-22T17:37:00+03:00"),
    # Both sides of 2024-03-01 in Almaty, fetched at 09:00 on the first +05:00 morning.
    ("29.02.2024, 22:10", FIRST_MORNING, ALMATY, "2024-02-29T22:10:00+06:00"),
    ("01.03.2024, 09:00", FIRST_MORNING, ALMATY, "2024-03-01T09:00:00+05:00"),
    ("Вчера, 22:10", FIRST_MORNING, ALMATY, "2024-02-29T22:10:00+06:00"),
    ("Сегодня, 00:30", FIRST_MORNING, ALMATY, "2024-03-01T00:30:00+05:00"),
    ("В четверг в 12:00", FIRST_MORNING, ALMATY, "2024-02-29T12:00:00+06:00"),
    ("В пятницу в 12:00", FIRST_MORNING, ALMATY, "2024-02-23T12:00:00+06:00"),
    # 23:00-23:59 on 2024-02-29 happened twice; a printed wall time is read as the first (fold=0, +06:00) ...
    ("29.02.2024, 23:30", FIRST_MORNING, ALMATY, "2024-02-29T23:30:00+06:00"),
    ("Вчера, 23:30", FIRST_MORNING, ALMATY, "2024-02-29T23:30:00+06:00"),
    ("29 февраля 2024, 23:00", FIRST_MORNING, ALMATY, "2024-02-29T23:00:00+06:00"),
    # ... while "N ago" counts back in absolute time: 17:00Z is 23:00+06:00, 18:00Z is already 23:00+05:00.
    ("11 часов назад", FIRST_MORNING, ALMATY, "2024-02-29T23:00:00+06:00"),
    ("10 часов назад", FIRST_MORNING, ALMATY, "2024-02-29T23:00:00+05:00"),
]

JUNK = [
    "",
    "   ",
    "\u00a0",
    "338",
    "| 338",
    "Автор: x",
    "5 комментариев",
    "Просмотров: 1 234",
    "31.02.2022",
    "13.13.2022",
    "00.11.2022",
    "01.01.0001",
    "22.11.10000",
    "25:99",
    "22.11.2022, 25:99",
    "22.11.2022, 17:3",
    "Сегодня, 24:00",
    "Вчера в 17:60",
    "32 ноября 2022",
    "30 февраля 2024",
    "ноября 2022",
    "Сегодня",
    "Позавчера",
    "В понедельник",
    "Только что стало известно о",
    "5 месяцев назад",
    "2 года назад",
    "100000 лет назад",
    "99999 минут назад",
    "назад",
    "В среду президент подписал закон",
    "9" * 500,
    "22.11.2022 " + "x" * 300,
    "\x00\ufffd\U0001f600",
]


@pytest.mark.parametrize(("raw", "fetched_at", "tz", "expected"), SITE_CASES, ids=[c[0] for c in SITE_CASES])
def test_site_date(raw: str, fetched_at: datetime, tz: ZoneInfo, expected: str) -> None:
    assert parse_site_date(raw, fetched_at=fetched_at, tz=tz).isoformat() == expected


def test_site_date_is_in_the_site_zone() -> None:
    assert parse_site_date("5 минут назад", fetched_at=WED, tz=ALMATY).tzinfo is ALMATY
    assert parse_site_date("22.11.2022, 17:37", fetched_at=WED, tz=ALMATY).tzinfo is ALMATY


def test_ambiguous_hour_is_the_earlier_instant() -> None:
    first = parse_site_date("29.02.2024, 23:30", fetched_at=FIRST_MORNING, tz=ALMATY)
    assert first.fold == 0
    assert first.astimezone(timezone.utc).isoformat() == "2024-02-29T17:30:00+00:00"


@pytest.mark.parametrize("raw", JUNK, ids=repr)
def test_not_a_site_date(raw: str) -> None:
    assert parse_site_date(raw, fetched_at=WED, tz=ALMATY) is None


def test_site_date_never_raises() -> None:
    """Glue of real pieces in every order of three: each result is a datetime in the zone, or None."""
    pieces = ["22", ".", "11", "2022", ",", " ", ":", "37", "ноября", "в", "назад", "вчера", "-", "/", "99", "ж."]
    for combo in itertools.product(pieces, repeat=3):
        result = parse_site_date("".join(combo), fetched_at=WED, tz=ALMATY)
        assert result is None or result.tzinfo is ALMATY


MACHINE_CASES = [
    ("Tue, 22 Nov 2022 17:37:00 +0600", None, "2022-11-22T17:37:00+06:00"),
    ("Fri, 01 Mar 2024 09:00:00 +0500", None, "2024-03-01T09:00:00+05:00"),
    ("Tue, 22 Nov 2022 11:37:00 GMT", None, "2022-11-22T11:37:00+00:00"),
    ("22 Nov 2022 17:37:00 +0600", None, "2022-11-22T17:37:00+06:00"),
    # The stated offset wins over the zone we would have guessed, even a stale +06:00 after 2024-03-01.
    ("Tue, 05 Mar 2024 10:00:00 +0600", ALMATY, "2024-03-05T10:00:00+06:00"),
    ("Tue, 22 Nov 2022 17:37:00", ALMATY, "2022-11-22T17:37:00+06:00"),
    ("2022-11-22T17:37:00+06:00", None, "2022-11-22T17:37:00+06:00"),
    ("2022-11-22T17:37:00+03:00", ALMATY, "2022-11-22T17:37:00+03:00"),
    ("  2024-03-01T09:00:00+05:00\n", None, "2024-03-01T09:00:00+05:00"),
    ("2022-11-22T11:37:00Z", ALMATY, "2022-11-22T11:37:00+00:00"),
    ("2022-11-22t11:37:00z", None, "2022-11-22T11:37:00+00:00"),
    ("2022-11-22T17:37:00.123+06:00", None, "2022-11-22T17:37:00.123000+06:00"),
    ("2022-11-22T17:37:00", ALMATY, "2022-11-22T17:37:00+06:00"),
    ("2022-11-22T17:37:00", None, "2022-11-22T17:37:00+00:00"),
    ("2024-05-03", ALMATY, "2024-05-03T00:00:00+05:00"),
    ("2024-02-29", ALMATY, "2024-02-29T00:00:00+06:00"),
]


@pytest.mark.parametrize(("value", "tz", "expected"), MACHINE_CASES, ids=[c[0] for c in MACHINE_CASES])
def test_machine_date(value: str, tz: ZoneInfo | None, expected: str) -> None:
    assert parse_machine_date(value, tz).isoformat() == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "  ",
        "338",
        "not a date",
        "2022-13-01",
        "2022-11-22T25:00:00+06:00",
        "Tue, 32 Nov 2022 17:37:00 +0600",
        "Tue, 22 Nov 2022 25:00:00 +0600",
        "Tue, 22 Nov 99999 17:37:00 +0600",
        "Tue, 22 Nov 2022 17:37:00 +9999",
        "22.11.2022, 17:37",
    ],
    ids=repr,
)
def test_not_a_machine_date(value: str) -> None:
    assert parse_machine_date(value, ALMATY) is None
