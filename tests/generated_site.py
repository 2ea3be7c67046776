"""A generated DataLife Engine news site served on 127.0.0.1, for crawls that need volume (crash, resume, updates).

Every page is built from its news id, so a site of any size needs no fixture files. A test can slow the article
pages down (to kill a crawl half-way), edit articles and add comments while the server runs, and count requests.
The markup follows fixtures/sites/dle-kz (DLE 16, theme "Turan"), so the crawler's DLE profile reads it.
"""

from __future__ import annotations

import hashlib
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from tests import generated_archives as archives

FIRST_ID = 100001  # DLE news ids of a site that has been running for years, not 1, 2, 3
FIRST_COMMENT_ID = 500001  # the seeded comment of article FIRST_ID; comment ids are site-wide, as in DLE
ALMATY = timezone(timedelta(hours=6))  # Asia/Almaty in 2022; fixed, so the site never depends on tzdata
FIRST_PUBLISHED = datetime(2022, 11, 1, 10, 0, tzinfo=ALMATY)  # article n is published n minutes later
AUTHOR = "editor"
SITE_TITLE = "Синтетические новости"
ARTICLE_PATH = re.compile(r"/news/(\d+)-statya-\1\.html")
# An article under an old category or slug: DLE's seo_control answers 301 to the canonical URL.
MOVED_PATH = re.compile(r"/(?!news/)[\w-]+/(\d+)-[\w-]*\.html")
ROBOTS = b"User-agent: *\nAllow: /\n"
LISTING_PATH = re.compile(r"(?P<root>/|/news/|/\d{4}/\d{2}/\d{2}/)(?:page/(?P<page>\d+)/)?")
HTML_TYPE = "text/html; charset=utf-8"
POLL_SECONDS = 0.05
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")  # DLE prints comment dates as "j F Y H:i" with genitive month names


@dataclass
class Comment:
    id: int
    author: str
    text: str
    posted: datetime


@dataclass
class Article:
    """One news item's mutable state; everything else on its page is derived from the id."""

    id: int
    comments: list[Comment]
    extra: list[str] = field(default_factory=list)  # paragraphs appended by GeneratedSite.edit
    modified: datetime | None = None  # when a test last changed it: the page's Last-Modified
    interval: timedelta = timedelta(minutes=1)  # between two consecutive articles' publication
    scripted: bool = False  # its page loads the story by a script; only the full-text feed has it

    @property
    def published(self) -> datetime:
        return FIRST_PUBLISHED + self.interval * (self.id - FIRST_ID)

    @property
    def path(self) -> str:
        return f"/news/{self.id}-statya-{self.id}.html"

    @property
    def title(self) -> str:
        return f"Новость номер {self.id}"

    @property
    def lead(self) -> str:
        return f"Новость номер {self.id} опубликована редакцией сайта «{SITE_TITLE}»."

    def paragraphs(self) -> list[str]:
        """Three paragraphs that each name the id, so no two bodies (or content hashes) are alike."""
        return [
            f"{self.lead} В материале {self.id} рассказывается о событиях в городе и о планах местных властей "
            "на ближайший месяц.",
            f"По словам источников редакции, подготовка к событию {self.id} заняла несколько недель. Участники "
            "обсудили бюджет, сроки и ответственных за каждый этап работы.",
            f"Редакция продолжит следить за развитием истории {self.id} и сообщит о новых подробностях. Читатели "
            "могут задать свои вопросы в комментариях.",
            *self.extra,
        ]


@dataclass
class GeneratedSite:
    """A DLE site of `pages` articles on 127.0.0.1; each article response waits `delay` seconds first.

    With `archives`, it also serves what backfill reads (tests/generated_archives.py), and its feed lists only
    the newest `feed_items` articles, as DLE's rss_number does.
    """

    pages: int = 300
    delay: float = 0.0
    base: str = ""
    requests: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)  # when each of `requests` arrived (time.monotonic())
    feed_items: int | None = None  # None: the feed lists every article
    interval: timedelta = timedelta(minutes=1)
    archives: bool = False
    scripted: frozenset[int] = frozenset()  # news ids whose page loads the story by a script (Turbo feed has it)
    feed_link: bool = True  # the home page names its feed in <link rel=alternate>; else the crawler must guess /rss.xml
    max_in_flight: int = 0  # the most article requests the server was answering at once
    _in_flight: int = field(default=0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _articles: dict[int, Article] = field(default_factory=dict, init=False, repr=False)
    _next_comment_id: int = field(default=0, init=False, repr=False)
    _extra_links: list[tuple[int, str]] = field(default_factory=list, init=False, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, init=False, repr=False)
    _redesigned: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        for offset in range(self.pages):
            news_id = FIRST_ID + offset
            article = Article(news_id, [], interval=self.interval, scripted=news_id in self.scripted)
            article.comments.append(seeded_comment(news_id, article.published))
            self._articles[news_id] = article
        self._next_comment_id = FIRST_COMMENT_ID + self.pages

    @property
    def ids(self) -> range:
        return range(FIRST_ID, FIRST_ID + self.pages)

    def url(self, path: str) -> str:
        return self.base + path

    def article_paths(self) -> list[str]:
        """Article paths, oldest first (the feed lists them newest first, as DLE does)."""
        return [self._articles[news_id].path for news_id in self.ids]

    def log(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)
            self.arrivals.append(time.monotonic())

    def edit(self, article_id: int, body_suffix: str) -> None:
        """Append a paragraph to an article's body, as an editor saving the story would."""
        with self._lock:
            article = self._article(article_id)
            article.extra.append(body_suffix)
            article.modified = now()

    def add_comment(self, article_id: int, text: str, author: str = "Гость") -> int:
        """Add a top-level comment with the next site-wide comment id, and return that id."""
        with self._lock:
            article = self._article(article_id)
            comment_id, self._next_comment_id = self._next_comment_id, self._next_comment_id + 1
            # A fixed date a day after the story keeps records of the same site equal from run to run.
            posted = article.published + timedelta(days=1, minutes=len(article.comments))
            article.comments.append(Comment(comment_id, author, text, posted))
            article.modified = now()
            return comment_id

    def redesign(self) -> None:
        """A new theme, as a site's redesign brings: no view counter, comments loaded by a script the crawler does not run."""
        with self._lock:
            self._redesigned = True

    def add_feed_link(self, article_id: int, path: str) -> None:
        """List an article in the feed once more under another path (old category, tracking parameters)."""
        with self._lock:
            self._article(article_id)
            self._extra_links.append((article_id, path))

    def moved_target(self, path: str) -> str | None:
        """The canonical URL an old path of an article redirects to, or None."""
        match = MOVED_PATH.fullmatch(path)
        with self._lock:
            article = self._articles.get(int(match.group(1))) if match else None
            return self.base + article.path if article else None

    def _article(self, article_id: int) -> Article:
        if article_id not in self._articles:
            raise KeyError(f"no article {article_id}: this site has ids {FIRST_ID}..{FIRST_ID + self.pages - 1}")
        return self._articles[article_id]

    def article_page(self, path: str) -> tuple[bytes, datetime] | None:
        """The page at an article path and its Last-Modified, or None when no article has that path."""
        match = ARTICLE_PATH.fullmatch(path)
        with self._lock:
            article = self._articles.get(int(match.group(1))) if match else None
            if article is None:
                return None
            return article_html(article, self.base, self._redesigned).encode(), article.modified or article.published

    def feed(self) -> tuple[bytes, datetime]:
        """The RSS document and its Last-Modified. Edits and comments leave it unchanged, as they do in DLE."""
        with self._lock:
            articles = [self._articles[news_id] for news_id in reversed(self.ids)][: self.feed_items]
            extra = [(self._articles[news_id], path) for news_id, path in self._extra_links]
            return feed_xml(articles, self.base, extra).encode(), articles[0].published if articles else FIRST_PUBLISHED

    def archive(self, path: str) -> tuple[bytes, str] | None:
        """A backfill document (sitemap, listing, date archive, full-text feed) and its type, or None."""
        with self._lock:
            articles = [self._articles[news_id] for news_id in self.ids]
        xml = "application/xml; charset=utf-8"
        documents = {
            "/sitemap.xml": lambda: archives.sitemap_index(self.base),
            "/uploads/news_pages2.xml": lambda: archives.news_pages(articles, self.base, gzipped=False),
            "/uploads/category_pages.xml": lambda: archives.category_pages(self.base),
            "/uploads/static_pages.xml": lambda: archives.static_pages(self.base),
            "/google_news.xml": lambda: archives.google_news(articles, self.base, SITE_TITLE),
            "/rssturbo.xml": lambda: archives.turbo_feed(articles[::-1][: self.feed_items], self.base, SITE_TITLE),
        }
        if path == "/uploads/news_pages1.xml.gz":
            return archives.news_pages(articles, self.base, gzipped=True), "application/x-gzip"
        if path in documents:
            return documents[path](), xml
        page = self.listing(path, articles)
        return (page, HTML_TYPE) if page else None

    def listing(self, path: str, articles: list[Article]) -> bytes | None:
        """/ and /page/N/ (main page stories only), /news/ and /news/page/N/ (all), /YYYY/MM/DD/[page/N/]."""
        match = LISTING_PATH.fullmatch(path)
        if not match:
            return None
        root, page = match.group("root"), int(match.group("page") or 1)
        if root == "/":
            chosen = [a for a in articles if archives.on_main_page(a.id - FIRST_ID)]
        elif root == "/news/":
            chosen = articles
        else:
            day = datetime.strptime(root, "/%Y/%m/%d/").date()
            chosen = [a for a in articles if archives.day_of(a) == day]
        return archives.listing(chosen, page, root, SITE_TITLE, self.feed_link)

    def wp_posts(self, query: str) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            articles = [self._articles[news_id] for news_id in self.ids]
        return archives.wp_posts(articles, self.base, dict(parse_qsl(query)))

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Counts the article requests being answered, to see the crawler's concurrency from the server's side."""
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1

    def start(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.base = f"http://127.0.0.1:{server.server_port}"
        self._server = server
        # A short poll: shutdown() waits for it, and each crash test starts and stops a server.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, daemon=True).start()
        return server

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def serve_generated(pages: int = 300, delay: float = 0.0, **options: object) -> Iterator[GeneratedSite]:
    """A started site that is shut down however the block ends; options are GeneratedSite's fields."""
    site = GeneratedSite(pages, delay, **options)
    site.start()
    try:
        yield site
    finally:
        site.shutdown()


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def seeded_comment(news_id: int, published: datetime) -> Comment:
    posted = published + timedelta(minutes=30)
    return Comment(FIRST_COMMENT_ID + news_id - FIRST_ID, "Читатель", f"Спасибо за новость {news_id}!", posted)


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest() + '"'


def etag_matches(header: str | None, tag: str) -> bool:
    """If-None-Match uses weak comparison and may list several tags or be "*" (RFC 9110 §13.1.2)."""
    if not header:
        return False
    candidates = {part.strip().removeprefix("W/") for part in header.split(",")}
    return "*" in candidates or tag in candidates


def comment_date(when: datetime) -> str:
    local = when.astimezone(ALMATY)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} {local:%H:%M}"


def comment_html(comment: Comment) -> str:
    return f"""<li id="comments-tree-item-{comment.id}" class="comments-tree-item" ><div id='comment-id-{comment.id}'><div class="comment">
	<div class="comment__head">
		<span class="comment__author">{escape(comment.author)}</span>
		<span class="comment__date">{comment_date(comment.posted)}</span>
		<a href="#" class="comment__reply" onclick="dle_reply('{comment.id}', '0', '0'); return false;" title="Ответить"><i class="fa fa-reply"></i></a>
	</div>
	<div class="comment__text"><div id='comm-id-{comment.id}'>{escape(comment.text)}</div></div>
</div></div></li>"""


def head_html(article: Article, base: str) -> str:
    page_url = base + article.path
    return f"""<head>
	<meta charset="utf-8">
<title>{article.title} » {SITE_TITLE}</title>
<meta name="description" content="{escape(article.lead)}">
<meta name="generator" content="DataLife Engine (https://dle-news.ru)">
<meta property="og:site_name" content="{SITE_TITLE}">
<meta property="og:type" content="article">
<meta property="og:title" content="{article.title}">
<meta property="og:url" content="{page_url}">
<link rel="canonical" href="{page_url}">
<link rel="alternate" type="application/rss+xml" title="{SITE_TITLE}" href="{base}/rss.xml">
<script src="/engine/classes/min/index.php?g=general&amp;v=7b1a2"></script>
</head>"""


def story_html(article: Article, base: str, redesigned: bool = False) -> str:
    date_line = f"{article.published:%d.%m.%Y, %H:%M}"
    views = "" if redesigned else f'<li class="meta-views" title="Просмотров"><i class="fa fa-eye"></i> {100 + article.id % 900}</li>'
    body = "".join(f"<p>{escape(text)}</p>" for text in article.paragraphs())
    if article.scripted:
        body = f"<script>dle_load_story({article.id});</script>"
    return f"""<article class="full-story">
	<div class="speedbar"><span id="dle-speedbar"><span itemprop="itemListElement"><a href="{base}/" itemprop="item"><span itemprop="name">{SITE_TITLE}</span></a></span> » <span itemprop="itemListElement"><a href="{base}/news/" itemprop="item"><span itemprop="name">Новости</span></a></span> » {article.title}</span></div>
	<h1 class="full-story__title">{article.title}</h1>
	<ul class="full-story__meta">
		<li class="meta-date"><i class="fa fa-clock-o"></i> {date_line},</li>
		{views}
		<li class="meta-comments" title="Комментариев"><i class="fa fa-comment"></i> {len(article.comments)}</li>
		<li class="meta-author">Автор: <a onclick="ShowProfile('{AUTHOR}', '{base}/user/{AUTHOR}/', '0'); return false;" href="/user/{AUTHOR}/">{AUTHOR}</a></li>
	</ul>
	<div class="full-story__text">{body}</div>
</article>"""


def comments_html(article: Article) -> str:
    items = "".join(comment_html(comment) for comment in article.comments)
    return f"""<div class="comments">
	<form method="post" name="dlemasscomments" id="dlemasscomments"><div id="dle-comments-list">
<div id="comment"></div><ol class="comments-tree-list">{items}</ol>
<div id="dle-ajax-comments"></div>
</div></form>
</div>"""


def article_html(article: Article, base: str, redesigned: bool = False) -> str:
    comments = f'<div id="comments-widget" data-news="{article.id}"></div>' if redesigned else comments_html(article)
    return f"""<!DOCTYPE html>
<html lang="ru">
{head_html(article, base)}
<body>
<script>
<!--
var dle_root       = '/';
var dle_skin       = 'Turan';
//-->
</script>
<div class="page"><main class="content">
<div id='dle-content'>{story_html(article, base, redesigned)}
{comments}
</div>
</main></div>
</body>
</html>
"""


def feed_item(article: Article, base: str, path: str | None = None) -> str:
    link = base + (path or article.path)
    return f"""<item>
<title>{article.title}</title>
<guid isPermaLink="true">{link}</guid>
<link>{link}</link>
<dc:creator>{AUTHOR}</dc:creator>
<pubDate>{format_datetime(article.published)}</pubDate>
<category><![CDATA[Новости]]></category>
<description><![CDATA[{article.lead}]]></description>
</item>"""


def feed_xml(articles: list[Article], base: str, extra: list[tuple[Article, str]] = ()) -> str:
    items = "".join(feed_item(article, base) for article in articles)
    items += "".join(feed_item(article, base, escape(path)) for article, path in extra)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{SITE_TITLE}</title>
<link>{base}/</link>
<atom:link href="{base}/rss.xml" rel="self" type="application/rss+xml" />
<language>ru</language>
<description>{SITE_TITLE}</description>
<generator>DataLife Engine</generator>{items}</channel></rss>
"""


def _handler(site: GeneratedSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.log(self.path)  # on arrival, so requests cut off by a killed crawl are logged too
            path = urlsplit(self.path).path
            if path == "/rss.xml":
                self.send_feed()
            elif path == "/robots.txt":
                robots = archives.robots(site.base) if site.archives else ROBOTS
                self.send(200, robots, {"Content-Type": "text/plain; charset=utf-8"})
            elif ARTICLE_PATH.fullmatch(path):
                self.send_article(path)
            elif site.archives and path == "/wp-json/wp/v2/posts":
                status, body, headers = site.wp_posts(urlsplit(self.path).query)
                self.send(status, body, headers)
            elif site.archives and (document := site.archive(unquote(path))):
                self.send(200, document[0], {"Content-Type": document[1]})
            elif target := site.moved_target(path):
                self.send(301, b"", {"Location": target, "Content-Type": HTML_TYPE})
            else:
                self.send(404, b"<h1>404 Not Found</h1>", {"Content-Type": HTML_TYPE})

        def send_feed(self) -> None:
            body, modified = site.feed()
            tag = etag(body)
            headers = {"ETag": tag, "Last-Modified": http_date(modified)}
            if etag_matches(self.headers.get("If-None-Match"), tag):
                self.send(304, b"", headers)
            else:
                self.send(200, body, {"Content-Type": "application/rss+xml; charset=utf-8", **headers})

        def send_article(self, path: str) -> None:
            with site.answering():
                time.sleep(site.delay)  # in this request's own thread: other requests are not held up
            page = site.article_page(path)
            if page is None:
                self.send(404, b"<h1>404 Not Found</h1>", {"Content-Type": HTML_TYPE})
                return
            body, modified = page
            self.send(200, body, {"Content-Type": HTML_TYPE, "Last-Modified": http_date(modified)})

        def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler was killed mid-request, which is what crash tests do

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.generated_site 300 0.02`: serve a generated site until Ctrl-C, to try the crawler by hand."""
    args = sys.argv[1:] if argv is None else argv
    pages = int(args[0]) if args else 300
    delay = float(args[1]) if len(args) > 1 else 0.0
    with serve_generated(pages, delay) as site:
        print(f"serving {pages} generated DLE articles at {site.base}/ (feed {site.url('/rss.xml')}); Ctrl-C to stop",
              flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
