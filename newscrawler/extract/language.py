"""Language of a text (ISO 639-1) with py3langid, which tells Kazakh from Russian."""

from __future__ import annotations

SAMPLE_CHARS = 400  # a paragraph or two gives a stable answer; classification cost grows with length
MIN_CHARS = 20


def detect_language(text: str | None) -> str | None:
    """None for text too short to judge; py3langid loads its model once, on first use."""
    if not text or len(text.strip()) < MIN_CHARS:
        return None
    import py3langid  # on first use: it and NumPy cost a crawl process that leaves extraction to its workers 0.08 s

    language, _ = py3langid.classify(text[:SAMPLE_CHARS])
    return language
