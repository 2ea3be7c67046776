"""Crawl throughput: the full newscrawler crawl against a bare Scrapy spider on the same generated DLE site.

Extraction (lxml parse, DLE fields, comments, dates, language) is CPU work, so on a fast site it, not the network,
bounds a crawl. The issue's target: the full crawl keeps >= 70 % of the pages/s of a spider that only fetches the
same pages with the same concurrency. newscrawler extracts in worker processes (NEWSCRAWLER_EXTRACT_WORKERS), so
the full crawl also runs with 0 (in-process) and 1 worker, to show what the workers buy, and every crawl's memory
and CPU are those of its whole process tree, not of the crawl process alone. All crawls run as subprocesses (the
Twisted reactor cannot restart) against one local server process that serves generated pages from memory.

    python benchmarks/crawl_throughput.py [--pages 2000] [--repeat 1] [--keep DIR]

This file is also the bare spider: `scrapy runspider benchmarks/crawl_throughput.py -a url=FEED -O out.jsonl`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

HOST = "127.0.0.1"  # the only address this benchmark ever binds or connects to
TARGET_RATIO = 0.7
TARGET_PAGE_BYTES = 60 * 1024
# The same for both crawls, so the difference between them is what newscrawler does with each page.
CONCURRENCY = 16
SHARED_SETTINGS = (
    f"CONCURRENT_REQUESTS={CONCURRENCY}", f"CONCURRENT_REQUESTS_PER_DOMAIN={CONCURRENCY}",
    "DOWNLOAD_DELAY=0", "ROBOTSTXT_OBEY=True", "LOG_LEVEL=INFO",
    # No listening consoles in the children: the server is the only port, and a killed child leaves no job file.
    "TELNETCONSOLE_ENABLED=False", "REMOTE_CONTROL_ENABLED=False",
    "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1",  # the local server; newscrawler refuses loopback by default
)
# A crawl slower than this per page is broken, not slow; the run is killed so the benchmark always ends.
CHILD_TIMEOUT_BASE, CHILD_TIMEOUT_PER_PAGE = 60.0, 0.15
SERVER_START_TIMEOUT = 180.0
STATS_PATH = "/_bench/stats"
# Proxies from the environment would send 127.0.0.1 requests elsewhere; children get none.
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
BIN = Path(sys.executable).parent


# --- Generated DataLife Engine site (markup as in reference/dle.md §2 and fixtures/sites/dle-kz) ---

# All dates fall before Kazakhstan's 2024-03-01 switch to UTC+5, so Almaty's +06:00 is right for every one.
ALMATY_2023 = timezone(timedelta(hours=6))
NEWEST = datetime(2023, 11, 22, 17, 37, tzinfo=ALMATY_2023)
FIRST_ID = 20000
SITE_NAME = "Turan Times"
CATEGORIES = (
    ("regions", "Регионы"), ("society", "Общество"), ("economy", "Экономика"), ("politics", "Политика"),
    ("incidents", "Происшествия"), ("sport", "Спорт"), ("world", "В мире"), ("culture", "Культура"),
)
REGIONS = (
    "Абайская область", "Акмолинская область", "Актюбинская область", "Алматинская область", "Атырауская область",
    "ВКО", "Жамбылская область", "Жетысуская область", "ЗКО", "Карагандинская область", "Костанайская область",
    "Кызылординская область", "Мангистауская область", "Павлодарская область", "СКО", "Туркестанская область",
    "Улытауская область", "Астана", "Алматы", "Шымкент",
)
CITIES = (
    "Алматы", "Астана", "Шымкент", "Караганда", "Актобе", "Тараз", "Павлодар", "Усть-Каменогорск", "Семей",
    "Атырау", "Костанай", "Кызылорда", "Уральск", "Петропавловск", "Актау", "Туркестан", "Талдыкорган", "Кокшетау",
)
AUTHORS = ("NTleukesh", "aigerim_s", "d.sarsenov", "editor", "Marat_B", "zhanna.k", "redaktor2", "asel_news")
PEOPLE = ("Асхат Оралов", "Айгуль Сейткали", "Ерлан Жумабаев", "Марат Бекенов", "Динара Касымова", "Нурлан Абдрахманов")
HEADLINES = (
    "на ремонт дорог выделят {n} млн тенге", "открылась новая школа на {n} мест", "цены на бензин АИ-92 выросли",
    "фермеры начнут получать субсидии через единый реестр", "в микрорайоне отключат горячую воду на {s} дней",
    "полицейские задержали подозреваемых в мошенничестве", "стартовал приём заявок на гранты для молодёжи",
    "аким провёл встречу с предпринимателями", "синоптики обещают снег и гололёд", "открыли движение по новому мосту",
    "в больнице появилось современное оборудование", "школьники заняли призовые места на олимпиаде",
    "тарифы на коммунальные услуги пересмотрят", "стартовала вакцинация против гриппа", "построят {n} арендных домов",
)
SENTENCES = (
    "В городе {city} состоялось расширенное заседание, на котором обсудили итоги работы за {s} месяцев текущего года.",
    "По данным пресс-службы акимата, в мероприятии приняли участие более {n} человек.",
    "Как отметили в ведомстве, показатели выросли на {pct} процента по сравнению с прошлым годом.",
    "Особое внимание было уделено вопросам благоустройства дворов, ремонта дорог и освещения улиц.",
    "Местные жители неоднократно обращались в акимат с просьбой решить эту проблему.",
    "На реализацию проекта из местного бюджета выделено {n} миллионов тенге.",
    "Работы планируется завершить до конца следующего года, сообщили в управлении строительства.",
    "Эксперты считают, что принятые меры позволят снизить нагрузку на систему здравоохранения.",
    "В департаменте полиции напомнили о необходимости соблюдать правила дорожного движения.",
    "Подробности произошедшего выясняются, по факту начато досудебное расследование.",
    "Заместитель акима отметил, что все обязательства перед подрядчиками будут выполнены в срок.",
    "Ранее сообщалось, что в регионе планируется строительство {s} новых школ и детских садов.",
    "По словам специалистов, ситуация находится под постоянным контролем.",
    "Министерство энергетики сообщило, что запасов топлива достаточно для прохождения отопительного сезона.",
    "В ходе встречи стороны обменялись мнениями о перспективах сотрудничества в сфере образования и науки.",
    "Представители бизнеса предложили упростить процедуру получения разрешений на строительство.",
    "Согласно статистике, за прошедший период зарегистрировано {n} обращений граждан.",
    "Мероприятие прошло в рамках государственной программы развития регионов.",
    "Участники форума обсудили вопросы цифровизации государственных услуг и защиты персональных данных.",
    "В акимате подчеркнули, что работа в этом направлении будет продолжена.",
    "Средняя стоимость квадратного метра жилья в городе {city} составила {n} тысяч тенге.",
    "Синоптики прогнозируют понижение температуры воздуха до минус {s} градусов.",
    "Спасатели оперативно прибыли на место и эвакуировали {s} человек, пострадавших нет.",
    "Как пояснили в управлении образования, дополнительные места появятся уже в новом учебном году.",
    "Инфляция в республике за последние двенадцать месяцев составила {pct} процента.",
    "Напомним, законопроект был внесён на рассмотрение парламента в начале года.",
    "Фермеры области собрали более {n} тысяч тонн зерна, что на {pct} процента больше прошлогоднего.",
    "Полный текст постановления опубликован на официальном сайте ведомства.",
    "«Мы видим положительную динамику и рассчитываем сохранить её в следующем году», — сказал {person}.",
    "«Все работы идут по графику, жители будут заранее предупреждены об отключениях», — добавил {person}.",
)
COMMENT_TEXTS = (
    "Давно пора. У нас в ауле фонарей нет уже третий год.", "Штаб мүшелеріне рахмет, жұмысты жақсы ұйымдастырды",
    "А кто будет контролировать качество работ?", "Посмотрим, что изменится через год.", "Жақсы жаңалық! Рахмет.",
    "В нашем селе то же самое, писали в акимат несколько раз.", "Хорошая новость, спасибо за информацию.",
    "Опять обещания. Каждый год одно и то же.", "Подскажите, где можно узнать подробности?",
    "Согласен с предыдущим комментатором.", "Цены растут быстрее зарплат, вот в чём проблема.",
)
GUESTS = ("Айгерим", "Болат", "Гость", "Сергей", "Алия", "Ерлан")
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря")
TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ("a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "h", "c", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya", "a", "g", "k", "n", "o", "u", "u", "h", "i"),
))


@dataclass(frozen=True)
class Headline:
    """What the feed, related blocks and sidebars say about an article: cheap, so all N exist up front."""

    news_id: int
    path: str
    title: str
    category: str
    published: datetime
    author: str
    lead: str


def slugify(title: str) -> str:
    """DLE's totranslit(): Cyrillic to Latin, anything else to '-', at most 60 characters."""
    latin = "".join(TRANSLIT.get(char, char) for char in title.lower())
    words = re.sub(r"[^a-z0-9]+", " ", latin).split()
    return "-".join(words)[:60].rstrip("-")


def fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randint(20, 990), s=rng.randint(2, 12), pct=f"{rng.randint(1, 19)},{rng.randint(0, 9)}",
        city=rng.choice(CITIES), person=rng.choice(PEOPLE),
    )


def headline(index: int) -> Headline:
    """Article `index` (0 is the newest); deterministic, so the server and the parent generate the same site."""
    rng = random.Random(index)
    folder, name = rng.choice(CATEGORIES)
    title = f"{rng.choice(CITIES)}: {fill(rng.choice(HEADLINES), rng)}"
    news_id = FIRST_ID + index
    return Headline(
        news_id=news_id, path=f"/{folder}/{news_id}-{slugify(title)}.html", title=title, category=name,
        published=NEWEST - timedelta(minutes=37 * index), author=rng.choice(AUTHORS),
        lead=fill(rng.choice(SENTENCES), rng),
    )


def dle_date(when: datetime) -> str:
    return when.strftime("%d.%m.%Y, %H:%M")  # timestamp_active 'd.m.Y, H:i': "22.11.2022, 17:37"


def comment_date(when: datetime) -> str:
    return f"{when.day} {MONTHS_GENITIVE[when.month - 1]} {when.year} {when:%H:%M}"  # "23 ноября 2022 09:12"


def spaced(number: int) -> str:
    return f"{number:,}".replace(",", " ")  # DLE's number_format(n, 0, ',', ' '): "1 234"


def head_html(item: Headline, base: str) -> str:
    url = base + item.path
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
	<meta charset="utf-8">
<title>{item.title} » {SITE_NAME}</title>
<meta name="description" content="{item.lead}">
<meta name="keywords" content="{item.category}, Казахстан, новости, {item.title.split(':')[0]}">
<meta name="generator" content="DataLife Engine (https://dle-news.ru)">
<meta name="news_keywords" content="{item.category}, Казахстан">
<meta property="og:site_name" content="{SITE_NAME}">
<meta property="og:type" content="article">
<meta property="og:title" content="{item.title}">
<meta property="og:url" content="{url}">
<meta property="og:image" content="{base}/uploads/posts/{item.published:%Y-%m}/{item.news_id}_main.jpg">
<meta property="og:description" content="{item.lead}">
<link rel="search" type="application/opensearchdescription+xml" href="{base}/engine/opensearch.php" title="{SITE_NAME}">
<link rel="canonical" href="{url}">
<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" href="{base}/rss.xml">
<script src="/engine/classes/min/index.php?g=general&amp;v=7b1a2"></script>
<script src="/engine/classes/min/index.php?f=engine/classes/js/jqueryui.js,engine/classes/js/dle_js.js&amp;v=7b1a2" defer></script>
	<meta name="viewport" content="width=device-width, initial-scale=1.0">
	<link rel="shortcut icon" href="/templates/Turan/images/favicon.ico">
	<link href="/templates/Turan/css/styles.css?v=3" type="text/css" rel="stylesheet">
	<link href="/templates/Turan/css/engine.css?v=3" type="text/css" rel="stylesheet">
	<script async src="https://www.googletagmanager.com/gtag/js?id=G-7Q2W3E4R5T"></script>
	<script>window.dataLayer = window.dataLayer || []; function gtag(){{dataLayer.push(arguments);}} gtag('js', new Date()); gtag('config', 'G-7Q2W3E4R5T');</script>
</head>
"""


DLE_VARS = """<script>
<!--
var dle_root       = '/';
var dle_admin      = '';
var dle_login_hash = '0c7e4a91d2b35f8e6a0c9d1b7e24f5a3c8d60b19';
var dle_group      = 5;
var dle_skin       = 'Turan';
var dle_wysiwyg    = '0';
var quick_wysiwyg  = '1';
var dle_min_search = '4';
var dle_act_lang   = ["Да", "Нет", "Ввод", "Отмена", "Сохранить", "Удалить", "Загрузка. Пожалуйста, подождите..."];
var menu_short     = 'Быстрое редактирование';
var menu_full      = 'Полное редактирование';
var menu_profile   = 'Просмотр профиля';
var menu_send      = 'Отправить сообщение';
var menu_uedit     = 'Админцентр';
var dle_info       = 'Информация';
var dle_confirm    = 'Подтверждение';
var dle_prompt     = 'Ввод информации';
var dle_req_field  = ["Заполните поле с именем", "Заполните поле с сообщением", "Заполните поле с темой сообщения"];
var dle_del_agree  = 'Вы действительно хотите удалить? Данное действие невозможно будет отменить';
var dle_spam_agree = 'Вы действительно хотите отметить пользователя как спамера? Это приведёт к удалению всех его комментариев';
var dle_c_title    = 'Отправка жалобы';
var dle_complaint  = 'Укажите текст Вашей жалобы для администрации:';
var dle_mail       = 'Ваш e-mail:';
var dle_big_text   = 'Выделен слишком большой участок текста.';
var dle_orfo_title = 'Укажите комментарий для администрации к найденной ошибке на странице:';
var dle_p_send     = 'Отправить';
var dle_p_send_ok  = 'Уведомление успешно отправлено';
var dle_save_ok    = 'Изменения успешно сохранены. Обновить страницу?';
var dle_reply_title= 'Ответ на комментарий';
var dle_tree_comm  = '1';
var dle_del_news   = 'Удалить статью';
var dle_sub_agree  = 'Вы действительно хотите подписаться на комментарии к данной публикации?';
var dle_captcha_type  = '0';
var DLEGalleryMode    = 1;
var DLELazyMode       = 0;
var allow_dle_delete_news   = false;

//-->
</script>
"""


def icon_sprite(rng: random.Random) -> str:
    """Themes inline an SVG sprite of their icons: bulk the parser must read, never text."""
    def path() -> str:
        return " ".join(f"{rng.choice('MLCQ')}{rng.randint(0, 512)} {rng.randint(0, 512)}" for _ in range(40)) + " Z"
    names = ("search", "user", "eye", "comment", "clock", "rss", "vk", "telegram", "instagram", "facebook", "up")
    symbols = "".join(f'<symbol id="icon-{name}" viewBox="0 0 512 512"><path d="{path()}"/></symbol>' for name in names)
    return f'<svg xmlns="http://www.w3.org/2000/svg" style="display:none">{symbols}</svg>\n'


def header_html() -> str:
    """Logo, search form and the mega-menu of categories and regions most DLE news themes carry."""
    regions = "".join(f'<li><a href="/regions/{slugify(name)}/">{name}</a></li>' for name in REGIONS)
    menu = "".join(
        f'<li class="menu__item"><a href="/{folder}/">{name}</a>'
        + (f'<ul class="menu__sub">{regions}</ul>' if folder == "regions" else "") + "</li>"
        for folder, name in CATEGORIES
    )
    return f"""<div class="page">
	<header class="header">
		<div class="header__inner wrap">
			<a class="header__logo" href="/"><img src="/templates/Turan/images/logo.svg" alt="{SITE_NAME}"></a>
			<form class="header__search" method="post"><input type="hidden" name="do" value="search"><input type="hidden" name="subaction" value="search"><input id="story" name="story" type="search" placeholder="Поиск по сайту"><button type="submit"><svg><use xlink:href="#icon-search"></use></svg></button></form>
			<a class="header__rss" href="/rss.xml"><i class="fa fa-rss"></i> RSS лента</a>
		</div>
		<nav class="menu wrap"><ul class="menu__list">{menu}</ul></nav>
	</header>
	<div class="wrap">
		<main class="content">
"""


def speedbar_html(item: Headline) -> str:
    """DLE's breadcrumbs (#dle-speedbar, schema.org BreadcrumbList)."""
    folder = item.path.split("/")[1]
    crumbs = (("/", "Главная"), (f"/{folder}/", item.category))
    parts = [
        f'<span itemprop="itemListElement" itemscope itemtype="https://schema.org/ListItem"><a itemprop="item" '
        f'href="{href}"><span itemprop="name">{name}</span></a><meta itemprop="position" content="{n}"></span>'
        for n, (href, name) in enumerate(crumbs, 1)
    ]
    return (f'<div class="speedbar"><div id="dle-speedbar" itemscope itemtype="https://schema.org/BreadcrumbList">'
            f'{" » ".join(parts)} » {item.title}</div></div>\n')


def image_html(image: str, alt: str) -> str:
    return f'<!--dle_image_begin:{image}|--><img src="{image}" style="max-width:100%;" alt="{alt}"><!--dle_image_end-->'


def story_text(item: Headline, rng: random.Random, base: str) -> str:
    """8-13 paragraphs of news prose with DLE image markers in both forms the editors leave, a bold paragraph
    now and then: the main image bare in the text (BB-code editor), a second one in a centred div (WYSIWYG)."""
    folder = f"{base}/uploads/posts/{item.published:%Y-%m}"
    paragraphs = [f"<p>{item.lead}</p>", image_html(f"{folder}/{item.news_id}_main.jpg", item.title)]
    for n in range(rng.randint(8, 13)):
        sentences = " ".join(fill(rng.choice(SENTENCES), rng) for _ in range(rng.randint(2, 4)))
        paragraphs.append(f"<p><b>{sentences}</b></p>" if rng.random() < 0.1 else f"<p>{sentences}</p>")
        if n == 3:
            second = image_html(f"{folder}/{item.news_id}_2.jpg", "")
            paragraphs.append(f'<div style="text-align:center;">{second}</div>')
    return "\n".join(paragraphs)


def profile_link(login: str, base: str) -> str:
    """DLE's {author}: a ShowProfile link that prints the login."""
    profile = f"{base}/user/{login}/"
    return f"""<a onclick="ShowProfile('{login}', '{profile}', '0'); return false;" href="{profile}">{login}</a>"""


def meta_line(item: Headline, views: int, comments: int, base: str) -> str:
    return f"""	<ul class="full-story__meta">
		<li class="meta-date"><i class="fa fa-clock-o"></i> {dle_date(item.published)},</li>
		<li class="meta-views" title="Просмотров"><i class="fa fa-eye"></i> {spaced(views)}</li>
		<li class="meta-comments" title="Комментариев"><i class="fa fa-comment"></i> {comments}</li>
		<li class="meta-author">Автор: {profile_link(item.author, base)}</li>
	</ul>
"""


def link_list(items: list[Headline], css_class: str) -> str:
    return "".join(f'<li class="{css_class}"><a href="{h.path}">{h.title}</a></li>' for h in items)


def story_html(item: Headline, related: list[Headline], comments: int, rng: random.Random, base: str) -> str:
    tags = ", ".join(f'<a href="/tags/{quote(tag)}/">{tag}</a>' for tag in (item.category, item.title.split(":")[0]))
    return f"""<div id='dle-content'><article class="full-story">
	<h1 class="full-story__title">{item.title}</h1>
{meta_line(item, rng.randint(40, 25000), comments, base)}	<div class="full-story__text">
		{story_text(item, rng, base)}
	</div>
	<div class="full-story__tags">Теги: {tags}</div>
	<div class="full-story__share"><div class="ya-share2" data-curtain data-services="vkontakte,telegram,whatsapp"></div></div>
	<div class="related">
		<div class="related__title">ЧИТАЙТЕ ТАКЖЕ:</div>
		<ul class="related__list">{link_list(related, "related__item")}</ul>
	</div>
</article>
"""


@dataclass(frozen=True)
class PostedComment:
    comment_id: int
    parent: int | None
    author: str
    member: bool
    when: datetime
    text: str


def make_comments(item: Headline, rng: random.Random) -> list[PostedComment]:
    """2-6 comments; about a third answer an earlier one, so the tree is threaded (DLE caps depth at 5)."""
    found: list[PostedComment] = []
    for n in range(rng.randint(2, 6)):
        parent = rng.choice(found).comment_id if found and rng.random() < 0.35 else None
        member = rng.random() < 0.4
        found.append(PostedComment(
            comment_id=item.news_id * 10 + n, parent=parent,
            author=rng.choice(AUTHORS if member else GUESTS), member=member,
            when=item.published + timedelta(minutes=rng.randint(5, 3000)), text=rng.choice(COMMENT_TEXTS),
        ))
    return found


def comment_box(comment: PostedComment, base: str) -> str:
    """comments.tpl inside the engine's div#comment-id-N, the text in div#comm-id-N."""
    cid = comment.comment_id
    author = profile_link(comment.author, base) if comment.member else comment.author
    return f"""<div id='comment-id-{cid}'><div class="comment">
	<div class="comment__head">
		<span class="comment__author">{author}</span>
		<span class="comment__date">{comment_date(comment.when)}</span>
		<a href="#" class="comment__reply" onclick="dle_reply('{cid}', '0', '0'); return false;" title="Ответить"><i class="fa fa-reply"></i></a>
	</div>
	<div class="comment__text"><div id='comm-id-{cid}'>{comment.text}</div></div>
</div></div>"""


def comment_tree(comments: list[PostedComment], parent: int | None, base: str) -> str:
    """Nested ol.comments-tree-list > li#comments-tree-item-N, as comments.class.php prints tree comments."""
    items = [
        f'<li id="comments-tree-item-{c.comment_id}" class="comments-tree-item" >{comment_box(c, base)}'
        f"{comment_tree(comments, c.comment_id, base)}</li>"
        for c in comments if c.parent == parent
    ]
    return f'<ol class="comments-tree-list">{"".join(items)}</ol>' if items else ""


def comments_html(item: Headline, comments: list[PostedComment], base: str) -> str:
    return f"""<div class="comments">
	<div class="add-comm">
		<form  method="post" name="dle-comments-form" id="dle-comments-form" ><h3 class="add-comm__title">Оставить комментарий</h3>
			<div class="add-comm__row"><input type="text" name="name" id="name" class="add-comm__input" placeholder="Ваше имя"></div>
			<div class="add-comm__row"><input type="text" name="mail" id="mail" class="add-comm__input" placeholder="E-mail"></div>
			<div class="add-comm__row"><textarea name="comments" id="comments" class="add-comm__textarea" rows="5" placeholder="Текст комментария"></textarea></div>
			<button class="btn add-comm__btn" type="submit" name="submit">Отправить</button>
		<input type="hidden" name="subaction" value="addcomment">
		<input type="hidden" name="post_id" id="post_id" value="{item.news_id}"><input type="hidden" name="user_hash" value="0c7e4a91d2b35f8e6a0c9d1b7e24f5a3c8d60b19"></form>
	</div>
	<form method="post" name="dlemasscomments" id="dlemasscomments"><div id="dle-comments-list">
<div id="comment"></div>{comment_tree(comments, None, base)}
<div id="dle-ajax-comments"></div>
</div></form>
</div>
</div>
		</main>
"""


def calendar_html(item: Headline) -> str:
    """DLE's archive calendar block: a month of day links."""
    day = item.published
    cells = [f'<td class="day-active-v"><a class="day-active-v" href="/{day:%Y/%m}/{d:02d}/" title="Все публикации за '
             f'{d:02d} {MONTHS_GENITIVE[day.month - 1]} {day.year}">{d}</a></td>' for d in range(1, 29)]
    rows = "".join(f"<tr>{''.join(cells[week * 7:week * 7 + 7])}</tr>" for week in range(4))
    return (f'<div id="calendar-layer"><table id="calendar" class="calendar"><tr><th colspan="7" class="monthselect">'
            f'<a class="monthlink" href="/{day:%Y/%m}/">&laquo;</a> {day:%m.%Y} &raquo;</th></tr>{rows}</table></div>')


def sidebar_html(popular: list[Headline], tags: list[str], item: Headline) -> str:
    """Login form, popular news with thumbnails, calendar and tag cloud: the chrome around every article."""
    cards = "".join(
        f'<div class="popular__item"><a href="{h.path}">'
        f'<img src="/uploads/posts/{h.published:%Y-%m}/thumbs/{h.news_id}_main.jpg" '
        f'alt="{h.title}" loading="lazy"><span class="popular__title">{h.title}</span></a>'
        f'<span class="popular__meta"><i class="fa fa-eye"></i> {spaced(h.news_id * 7 % 30000)}</span></div>'
        for h in popular
    )
    cloud = " ".join(f'<a href="/tags/{quote(tag)}/" style="font-size:{12 + len(tag) % 8}px" '
                     f'title="Найдено публикаций: {len(tag) * 3}">{tag}</a>' for tag in tags)
    return f"""		<aside class="sidebar">
			<div class="sidebar__block login"><form method="post"><input type="text" name="login_name" placeholder="Логин"><input type="password" name="login_password" placeholder="Пароль"><button onclick="submit();" type="submit">Войти</button><input name="login" type="hidden" id="login" value="submit"></form><a href="/index.php?do=register">Регистрация</a> <a href="/index.php?do=lostpassword">Забыли пароль?</a></div>
			<div class="sidebar__block"><div class="sidebar__title">Популярное</div>{cards}</div>
			<div class="sidebar__block"><div class="sidebar__title">Архив</div>{calendar_html(item)}</div>
			<div class="sidebar__block"><div class="sidebar__title">Облако тегов</div><div class="tags-cloud">{cloud}</div></div>
"""


FOOTER = """			</aside>
	</div>
	<footer class="footer">
		<div class="footer__inner wrap">
			<ul class="footer__menu"><li><a href="/about.html">О нас</a></li><li><a href="/reklama.html">Реклама</a></li><li><a href="/index.php?do=feedback">Обратная связь</a></li><li><a href="/rules.html">Правила</a></li><li><a href="/rss.xml">RSS</a></li></ul>
			<form class="footer__subscribe" method="post" action="/index.php?do=subscribe"><input type="email" name="email" placeholder="Ваш e-mail"><button type="submit">Подписаться</button></form>
			<div class="footer__copy">© 2015–2023 Turan Times. Сетевое издание зарегистрировано в Министерстве информации и общественного развития Республики Казахстан. При использовании материалов гиперссылка на сайт обязательна. Мнение авторов может не совпадать с позицией редакции.</div>
		</div>
	</footer>
</div>
<script type="text/javascript">(function(m,e,t,r,i,k,a){m[i]=m[i]||function(){(m[i].a=m[i].a||[]).push(arguments)};m[i].l=1*new Date();k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,a.parentNode.insertBefore(k,a)})(window, document, "script", "https://mc.yandex.ru/metrika/tag.js", "ym");ym(91234567, "init", {clickmap:true, trackLinks:true, accurateTrackBounce:true, webvisor:true});</script>
<noscript><div><img src="https://mc.yandex.ru/watch/91234567" style="position:absolute; left:-9999px;" alt=""></div></noscript>
<script>jQuery(function($){ $('.menu__item').hover(function(){ $(this).addClass('is-open'); }, function(){ $(this).removeClass('is-open'); }); $('#dle-content img').on('error', function(){ $(this).hide(); }); });</script>
</body>
</html>
"""


def latest_block(latest: Iterator[Headline], room: int) -> str:
    """The "Лента новостей" list, as long as it takes to bring the page to its target size."""
    items: list[str] = []
    used = 0
    while used < room:
        h = next(latest)
        item = (f'<li class="last-news__item"><span class="last-news__time">{h.published:%H:%M}</span> '
                f'<a href="{h.path}">{h.title}</a></li>')
        items.append(item)
        used += len(item.encode("utf-8"))
    title = '<div class="sidebar__title">Лента новостей</div>'
    return f'<div class="sidebar__block">{title}<ul id="last-news">{"".join(items)}</ul></div>\n'


def article_page(index: int, headlines: list[Headline], base: str) -> bytes:
    """The full page of article `index`: about TARGET_PAGE_BYTES of DLE markup, deterministic."""
    rng = random.Random(f"page-{index}")
    item = headlines[index]
    others = [headlines[(index + 1 + k * 7) % len(headlines)] for k in range(40)]
    comments = make_comments(item, rng)
    tags = [slugify(h.title).split("-")[0] for h in others[:6]] + [name for _, name in CATEGORIES] + list(CITIES)
    parts = [
        head_html(item, base), "<body>\n", DLE_VARS, icon_sprite(rng), header_html(), speedbar_html(item),
        story_html(item, others[:6], len(comments), rng, base), comments_html(item, comments, base),
        sidebar_html(others[6:14], tags, item),
    ]
    page = "".join(parts)
    room = TARGET_PAGE_BYTES - len(page.encode("utf-8")) - len(FOOTER.encode("utf-8"))
    latest = (headlines[(index + k) % len(headlines)] for k in range(1, 10**6))
    return (page + latest_block(latest, room) + FOOTER).encode("utf-8")


def rss_item(item: Headline, base: str) -> str:
    url = base + item.path
    return f"""<item>
	<title>{item.title}</title>
	<guid isPermaLink="true">{url}</guid>
	<link>{url}</link>
	<description><![CDATA[{item.lead}]]></description>
	<category><![CDATA[{item.category}]]></category>
	<dc:creator>{item.author}</dc:creator>
	<pubDate>{format_datetime(item.published)}</pubDate>
</item>
"""


def rss_feed(headlines: list[Headline], base: str) -> bytes:
    """DLE 16's /rss.xml: RSS 2.0, dc:creator is the login, pubDate RFC 2822 with the server's offset."""
    items = "".join(rss_item(item, base) for item in headlines)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:georss="http://www.georss.org/georss">
<channel>
<title>{SITE_NAME}</title>
<link>{base}/</link>
<atom:link href="{base}/rss.xml" rel="self" type="application/rss+xml" />
<language>ru</language>
<description>{SITE_NAME}: новости Казахстана</description>
<generator>DataLife Engine</generator>
{items}</channel>
</rss>
""".encode("utf-8")


ROBOTS = b"User-agent: *\nDisallow: /engine/\nDisallow: /user/\nDisallow: /index.php?do=register\n"


def build_site(pages: int, base: str) -> dict[str, tuple[str, bytes]]:
    """Every path the server answers, with its content type and body."""
    headlines = [headline(index) for index in range(pages)]
    site = {"/robots.txt": ("text/plain; charset=utf-8", ROBOTS),
            "/rss.xml": ("application/rss+xml; charset=utf-8", rss_feed(headlines, base))}
    for index, item in enumerate(headlines):
        site[item.path] = ("text/html; charset=utf-8", article_page(index, headlines, base))
    return site


# --- The server process ---


class Counters:
    """Requests served, kept by the server so each crawl's page count comes from what was really fetched."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.articles = 0

    def count(self, path: str) -> None:
        with self.lock:
            self.requests += 1
            self.articles += path.endswith(".html")

    def snapshot(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            return {"requests": self.requests, "articles": self.articles, "cpu": usage.ru_utime + usage.ru_stime}


def raw_response(content_type: str, body: bytes) -> bytes:
    """Status line, headers and body as one buffer: one send per response, no Nagle/delayed-ACK stall."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


def handler_class(responses: dict[str, bytes], counters: Counters) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: Scrapy reuses its connections
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path == STATS_PATH:
                self.wfile.write(raw_response("application/json", json.dumps(counters.snapshot()).encode()))
                return
            response = responses.get(self.path)
            if response is None:
                self.send_error(404)
                return
            counters.count(self.path)
            self.wfile.write(response)

        def log_message(self, *args: object) -> None:
            pass  # a line per request would cost more than serving it

    return Handler


def exit_with_parent(parent: int) -> None:
    """A server whose benchmark died (killed, crashed) stops by itself instead of lingering on its port."""
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def serve(pages: int, parent: int, conn: Connection) -> None:
    """Server process: bind 127.0.0.1 on a free port, generate the site for that address, report the port, serve."""
    server = ThreadingHTTPServer((HOST, 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    base = f"http://{HOST}:{server.server_port}"
    site = build_site(pages, base)
    responses = {path: raw_response(kind, body) for path, (kind, body) in site.items()}
    server.RequestHandlerClass = handler_class(responses, Counters())
    threading.Thread(target=exit_with_parent, args=(parent,), daemon=True).start()
    conn.send((server.server_port, sum(len(body) for path, (_, body) in site.items() if path.endswith(".html"))))
    conn.close()
    server.serve_forever()


@dataclass(frozen=True)
class ServedSite:
    port: int
    pages: int
    article_bytes: int

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def feed_url(self) -> str:
        return self.base + "/rss.xml"

    def stats(self) -> dict[str, float]:
        """Requests and CPU seconds so far, from the server itself (http.client: no proxy can intervene)."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=10)
        try:
            connection.request("GET", STATS_PATH)
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()


@contextmanager
def served_site(pages: int) -> Iterator[ServedSite]:
    """The generated site in its own process (spawned: nothing of this process's state leaks in), stopped on exit."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=serve, args=(pages, os.getpid(), sender), daemon=True, name="bench-server")
    process.start()
    try:
        if not receiver.poll(SERVER_START_TIMEOUT):
            raise RuntimeError(f"the server did not start within {SERVER_START_TIMEOUT:.0f} s")
        port, article_bytes = receiver.recv()
        yield ServedSite(port, pages, article_bytes)
    finally:
        process.terminate()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()


@dataclass(frozen=True)
class Capacity:
    pages: int
    seconds: float
    server_cpu: float

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def measure_server(site: ServedSite, paths: list[str]) -> Capacity:
    """The server alone, fetched by CONCURRENCY keep-alive stdlib clients: a floor on what it can serve."""
    local = threading.local()

    def fetch(path: str) -> int:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPConnection(HOST, site.port, timeout=30)
        local.connection.request("GET", path)
        response = local.connection.getresponse()
        return len(response.read()) if response.status == 200 else 0

    before = site.stats()
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        fetched = sum(1 for size in pool.map(fetch, paths) if size)
    seconds = time.perf_counter() - started
    return Capacity(fetched, seconds, site.stats()["cpu"] - before["cpu"])


# --- (a) the bare spider; `scrapy runspider` finds it in this file ---


class BareFeedSpider(scrapy.Spider):
    """Fetch the feed, request every link, yield only the URL: Scrapy's own cost for the same pages."""

    name = "bare_feed"

    def __init__(self, url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feed_url = url

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.feed_url, callback=self.parse_feed)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        for link in response.xpath("//item/link/text()").getall():
            yield scrapy.Request(link.strip(), callback=self.parse_article)

    def parse_article(self, response: Response) -> Iterator[dict[str, str]]:
        yield {"url": response.url}


# --- Measuring a crawl's whole process tree ---
# os.wait4 reports the crawl process alone. newscrawler extracts in workers forked by its forkserver child, so their
# memory and CPU never reach wait4; the tree is sampled from /proc instead (stdlib only, Linux).

SAMPLE_INTERVAL = 0.1
EXIT_GRACE = 3.0  # the forkserver and resource tracker exit on EOF as soon as the crawl process is gone
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/PID/stat used here; (pid, start) names one process, since pids are reused."""

    pid: int
    ppid: int
    start: int  # clock ticks after boot
    zombie: bool
    cpu: float  # own user + system seconds, without reaped children's: a reaped worker is not counted twice


def read_stat(pid: int) -> ProcStat | None:
    """None once the process is gone. Its name may hold spaces and ')', so fields count from the last ')'."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        fields = text[text.rindex(")") + 2:].split()  # fields[0] is proc(5)'s field 3, the state
        return ProcStat(pid, ppid=int(fields[1]), start=int(fields[19]), zombie=fields[0] in ("Z", "X"),
                        cpu=(int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    except (OSError, ValueError, IndexError):
        return None


def resident_bytes(pid: int) -> int:
    """VmRSS, from statm (in pages): shared pages count in every process that maps them, as in `ps`."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def all_processes() -> dict[int, ProcStat]:
    """Every process, for its parent: /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN, which is often off."""
    stats = (read_stat(int(name)) for name in os.listdir("/proc") if name.isdigit())
    return {stat.pid: stat for stat in stats if stat is not None}


@dataclass(frozen=True)
class Usage:
    """What one crawl used with all its processes; `main_cpu` is the crawl process alone, as wait4 reports it."""

    peak_rss_mib: float
    cpu: float
    main_cpu: float
    processes: int
    leftovers: int


class ProcessTree:
    """A crawl process and all its descendants, sampled from /proc every SAMPLE_INTERVAL.

    Members are followed by (pid, start), not only by ancestry: once the crawl process exits, its forkserver is
    re-parented to init, and what it does until it exits still belongs to this crawl.
    """

    def __init__(self, root: int) -> None:
        self.root = root
        self.members: dict[int, int] = {}  # pid -> start of every process seen in the tree
        self.cpu: dict[tuple[int, int], float] = {}  # (pid, start) -> the last CPU seconds seen
        self.peak_rss = 0
        self.most_processes = 0
        self.sample()
        self.root_key = (root, self.members.get(root, -1))

    def sample(self) -> list[int]:
        """Record the tree's summed RSS now and each member's CPU; return the members still running."""
        stats = all_processes()
        tree = self.walk(stats)
        for pid in tree:
            self.cpu[(pid, stats[pid].start)] = stats[pid].cpu
        running = [pid for pid in tree if not stats[pid].zombie]
        self.peak_rss = max(self.peak_rss, sum(resident_bytes(pid) for pid in running))
        self.most_processes = max(self.most_processes, len(running))
        return running

    def walk(self, stats: dict[int, ProcStat]) -> list[int]:
        """Known members still alive, and every process below them: new workers, or a restarted pool's."""
        if not self.members and self.root in stats:
            self.members[self.root] = stats[self.root].start
        children: dict[int, list[int]] = {}
        for stat in stats.values():
            children.setdefault(stat.ppid, []).append(stat.pid)
        pending = [pid for pid, start in self.members.items() if pid in stats and stats[pid].start == start]
        found: set[int] = set()
        while pending:
            pid = pending.pop()
            if pid not in found:
                found.add(pid)
                self.members[pid] = stats[pid].start
                pending.extend(children.get(pid, ()))
        return sorted(found)

    def outlive(self, grace: float) -> list[int]:
        """Sample until the rest of the tree has exited; kill what still runs after `grace` s and return its pids.

        A worker left running would steal CPU from the next crawl, so it is a finding, not just untidiness.
        """
        deadline = time.monotonic() + grace
        while (running := self.sample()) and time.monotonic() < deadline:
            time.sleep(SAMPLE_INTERVAL)
        for pid in running:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return running

    def usage(self, rusage: resource.struct_rusage, leftovers: int) -> Usage:
        """The crawl process's exact wait4 figures, plus every other member's last CPU seen.

        wait4's CPU would also hold children the crawl process reaped itself; newscrawler's reaps none (its workers
        are the forkserver's children, and the forkserver and resource tracker outlive it), so none counts twice.
        """
        main_cpu = rusage.ru_utime + rusage.ru_stime
        others = sum(cpu for key, cpu in self.cpu.items() if key != self.root_key)
        peak = max(self.peak_rss, rusage.ru_maxrss * 1024)  # ru_maxrss still shows a spike between two samples
        return Usage(peak / MIB, main_cpu + others, main_cpu, self.most_processes, leftovers)


# --- Running the crawls ---


Command = Callable[[ServedSite, Path], list[str]]


@dataclass(frozen=True)
class Variant:
    """One row of the table: how its crawl starts, and whether its records must come from newscrawler's DLE path."""

    name: str  # its files: NAME-K.jsonl, NAME-K.log
    key: str
    title: str
    command: Command
    newscrawler: bool
    note: str = ""  # said on its ratio line

    @property
    def label(self) -> str:
        return f"{self.key} {self.title}"


@dataclass
class Run:
    variant: Variant
    attempt: int
    pages: int
    records: int
    failures: int
    seconds: float | None
    usage: Usage
    server_cpu: float
    returncode: int
    timed_out: bool
    log: Path
    dle_records: int | None = None

    @property
    def rate(self) -> float | None:
        return self.pages / self.seconds if self.seconds else None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.rate is not None


def bare_command(site: ServedSite, output: Path) -> list[str]:
    settings = [arg for setting in SHARED_SETTINGS for arg in ("-s", setting)]
    return [str(BIN / "scrapy"), "runspider", str(Path(__file__).resolve()), "-a", f"url={site.feed_url}",
            "-O", str(output), *settings]


def full_command(site: ServedSite, output: Path, workers: int | None = None) -> list[str]:
    """`workers` sets NEWSCRAWLER_EXTRACT_WORKERS; None keeps newscrawler's default, so row b is what users get.

    The state is the working directory's `.newscrawler`, as for a user (benchmarks/state_store.py relies on it).
    """
    extra = () if workers is None else (f"NEWSCRAWLER_EXTRACT_WORKERS={workers}",)
    settings = [arg for setting in (*SHARED_SETTINGS, *extra) for arg in ("-s", setting)]
    return [str(BIN / "newscrawler"), "crawl", site.feed_url, "-O", str(output), "--tz", "Asia/Almaty", *settings]


def state_dir(output: Path) -> Path:
    return output.with_suffix(".state")


def own_state_command(site: ServedSite, output: Path, workers: int | None = None) -> list[str]:
    """full_command with a state of its own beside its output: in one shared state, every crawl after the first
    would find the articles already fetched and skip them."""
    return [*full_command(site, output, workers), "--state", str(state_dir(output))]


VARIANTS = (
    Variant("bare", "a", "bare scrapy", bare_command, newscrawler=False),
    Variant("full", "b", "newscrawler", own_state_command, newscrawler=True),
    Variant("full-w0", "c", "workers=0", partial(own_state_command, workers=0), newscrawler=True,
            note="workers=0, in-process"),
    Variant("full-w1", "d", "workers=1", partial(own_state_command, workers=1), newscrawler=True, note="workers=1"),
)


def child_env() -> dict[str, str]:
    """No proxies (requests must reach 127.0.0.1) and no Scrapy project: the bare spider runs on plain defaults."""
    blocked = {*PROXY_VARIABLES, "SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT"}
    return {name: value for name, value in os.environ.items() if name not in blocked}


def wait_child(process: subprocess.Popen[bytes], timeout: float, tree: ProcessTree) -> tuple[int, Any, bool]:
    """wait4 on the child (exit status, its own rusage), sampling its tree meanwhile; killed past the timeout."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                return status, usage, False
            if time.monotonic() > deadline:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                return status, usage, True
            tree.sample()
            time.sleep(SAMPLE_INTERVAL)
    except BaseException:
        process.kill()
        os.wait4(process.pid, 0)
        raise


def run_child(command: list[str], workdir: Path, log: Path, timeout: float) -> tuple[int, bool, Usage]:
    """Exit code, whether the timeout killed it, and what its whole process tree used."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=workdir, stdout=sink, stderr=subprocess.STDOUT, env=child_env())
    tree = ProcessTree(process.pid)
    status, rusage, timed_out = wait_child(process, timeout, tree)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen so it never waits again
    leftovers = tree.outlive(EXIT_GRACE)
    return process.returncode, timed_out, tree.usage(rusage, len(leftovers))


def elapsed_seconds(log: Path) -> float | None:
    """Crawl time from Scrapy's stats dump, so interpreter start-up and imports are not counted."""
    match = re.search(r"'elapsed_time_seconds': ([0-9.]+)", log.read_text(encoding="utf-8", errors="replace"))
    return float(match.group(1)) if match else None


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open("rb") as lines:
        return sum(1 for line in lines if line.strip())


def count_dle_records(path: Path) -> int:
    """Records extracted with the DLE profile: fewer than all means the generated pages missed the DLE path."""
    if not path.exists():
        return 0
    with path.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if line.strip() and json.loads(line).get("extractor", "").startswith("dle/"))


def crawl(variant: Variant, site: ServedSite, outdir: Path, attempt: int) -> Run:
    output = outdir / f"{variant.name}-{attempt}.jsonl"
    log = outdir / f"{variant.name}-{attempt}.log"
    shutil.rmtree(state_dir(output), ignore_errors=True)  # left in a --keep directory by an earlier benchmark
    before = site.stats()
    timeout = CHILD_TIMEOUT_BASE + CHILD_TIMEOUT_PER_PAGE * site.pages
    returncode, timed_out, usage = run_child(variant.command(site, output), outdir, log, timeout)
    after = site.stats()
    return Run(
        variant=variant, attempt=attempt, pages=int(after["articles"] - before["articles"]),
        records=count_lines(output), failures=count_lines(output.with_name(output.stem + ".failures.jsonl")),
        seconds=elapsed_seconds(log), usage=usage, server_cpu=after["cpu"] - before["cpu"], returncode=returncode,
        timed_out=timed_out, log=log, dle_records=count_dle_records(output) if variant.newscrawler else None,
    )


def crawl_all(site: ServedSite, outdir: Path, repeat: int) -> dict[str, list[Run]]:
    """Every attempt runs each variant once, in turn, so a slow spell of the machine does not hit one row only."""
    runs: dict[str, list[Run]] = {variant.name: [] for variant in VARIANTS}
    for attempt in range(1, repeat + 1):
        for variant in VARIANTS:
            print(f"crawl {variant.label} #{attempt} ...", flush=True)
            runs[variant.name].append(crawl(variant, site, outdir, attempt))
    return runs


def best(runs: list[Run]) -> Run:
    """Best of K: the fastest run that finished, else the first (so its failure is reported)."""
    finished = [run for run in runs if run.ok]
    return max(finished, key=lambda run: run.rate or 0.0) if finished else runs[0]


# --- Report ---


def table(runs: list[Run]) -> str:
    header = (f"{'run':<15}{'pages':>7}{'records':>9}{'seconds':>9}{'pages/s':>9}{'procs':>7}"
              f"{'peak RSS MiB (tree)':>21}{'CPU s (main)':>14}{'CPU s (tree)':>14}{'server CPU':>12}")
    return "\n".join([header, *(table_row(run) for run in runs)])


def table_row(run: Run) -> str:
    rate = f"{run.rate:.1f}" if run.rate else "n/a"
    seconds = f"{run.seconds:.2f}" if run.seconds else "n/a"
    share = f"{run.server_cpu / run.seconds:.0%}" if run.seconds else "n/a"
    usage = run.usage
    return (f"{run.variant.label:<15}{run.pages:>7}{run.records:>9}{seconds:>9}{rate:>9}{usage.processes:>7}"
            f"{usage.peak_rss_mib:>21.1f}{usage.main_cpu:>14.1f}{usage.cpu:>14.1f}{share:>12}")


def rows_note() -> str:
    """What b's default means on this machine, computed as the crawl process computes it."""
    from newscrawler.workers import default_workers  # not at import: this file is also the bare spider

    return (f"b: NEWSCRAWLER_EXTRACT_WORKERS unset = {default_workers()} worker processes on this machine; "
            "c: 0 = extraction in the crawl process; d: 1 worker process\n"
            f"(tree): the crawl process and all its descendants, sampled from /proc every {SAMPLE_INTERVAL} s; "
            "(main): the crawl process alone, from wait4")


def verdict(bare: Run, run: Run) -> str:
    name = f"ratio {run.variant.key}/a" + (f" ({run.variant.note})" if run.variant.note else "")
    if not (bare.rate and run.rate):
        return f"{name}: n/a (a crawl did not finish; see its log)"
    ratio = run.rate / bare.rate
    meets = "meets the target" if ratio >= TARGET_RATIO else "BELOW the target"
    return f"{name}: {ratio:.3f} (target >= {TARGET_RATIO}): {meets}"


def round_ratios(bare_runs: list[Run], runs: list[Run]) -> str:
    """The ratio of each attempt to the bare crawl of the same round, run just before it: on a machine whose speed
    drifts (a shared host), their spread shows how far one best-of ratio can be trusted."""
    key = runs[0].variant.key
    ratios = [run.rate / bare.rate for bare, run in zip(bare_runs, runs, strict=True) if bare.rate and run.rate]
    if not ratios:
        return f"  {key}/a by round: n/a"
    listed = ", ".join(f"{ratio:.3f}" for ratio in ratios)
    return f"  {key}/a by round: {listed} (median {statistics.median(ratios):.3f}, {min(ratios):.3f} to {max(ratios):.3f})"


def server_note(capacity: Capacity, bare: Run) -> str:
    """Evidence that the server is not what limits the crawls: its own rate, and its CPU share during them."""
    lines = [f"server alone: {capacity.pages} pages in {capacity.seconds:.2f} s = {capacity.rate:.0f} pages/s "
             f"to {CONCURRENCY} keep-alive stdlib clients (server CPU {capacity.server_cpu:.2f} s)"]
    if bare.rate:
        headroom = capacity.rate / bare.rate
        note = "is not the bottleneck" if headroom >= 2 else "MAY BE the bottleneck"
        lines.append(f"  = {headroom:.1f}x the bare spider's rate: the server {note}; "
                     f"server CPU during the crawls is in the 'server CPU' column (share of one core)")
    return "\n".join(lines)


def run_problems(run: Run, pages: int) -> list[str]:
    label = f"{run.variant.label} #{run.attempt}"
    found = []
    if run.timed_out:
        found.append(f"{label}: killed after its timeout; log {run.log}")
    elif run.returncode != 0 or run.seconds is None:
        dump = "no stats dump" if run.seconds is None else "stats dumped"  # newscrawler exits 4 after failures
        found.append(f"{label}: exit status {run.returncode}, {dump}; log {run.log}")
    if run.pages != pages or run.records != pages:
        found.append(f"{label}: {run.pages} pages fetched, {run.records} records, expected {pages}")
    if run.failures:
        found.append(f"{label}: {run.failures} lines in its failures file")
    if run.dle_records is not None and run.dle_records != run.records:
        found.append(f"{label}: only {run.dle_records} of {run.records} records used the DLE profile")
    if run.usage.leftovers:
        found.append(f"{label}: {run.usage.leftovers} of its processes still ran {EXIT_GRACE:.0f} s after it "
                     "exited (killed)")
    return found


def problems(site: ServedSite, runs: list[Run]) -> list[str]:
    """Every attempt is checked, not only the best: a crash hidden behind a good attempt is still a crash."""
    return [problem for run in runs for problem in run_problems(run, site.pages)]


def report(site: ServedSite, capacity: Capacity, runs: dict[str, list[Run]], repeat: int) -> int:
    """Print the table, one ratio line per newscrawler row and the warnings; the exit status."""
    bare, *others = [best(attempts) for attempts in runs.values()]
    print(f"\n{site.pages} pages, best of {repeat}; crawl time from Scrapy's elapsed_time_seconds")
    print(rows_note() + "\n")
    print(table([bare, *others]))
    bare_runs, *other_runs = runs.values()
    for run, attempts in zip(others, other_runs, strict=True):
        print(verdict(bare, run))
        if repeat > 1:
            print(round_ratios(bare_runs, attempts))
    print(server_note(capacity, bare))
    found = problems(site, [run for attempts in runs.values() for run in attempts])
    for problem in found:
        print(f"WARNING: {problem}")
    return 1 if found else 0


# --- Command line ---


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Pages/s of the full newscrawler crawl vs a bare Scrapy spider.")
    parser.add_argument("--pages", type=int, default=2000, help="article pages to generate and crawl (default 2000)")
    parser.add_argument("--repeat", type=int, default=1, help="run each crawl K times and keep the best (default 1)")
    parser.add_argument("--keep", type=Path, help="keep outputs, logs and one sample page in this directory")
    args = parser.parse_args(argv)
    if args.pages < 1 or args.repeat < 1:
        parser.error("--pages and --repeat must be at least 1")
    return args


def write_sample(site: ServedSite, outdir: Path) -> Path:
    """One generated page, for profiling extraction on exactly what the crawl saw."""
    headlines = [headline(index) for index in range(site.pages)]
    path = outdir / "sample-article.html"
    path.write_bytes(article_page(0, headlines, site.base))
    (outdir / "sample-article.url").write_text(site.base + headlines[0].path + "\n", encoding="utf-8")
    return path


def benchmark(args: argparse.Namespace, outdir: Path) -> int:
    print(f"generating {args.pages} pages and starting the server ...", flush=True)
    with served_site(args.pages) as site:
        size = site.article_bytes / site.pages / 1024
        print(f"serving {site.feed_url} ({size:.1f} KiB per article page)", flush=True)
        capacity = measure_server(site, [headline(index).path for index in range(site.pages)])
        runs = crawl_all(site, outdir, args.repeat)
        if args.keep:
            write_sample(site, outdir)
    return report(site, capacity, runs, args.repeat)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return benchmark(args, args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="crawl-throughput-") as scratch:
        return benchmark(args, Path(scratch))


if __name__ == "__main__":
    sys.exit(main())
