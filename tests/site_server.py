"""A fixture site served on 127.0.0.1: files from fixtures/sites/<name>/, with the site's placeholder base URL
rewritten to the server's own address, and a log of every request for tests to assert on.

A site's `site.json` may map requests with a query (`/engine/ajax/controller.php?mod=comments&...`, wp-json routes)
to files, with extra headers: `"routes": {"/path?a=1&b=2": {"file": "x.json", "headers": {...}}}` (the query
matches whatever its parameters' order). A served copy can be re-encoded (a windows-1251 or KOI8-R copy of a UTF-8
site, as an old install serves it) and switched to an overlay directory (the site as it is later).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
STATUS_PREFIX = "/__status/"  # /__status/503/any/path answers 503: a page that always fails
CONTENT_TYPES = {
    ".png": "image/png",
    ".html": "text/html",
    ".xml": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/json",
    ".txt": "text/plain",
}
TEXT_SUFFIXES = (".html", ".xml", ".atom")
NOT_SERVED = ("expected", "README.md", "site.json", "_later", "generate.py")
# newscrawler refuses loopback addresses (SSRF guard); every test crawl of a 127.0.0.1 server passes this.
ALLOW_LOOPBACK = ("-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1")
LATER = "_later"  # the overlay: files that replace or add to the site once `later` is set
META_CHARSET = re.compile(rb'<meta charset="utf-8">', re.I)
XML_DECLARATION = re.compile(rb'<\?xml version="1.0" encoding="UTF-8"\?>', re.I)
JSON_LD = re.compile(r'(<script type="application/ld\+json">)(.*?)(</script>)', re.S)


@dataclass(frozen=True)
class Charset:
    """How a copy of the site is served: its bytes' encoding, what the Content-Type header and the document say.

    Characters the encoding lacks (Kazakh letters, emoji) become numeric references, as DLE stores them on a
    windows-1251 install (JSON `\\u` escapes inside JSON-LD).
    """

    encoding: str = "utf-8"
    header: str | None = "utf-8"  # None: Content-Type without a charset
    declared: str | None = "utf-8"  # <meta charset> and the XML declaration's encoding; None: left out

    def encode(self, text: str) -> bytes:
        text = JSON_LD.sub(lambda m: m.group(1) + self._json_escaped(m.group(2)) + m.group(3), text)
        data = text.encode(self.encoding, errors="xmlcharrefreplace")
        meta = f'<meta charset="{self.declared}">'.encode() if self.declared else b""
        declaration = f'<?xml version="1.0" encoding="{self.declared}"?>' if self.declared else '<?xml version="1.0"?>'
        return XML_DECLARATION.sub(declaration.encode(), META_CHARSET.sub(meta, data, count=1), count=1)

    def _json_escaped(self, text: str) -> str:
        def escape(char: str) -> str:
            data = char.encode("utf-16-be")
            return "".join(f"\\u{int.from_bytes(data[i:i + 2], 'big'):04x}" for i in range(0, len(data), 2))
        return "".join(char if self._encodable(char) else escape(char) for char in text)

    def _encodable(self, char: str) -> bool:
        try:
            char.encode(self.encoding)
        except UnicodeEncodeError:
            return False
        return True


UTF8 = Charset()


@dataclass
class SiteServer:
    name: str
    charset: Charset = UTF8
    feed_charset: Charset | None = None  # for .xml and .atom files, when not `charset`
    base: str = ""
    later: bool = False  # serve the overlay (fixtures/sites/<name>/_later/) over the site's files
    requests: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return SITES / self.name

    @property
    def config(self) -> dict:
        return json.loads((self.root / "site.json").read_text(encoding="utf-8"))

    @property
    def placeholder(self) -> str:
        return self.config["base"]

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str) -> tuple[str, dict[str, str]]:
        """The file a request is answered with (relative to the site), and the extra headers of its route."""
        parts = urlsplit(path)
        wanted = (parts.path, sorted(parse_qsl(parts.query, keep_blank_values=True)))
        for pattern, target in self.config.get("routes", {}).items():
            route = urlsplit(pattern)
            if (route.path, sorted(parse_qsl(route.query, keep_blank_values=True))) == wanted:
                return target["file"], target.get("headers", {})
        relative = unquote(parts.path).lstrip("/")
        return (relative + "index.html" if relative.endswith("/") or not relative else relative), {}

    def file(self, relative: str) -> Path | None:
        for root in ([self.root / LATER] if self.later else []) + [self.root]:
            target = (root / relative).resolve()
            if target.is_file() and root.resolve() in target.parents and not relative.startswith(NOT_SERVED):
                return target
        return None

    def body(self, path: str) -> bytes | None:
        target = self.file(self.route(path)[0])
        if target is None:
            return None
        data = target.read_bytes().replace(self.placeholder.encode(), self.base.encode())
        charset = self.charset_of(target.suffix)
        return charset.encode(data.decode("utf-8")) if charset != UTF8 else data

    def charset_of(self, suffix: str) -> Charset:
        if suffix not in TEXT_SUFFIXES:
            return UTF8
        return self.feed_charset if self.feed_charset and suffix != ".html" else self.charset

    def content_type(self, path: str) -> str:
        suffix = Path(self.route(path)[0]).suffix
        kind = CONTENT_TYPES.get(suffix, "text/html")
        header = self.charset_of(suffix).header
        return f"{kind}; charset={header}" if header and not kind.startswith("image/") else kind

    def start(self) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.base = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def _handler(site: SiteServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append(self.path)
            if self.path.startswith(STATUS_PREFIX):
                self.send_error(int(self.path.removeprefix(STATUS_PREFIX).split("/", 1)[0]))
                return
            body = site.body(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", site.content_type(self.path))
            for name, value in site.route(self.path)[1].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def main() -> None:
    """`python -m tests.site_server dle-kz`: serve a fixture site until Ctrl-C, to try the crawler by hand."""
    import sys
    import time

    site = SiteServer(sys.argv[1] if len(sys.argv) > 1 else "dle-kz")
    server = site.start()
    print(f"serving fixtures/sites/{site.name} at {site.base}/ (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
