"""Scrapy's MemoryUsage, closing the spider once: the stock extension asks again at every check until the engine
stops, and each late request fails with "Spider not opened" (a traceback at the end of a run that closed cleanly).

With MEMUSAGE_LIMIT_MB set, a run past the limit ends with finish_reason memusage_exceeded: in-flight pages are
finished and stored, the URLs not yet fetched stay due in the state store, and the same command resumes them
(reliability.md §A.5 test 30). The CLI exits 1 ("did not finish").
"""

from __future__ import annotations

from scrapy.extensions.memusage import MemoryUsage


class MemoryLimit(MemoryUsage):
    def _check_limit(self) -> None:
        if self._stats.get_value("memusage/limit_reached"):
            return
        super()._check_limit()
