"""Imported by the forkserver that forks the extraction workers (workers.PRELOAD), once a crawl.

Loading the extraction stack and unpacking py3langid's model cost a worker 0.5 s of CPU before its first page.
Loaded here, in the forkserver, it is done once however many workers there are, while the crawl process is still
starting Scrapy (the CLI starts the forkserver first thing, workers.start_forkserver), and every worker forked
later has it at once, in memory pages it shares with the others.
"""

from newscrawler.extract import extract  # noqa: F401 - imported for the workers
from newscrawler.extract.language import detect_language
from newscrawler.fingerprint import signature

detect_language("Прогрев модели определения языка перед первой страницей.")
signature(" ".join(f"слово{number}" for number in range(30)))  # imports NumPy and draws the permutations
