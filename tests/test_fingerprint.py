"""Near-duplicate detection: measured separation on the fixture sites, and the crawl marking a syndicated copy."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

from newscrawler.fingerprint import NEAR_DUPLICATE_JACCARD, signature, similarity
from tests.fixture_cases import CASES, read_json
from tests.site_server import SiteServer
from tests.test_crawl import FAST, read_jsonl

BIN = Path(sys.executable).parent
SYNDICATED = Path(__file__).resolve().parent.parent / "fixtures" / "sites" / "syndicate" / "news" / "most-cherez-bukpu.html"
ORIGINAL = "12352-v-karagande-otkryli-dvizhenie-po-mostu-cherez-reku-bukpa"


def syndicated_body() -> str:
    from newscrawler.extract import extract

    return extract(SYNDICATED.read_text(encoding="utf-8"), "http://syndicate.test/news/most-cherez-bukpu.html").body


def test_the_threshold_separates_distinct_articles_from_a_syndicated_copy() -> None:
    bodies = {case.stem: read_json(case)["body"] for case in CASES if read_json(case)["title"]}
    signatures = {stem: values for stem, body in bodies.items() if (values := signature(body))}
    distinct = max(similarity(a, b) for a, b in itertools.combinations(signatures.values(), 2))
    copy = similarity(signature(syndicated_body()), signatures[ORIGINAL])
    assert distinct < 0.2 < NEAR_DUPLICATE_JACCARD < copy, (distinct, copy)


def test_short_bodies_have_no_fingerprint() -> None:
    assert signature("Коротко.") is None
    assert signature(None) is None


def test_a_crawl_stores_the_syndicated_copy_with_duplicate_of_the_original(
    dle_site: SiteServer, syndicate_site: SiteServer, tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "state"), "--tz", "Asia/Almaty", *FAST]
    for site, feed in ((dle_site, "/rss.xml"), (syndicate_site, "/rss.xml")):
        result = subprocess.run([str(BIN / "newscrawler"), "crawl", site.url(feed), "-o", str(tmp_path / "all.jsonl"), *state],
                                capture_output=True, text=True, timeout=180)
        assert result.returncode in (0, 4), result.stderr[-2000:]  # dle-kz has its two expected failures
    records = {r["url"].rsplit("/", 1)[-1]: r for r in read_jsonl(tmp_path / "all.jsonl")}
    assert records["most-cherez-bukpu.html"]["duplicate_of"] == records[f"{ORIGINAL}.html"]["id"]
    assert records["vystavka-v-pavlodare.html"]["duplicate_of"] is None
    assert [r for r in records.values() if r["duplicate_of"]] == [records["most-cherez-bukpu.html"]]


def test_signatures_are_datasketch_s_minhash_so_stored_ones_stay_comparable() -> None:
    """fingerprint.signature is datasketch's MinHash (affine32, seed 1, CRC-32 of each UTF-8 shingle) without
    datasketch; stores hold signatures that datasketch computed."""
    import random
    import zlib

    from datasketch import MinHash

    from newscrawler.fingerprint import PERMUTATIONS, SHINGLE_WORDS, _WORD

    def datasketch_signature(text: str) -> list[int]:
        words = _WORD.findall(text.lower())
        shingles = {" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8") for i in range(len(words) - SHINGLE_WORDS + 1)}
        minhash = MinHash(num_perm=PERMUTATIONS, seed=1, hashfunc=zlib.crc32, scheme="affine32")
        minhash.update_batch(list(shingles))
        return [int(value) for value in minhash.hashvalues]

    vocabulary = ["Алматы", "сегодня", "ёлка", "Қазақстан", "news", "Überweg", "2024", "日本", "x_1", "a"]
    generator = random.Random(7)
    texts = [syndicated_body(), *(read_json(case)["body"] or "" for case in CASES)]
    texts += [" ".join(generator.choice(vocabulary) + str(generator.randrange(40)) for _ in range(generator.randrange(20, 300)))
              for _ in range(50)]
    compared = [(values, datasketch_signature(text)) for text in texts if (values := signature(text)) is not None]
    assert len(compared) > 40
    assert all(ours == theirs for ours, theirs in compared)
