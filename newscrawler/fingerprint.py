"""Near-duplicate fingerprints: MinHash over word 5-shingles of the body, banded for lookup in SQL.

Shingles are hashed with CRC-32: stable across processes and runs (the signatures live in the store), and ten
times cheaper than SHA-1 for the 32 bits MinHash uses.

The MinHash is datasketch's (2.x, scheme "affine32", seed 1, 64 permutations), computed here in a few lines of NumPy
so that its signatures, already in stores, stay the same: importing datasketch pulls in SciPy, 0.37 s of CPU in
every worker process of every crawl, and its per-sketch checks cost 0.06 ms a body (tests/test_fingerprint.py
compares the two).

A wire story re-published with a new headline or an extra paragraph keeps most of its 5-word shingles, so the
Jaccard similarity of the two bodies stays high while different stories on one site share almost none.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from functools import cache
from types import EllipsisType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from newscrawler.items import Article

SHINGLE_WORDS = 5
PERMUTATIONS = 64
ROWS_PER_BAND = 4  # 16 bands of 4: two bodies become candidates from a Jaccard similarity of about 0.5 up
# Measured on the fixture sites (tests/test_fingerprint.py): 171 pairs of distinct articles estimate 0.0 at most;
# the syndicated copy (new headline, one paragraph added) estimates 0.844 (exact Jaccard 0.843).
NEAR_DUPLICATE_JACCARD = 0.7
MIN_SHINGLES = 20  # shorter bodies say too little to call two articles the same
_WORD = re.compile(r"\w+")


def signature(text: str | None) -> list[int] | None:
    """The body's MinHash signature, or None when it is too short to compare."""
    words = [word.encode("utf-8") for word in _WORD.findall((text or "").lower())]
    # b" ".join of UTF-8 words is the UTF-8 of the " "-joined shingle: the bytes CRC-32 has always been given
    shingles = set(map(b" ".join, zip(*(words[start:] for start in range(SHINGLE_WORDS)))))
    if len(shingles) < MIN_SHINGLES:
        return None
    import numpy as np  # here: the crawl process, when its workers sign the bodies, never needs NumPy (0.06 s)

    hashes = np.fromiter(map(zlib.crc32, shingles), dtype=np.uint32, count=len(shingles)).reshape(-1, 1)
    multipliers, offsets = _permutations()
    return (_fmix32(hashes) * multipliers + offsets).min(axis=0).tolist()


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch's affine32 scheme applies before the permutations (in place)."""
    import numpy as np

    values ^= values >> np.uint32(16)
    values *= np.uint32(0x85EBCA6B)
    values ^= values >> np.uint32(13)
    values *= np.uint32(0xC2B2AE35)
    values ^= values >> np.uint32(16)
    return values


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The odd multipliers and the offsets of datasketch's affine32 permutations for seed 1, drawn as it draws them;
    wrapping uint32 arithmetic is its modulo 2^32."""
    import numpy as np

    generator = np.random.RandomState(1)
    multipliers = generator.randint(0, 1 << 31, PERMUTATIONS, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    offsets = generator.randint(0, 1 << 32, PERMUTATIONS, dtype=np.uint32)
    return multipliers, offsets


def band_keys(values: list[int]) -> list[str]:
    """One key per band of the signature: bodies that share a key are compared."""
    keys = []
    for start in range(0, len(values), ROWS_PER_BAND):
        band = ",".join(map(str, values[start : start + ROWS_PER_BAND]))
        keys.append(f"{start // ROWS_PER_BAND}:{hashlib.blake2b(band.encode(), digest_size=8).hexdigest()}")
    return keys


def similarity(first: list[int], second: list[int]) -> float:
    """The estimated Jaccard similarity of two bodies' shingle sets."""
    return sum(a == b for a, b in zip(first, second)) / len(first)


def signed_extract(
    body: bytes, encoding: str, *args: Any, sign: bool = True, **kwargs: Any
) -> tuple[Article, list[int] | None | EllipsisType]:
    """extract() and, unless `sign` is false, the body's signature, for a worker process; `...` for a body left for
    the store to sign (SQLState.store).

    The page comes as the response's bytes: pickling 60 KB of text for the worker cost the crawl process 0.07 ms a
    page, the bytes next to nothing.
    """
    from newscrawler.extract import extract
    from newscrawler.extract.page import utf8_source

    record = extract(utf8_source(body, encoding), *args, **kwargs)
    return record, signature(record.body) if sign else ...
