"""Every Scrapy setting newscrawler changes, each with its reason."""

from newscrawler.urls import TRACKING_PARAMS

BOT_NAME = "newscrawler"
SPIDER_MODULES = ["newscrawler.spiders"]
NEWSPIDER_MODULE = "newscrawler.spiders"

# Say who we are: news sites block anonymous bots first.
USER_AGENT = "newscrawler/0.1 (+https://github.com/newscrawler/newscrawler)"
ROBOTSTXT_OBEY = True

# Politeness: a few requests at a time per site, with a small delay (Scrapy jitters it by ±50 %).
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25

# News pages are small: a slow or huge response is a problem, not an article.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 2

# An article page yields one record: Scrapy's default of 100 item workers per response costs 100 asyncio tasks
# per page (measured: a third of the crawl's CPU at 2 000 pages) and buys nothing.
CONCURRENT_ITEMS = 4

# Records are UTF-8 JSON lines with sorted keys; failures go beside them.
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORTERS = {
    "jsonlines": "newscrawler.exporters.RecordExporter",
    "jsonl": "newscrawler.exporters.RecordExporter",
    "jl": "newscrawler.exporters.RecordExporter",
}

ITEM_PIPELINES = {
    "newscrawler.pipelines.validate.ValidatePipeline": 100,
    "newscrawler.pipelines.dedup.DedupPipeline": 200,
    "newscrawler.pipelines.store.StorePipeline": 300,
}
NEWSCRAWLER_VALIDATE_ENABLED = True
NEWSCRAWLER_DEDUP_ENABLED = True

# Durable state: URL states and record versions in SQLite; the JSONL output is derived from it.
NEWSCRAWLER_STORE_ENABLED = True
NEWSCRAWLER_STATE = ".newscrawler"  # the state directory (`--state DIR`)
NEWSCRAWLER_OUTPUT = None  # JSONL file kept level with the store (`-o`/`-O`); `scrapy crawl -O` uses Scrapy's FEEDS
NEWSCRAWLER_OUTPUT_OVERWRITE = False  # `-O`: rewrite the file from the store
NEWSCRAWLER_EXPORT_BATCH = 50  # records a commit of the store and an fsync of the JSONL; a killed run refetches at most these
NEWSCRAWLER_COMMIT_SECONDS = 1.0  # the longest a stored record waits for its commit when pages come slowly
NEWSCRAWLER_RECRAWL_DAYS = 3.0  # articles younger than this are re-fetched on a backing-off schedule
NEWSCRAWLER_RECRAWL_DAYS_BY_SITE: dict[str, float] = {}  # per site name (sources.toml recrawl_days); set by the spider
NEWSCRAWLER_REFRESH = False  # `--refresh`: re-fetch every stored article now
NEWSCRAWLER_LEASE_SECONDS = 300  # how long a fetch may hold its URL before another run may take it
NEWSCRAWLER_LOCK_HELD = False  # set by `newscrawler crawl`, which takes the run lock before Scrapy starts
# Query parameters that only track readers: dropped before a URL is fetched or compared (`name*` is a prefix).
NEWSCRAWLER_TRACKING_PARAMS = list(TRACKING_PARAMS)
NEWSCRAWLER_EXTRACT_WORKERS = None  # processes that parse pages; None: one per core but one, 0: in the crawl's process
NEWSCRAWLER_FAILURES_PATH = None  # default: <output>.failures.jsonl beside the -o/-O file

# Monitoring: field coverage per site and run, kept in the store; an alert when a field's share of records falls
# below DROP x its share over the site's last RUNS runs (runs with fewer than MIN_RECORDS records do not count).
NEWSCRAWLER_DRIFT_RUNS = 5
NEWSCRAWLER_DRIFT_DROP = 0.5
NEWSCRAWLER_DRIFT_MIN_RECORDS = 5
NEWSCRAWLER_DRIFT_MIN_BASELINE = 0.2  # a field the site rarely had cannot drift
NEWSCRAWLER_ALERT_WEBHOOK = None  # `--alert-webhook URL`: the run's alerts POSTed as JSON
NEWSCRAWLER_ALERT_WEBHOOK_TIMEOUT = 10.0

EXTENSIONS = {
    "newscrawler.state.lock.RunLockExtension": 0,
    "newscrawler.failures.FailureLog": 0,
    "newscrawler.monitoring.FieldCoverage": 0,  # before RunSummary: the summary shows its alerts
    "newscrawler.report.RunSummary": 0,
}

# Scrapy's own modern defaults, stated so a Scrapy upgrade cannot change them under us.
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
