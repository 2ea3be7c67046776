"""A fixture site served on 127.0.0.1: files from fixtures/sites/<name>/, with the site's placeholder base URL
rewritten to the server's own address, and a log of every request for tests to assert on."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SITES = Path(__file__).resolve().parent.parent / "fixtures" / "sites"
STATUS_PREFIX = "/__status/"  # /__status/503/any/path answers 503: a page that always fails
CONTENT_TYPES = {
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
NOT_SERVED = ("expected", "README.md", "site.json")
# newscrawler refuses loopback addresses (SSRF guard); every test crawl of a 127.0.0.1 server passes this.
ALLOW_LOOPBACK = ("-s", "NEWSCRAWLER_ALLOWED_ADDRESSES=127.0.0.1")


@dataclass
class SiteServer:
    name: str
    base: str = ""
    requests: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return SITES / self.name

    @property
    def placeholder(self) -> str:
        return json.loads((self.root / "site.json").read_text(encoding="utf-8"))["base"]

    def url(self, path: str) -> str:
        return self.base + path

    def body(self, path: str) -> bytes | None:
        relative = unquote(urlsplit(path).path).lstrip("/")
        target = (self.root / relative).resolve()
        if not target.is_file() or self.root not in target.parents or relative.startswith(NOT_SERVED):
            return None
        return target.read_bytes().replace(self.placeholder.encode(), self.base.encode())

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
            self.send_header("Content-Type", CONTENT_TYPES.get(Path(urlsplit(self.path).path).suffix, "text/html; charset=utf-8"))
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
