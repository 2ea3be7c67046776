"""A local HTTP server that misbehaves on purpose, for the reliability and security crawls (reliability.md §A.5).

Each path says what it does, so one server plays every hostile or broken site a test needs:

| path | answer |
|---|---|
| `/rss.xml` | an RSS feed of `server.feed` (URLs set by the test) |
| `/news/<slug>.html` | a good article page |
| `/flaky/<n>/<slug>.html` | 500 for the first n requests, then the article |
| `/status/<code>/<slug>.html?retry_after=S` | always `code`, with `Retry-After: S` when given |
| `/silent/<slug>.html` | accepts the connection, never answers |
| `/slow/<slug>.html` | headers at once, then the article one byte a second |
| `/truncated/<slug>.html` | `Content-Length` of the whole article, half of it sent, connection closed |
| `/bomb/gzip/<slug>.html`, `/bomb/deflate/...`, `/bomb/br/...` | 1 GiB of zeros, gzip or deflate (1 MiB on the wire), brotli |
| `/huge/declared/<slug>.html`, `/huge/streamed/...` | a 50 MiB page, with `Content-Length` or close-delimited |
| `/redirect?to=URL` | 302 to URL |
| `/loop/a/<slug>.html` ⇄ `/loop/b/<slug>.html` | a 302 loop |
| `/chain/<n>/<slug>.html` | 302 to `/chain/<n-1>/...`; `/chain/0/...` is the article |
| `/refresh/a/<slug>.html` ⇄ `/refresh/b/<slug>.html` | a loop of `<meta http-equiv=refresh>` pages |

Every request is logged with its arrival time (`hits`), and the bytes sent per path (`sent`), for assertions.
robots.txt is `robots` (bytes: 200 with that body; int: that status).
"""

from __future__ import annotations

import functools
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MIB = 1 << 20
ROBOTS_ALLOW_ALL = b"User-agent: *\nAllow: /\n"
HUGE_BYTES = 50 * MIB
BOMB_BYTES = 1024 * MIB


@dataclass(frozen=True)
class Hit:
    path: str
    time: float  # time.monotonic() when the connection was accepted


def article_html(slug: str) -> bytes:
    """A plain news page the generic extractor reads: title, date, three paragraphs that name the slug."""
    paragraphs = "".join(
        f"<p>Paragraph {n} of the story {escape(slug)}: the city council met on Tuesday and agreed on the budget "
        f"for the new school, the bridge repairs and the bus routes that residents asked for last spring.</p>"
        for n in (1, 2, 3)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Story {escape(slug)}</title>"
        f'<meta property="og:title" content="Story {escape(slug)}">'
        '<meta property="article:published_time" content="2024-05-14T09:30:00+00:00">'
        f"</head><body><article><h1>Story {escape(slug)}</h1>{paragraphs}</article></body></html>"
    ).encode()


def rss(urls: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Item {n}</title><link>{escape(url)}</link><guid>{escape(url)}</guid>"
        "<pubDate>Tue, 14 May 2024 09:30:00 +0000</pubDate></item>"
        for n, url in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
        f"<link>http://127.0.0.1/</link><description>test</description>{items}</channel></rss>"
    ).encode()


@functools.cache
def _deflated_zeros() -> bytes:
    """1 GiB of zeros as a raw deflate stream of about 1 MiB, built from a repeated full-flush block (compressing
    the GiB itself takes 7 s): after a full flush the compressor starts afresh, so every further MiB is the same."""
    chunk = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    return first + block * (BOMB_BYTES // MIB - 1) + deflate.flush(zlib.Z_FINISH)


def _checksum(function: Callable[[bytes, int], int], start: int) -> int:
    value, chunk = start, bytes(MIB)
    for _ in range(BOMB_BYTES // MIB):
        value = function(chunk, value)
    return value


@functools.cache
def gzip_bomb() -> bytes:
    """1 GiB of zeros, one valid gzip member."""
    trailer = struct.pack("<II", _checksum(zlib.crc32, 0), BOMB_BYTES & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + _deflated_zeros() + trailer


@functools.cache
def deflate_bomb() -> bytes:
    """1 GiB of zeros, HTTP `deflate` (a zlib stream)."""
    return b"\x78\xda" + _deflated_zeros() + struct.pack(">I", _checksum(zlib.adler32, 1))


@functools.cache
def brotli_bomb() -> bytes:
    import brotli

    compressor = brotli.Compressor(quality=5)
    chunk = bytes(MIB)
    return b"".join(compressor.process(chunk) for _ in range(BOMB_BYTES // MIB)) + compressor.finish()


@dataclass
class HostileServer:
    host: str = "127.0.0.1"
    port: int = 0
    robots: bytes | int = ROBOTS_ALLOW_ALL
    feed: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)
    stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [hit.path for hit in self.hits]

    def times(self, prefix: str = "/") -> list[float]:
        return [hit.time for hit in self.hits if hit.path.startswith(prefix)]

    @contextmanager
    def running(self) -> Iterator[HostileServer]:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server = _Server((self.host, self.port), _handler(self), family)
        self.port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            server.shutdown()
            server.server_close()


class _Server(ThreadingHTTPServer):
    """Stamps each connection when it is accepted, in the serving thread: the request's arrival time, free of the
    jitter of starting its handler thread (politeness tests compare these to a fraction of a second)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], family: int) -> None:
        self.address_family = family
        self.accepted: dict[int, float] = {}
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.accepted[request.fileno()] = time.monotonic()
        super().process_request(request, client_address)


def _handler(site: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            arrived = self.server.accepted.pop(self.connection.fileno(), None)  # type: ignore[attr-defined]
            site.hits.append(Hit(self.path, arrived or time.monotonic()))
            parts = urlsplit(self.path)
            head, _, rest = parts.path.lstrip("/").partition("/")
            route = ROUTES.get(head)
            try:
                if route is None:
                    self.send_error(404)
                else:
                    route(self, rest, parse_qs(parts.query))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the crawler hung up: that is what most of these paths are for

        def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body)), **(headers or {})}
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.write(body)

        def write(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()
            site.sent[urlsplit(self.path).path] += len(data)

        def robots(self, rest: str, query: dict[str, list[str]]) -> None:
            if isinstance(site.robots, int):
                self.send_error(site.robots)
            else:
                self.reply(200, site.robots, {"Content-Type": "text/plain"})

        def feed(self, rest: str, query: dict[str, list[str]]) -> None:
            self.reply(200, rss(site.feed), {"Content-Type": "application/rss+xml; charset=utf-8"})

        def news(self, rest: str, query: dict[str, list[str]]) -> None:
            self.reply(200, article_html(rest))

        def flaky(self, rest: str, query: dict[str, list[str]]) -> None:
            failures, _, slug = rest.partition("/")
            if site.paths().count(self.path) <= int(failures):
                self.send_error(500)
            else:
                self.reply(200, article_html(slug))

        def status(self, rest: str, query: dict[str, list[str]]) -> None:
            code, _, slug = rest.partition("/")
            headers = {"Retry-After": query["retry_after"][0]} if "retry_after" in query else {}
            self.reply(int(code), b"<html><body>try later</body></html>", headers)

        def silent(self, rest: str, query: dict[str, list[str]]) -> None:
            site.stopping.wait()

        def slow(self, rest: str, query: dict[str, list[str]]) -> None:
            body = article_html(rest)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for byte in body:
                if site.stopping.wait(1.0):
                    return
                self.write(bytes([byte]))

        def truncated(self, rest: str, query: dict[str, list[str]]) -> None:
            body = article_html(rest)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.write(body[: len(body) // 2])
            self.close_connection = True

        def bomb(self, rest: str, query: dict[str, list[str]]) -> None:
            encoding, _, _slug = rest.partition("/")
            body = {"gzip": gzip_bomb, "deflate": deflate_bomb, "br": brotli_bomb}[encoding]()
            self.reply(200, body, {"Content-Encoding": encoding})

        def huge(self, rest: str, query: dict[str, list[str]]) -> None:
            declared = rest.startswith("declared/")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if declared:
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            line = b"<p>" + b"x" * 1017 + b"</p>\n"  # 1 KiB
            for _ in range(HUGE_BYTES // len(line)):
                self.write(line * 1)
            self.close_connection = True

        def redirect(self, rest: str, query: dict[str, list[str]]) -> None:
            self.reply(302, b"", {"Location": query["to"][0]})

        def loop(self, rest: str, query: dict[str, list[str]]) -> None:
            side, _, slug = rest.partition("/")
            self.reply(302, b"", {"Location": f"/loop/{'b' if side == 'a' else 'a'}/{slug}"})

        def refresh(self, rest: str, query: dict[str, list[str]]) -> None:
            side, _, slug = rest.partition("/")
            target = f"/refresh/{'b' if side == 'a' else 'a'}/{slug}"
            self.reply(200, f'<html><head><meta http-equiv="refresh" content="0; url={target}"></head></html>'.encode())

        def chain(self, rest: str, query: dict[str, list[str]]) -> None:
            left, _, slug = rest.partition("/")
            if int(left) == 0:
                self.reply(200, article_html(slug))
            else:
                self.reply(302, b"", {"Location": f"/chain/{int(left) - 1}/{slug}"})

        def log_message(self, *args: object) -> None:
            pass

    ROUTES = {
        "robots.txt": Handler.robots, "rss.xml": Handler.feed, "news": Handler.news, "flaky": Handler.flaky,
        "status": Handler.status, "silent": Handler.silent, "slow": Handler.slow, "truncated": Handler.truncated,
        "bomb": Handler.bomb, "huge": Handler.huge, "redirect": Handler.redirect, "loop": Handler.loop,
        "chain": Handler.chain, "refresh": Handler.refresh,
    }
    return Handler
