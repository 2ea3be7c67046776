"""What the charset check costs per page, against Scrapy's own decoding of the same bytes (`response.text`).

`python benchmarks/charset.py [--repeat 200]`: a 60 KB DLE article page (the fixture seed page, its story repeated)
as UTF-8 (the common case: one strict UTF-8 decode), as windows-1251 declared right, as windows-1251 sent with
`charset=utf-8` (the fix-up), and as KOI8-R declaring nothing (detection by charset-normalizer).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from scrapy.http import HtmlResponse

from newscrawler.charset import decide

SEED = Path(__file__).resolve().parent.parent / "fixtures/sites/dle-kz/regions/12345-44-inostrannyh-smi-posetili-shtab-tokaeva.html"
TARGET_BYTES = 60_000


def page() -> str:
    """The seed page with its paragraphs repeated to about 60 KB of UTF-8, like a real article page."""
    text = SEED.read_text(encoding="utf-8")
    paragraphs = re.findall(r"<p>.*?</p>", text, re.S)
    filler = "\n".join(paragraphs)
    while len(text.encode()) < TARGET_BYTES:
        text = text.replace("</article>", filler + "</article>", 1)
    return text


def timed(repeat: int, work) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        work()
    return (time.perf_counter() - start) / repeat * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    markup = page()
    cases = {
        "utf-8, declared": (markup.encode(), "text/html; charset=utf-8"),
        "windows-1251, declared": (markup.replace('charset="utf-8"', 'charset="windows-1251"').encode("cp1251", "xmlcharrefreplace"), "text/html; charset=windows-1251"),
        "windows-1251 sent as utf-8": (markup.replace('charset="utf-8"', 'charset="windows-1251"').encode("cp1251", "xmlcharrefreplace"), "text/html; charset=utf-8"),
        "koi8-r, undeclared": (markup.replace('<meta charset="utf-8">', "").encode("koi8-r", "xmlcharrefreplace"), "text/html"),
    }
    print(f"{'page (' + str(len(markup.encode()) // 1000) + ' KB)':<30}{'decide() ms':>12}{'Scrapy .text ms':>17}{'ratio':>8}  result")
    for name, (body, content_type) in cases.items():
        ours = timed(args.repeat, lambda: decide(body, content_type))
        scrapy = timed(args.repeat, lambda: HtmlResponse("http://127.0.0.1/", body=body, headers={"Content-Type": content_type}).text)
        decoding = decide(body, content_type)
        result = decoding.encoding + (f" (fixed from {decoding.declared})" if decoding.declared else "")
        print(f"{name:<30}{ours:>12.3f}{scrapy:>17.3f}{ours / scrapy:>8.2f}  {result}")


if __name__ == "__main__":
    main()
