"""Language of a text (ISO 639-1) with py3langid, which tells Kazakh from Russian."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

SAMPLE_CHARS = 400  # a paragraph or two gives a stable answer; classification cost grows with length
MIN_CHARS = 20


def detect_language(text: str | None) -> str | None:
    """None for text too short to judge; the model is loaded once, on first use."""
    if not text or len(text.strip()) < MIN_CHARS:
        return None
    language, _ = identifier().classify(text[:SAMPLE_CHARS])
    return language


@cache
def identifier() -> LanguageIdentifier:
    """py3langid's model with its feature table in float32, not float16: NumPy converts the float16 rows a text hits
    on every call, in software (0.24 of the 0.49 ms a body took). The same scores, for 28 MB more memory a process that loads
    it; forked workers share it with the forkserver that loaded it (newscrawler.preload)."""
    import numpy as np  # on first use: it and py3langid cost a crawl process that leaves extraction to its workers 0.08 s
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE)
    return LanguageIdentifier(
        model.nb_ptc.astype(np.float32), model.nb_pc, model.nb_classes, model.tk_nextmove, model.tk_output,
        tk_row=model.tk_row,
    )
