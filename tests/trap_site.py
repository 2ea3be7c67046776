"""A site of URL traps on 127.0.0.1 (reliability.md §A.5 test 18): an article linked under session ids, a path of
repeated segments, and a calendar whose every day links to the next one, forever."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from scrapy import Request, Spider
from scrapy.http import Response

ARTICLE = "/news/1-statya-o-lovushkah.html"
SESSION_VARIANTS = (f"{ARTICLE}?PHPSESSID=a1b2c3", f"{ARTICLE}?PHPSESSID=d4e5f6", f"{ARTICLE};jsessionid=0A1B2C3D",
                    f"{ARTICLE}?sid=777&utm_source=rss")
REPEATED = "/news/news/news/2-statya.html"  # relative links resolved against themselves, again and again
CALENDAR = re.compile(r"/calendar/(\d{4})-(\d{2})-(\d{2})/")
FIRST_DAY = date(2024, 1, 1)


def article_html() -> str:
    return """<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Статья о ловушках</title>
<meta name="generator" content="DataLife Engine (https://dle-news.ru)"></head><body>
<div id='dle-content'><article class="story"><h1>Статья о ловушках</h1><div class="story__date">26.11.2022, 10:00</div>
<div class="story__text"><p>Сайт ставит идентификатор сессии в каждую ссылку на эту статью.</p>
<p>Краулер должен прочитать её один раз, как бы ни выглядела ссылка.</p></div></article></div></body></html>"""


def calendar_html(day: date) -> str:
    following = day + timedelta(days=1)
    return f"""<!DOCTYPE html><html lang="ru"><head><meta charset="utf-8"><title>Архив за {day}</title></head><body>
<h1>Архив за {day}</h1><p>Новостей за этот день нет.</p>
<a rel="next" href="/calendar/{following}/">Следующий день</a></body></html>"""


def feed_xml(base: str) -> str:
    links = [*SESSION_VARIANTS, REPEATED, f"/calendar/{FIRST_DAY}/"]
    items = "".join(f"<item><title>Ссылка {n}</title><link>{base}{link.replace('&', '&amp;')}</link></item>" for n, link in enumerate(links))
    return f"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Trap Times</title>
<link>{base}/</link><description>Synthetic traps</description>{items}</channel></rss>"""


@dataclass
class TrapSite:
    base: str = ""
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str) -> tuple[int, str, str]:
        if path == "/robots.txt":
            return 200, "text/plain", "User-agent: *\nAllow: /\n"
        if path == "/rss.xml":
            return 200, "application/rss+xml; charset=utf-8", feed_xml(self.base)
        if path.split("?")[0].split(";")[0] == ARTICLE:
            return 200, "text/html; charset=utf-8", article_html()
        if found := CALENDAR.fullmatch(path):
            return 200, "text/html; charset=utf-8", calendar_html(date(*map(int, found.groups())))
        return 404, "text/html; charset=utf-8", "<h1>404</h1>"


@contextmanager
def serve_traps() -> Iterator[TrapSite]:
    site = TrapSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            status, content_type, text = site.page(self.path)
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


class CalendarWalker(Spider):
    """Follows every "next" link, as an archive walk does (issue 5's backfill); what stops it is the budget.

    `scrapy runspider tests/trap_site.py -a url=http://127.0.0.1:PORT/calendar/2024-01-01/` from the project root,
    so the project's settings (and its middlewares) apply."""

    name = "calendar_walker"

    def __init__(self, url: str, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.start_url = url

    async def start(self) -> AsyncIterator[Request]:
        yield Request(self.start_url)

    def parse(self, response: Response) -> Iterator[Request]:
        yield from response.follow_all(css="a[rel=next]")
