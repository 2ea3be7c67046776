"""Every Scrapy setting newscrawler changes, each with its reason."""

from newscrawler.urls import TRACKING_PARAMS

BOT_NAME = "newscrawler"
SPIDER_MODULES = ["newscrawler.spiders"]
NEWSPIDER_MODULE = "newscrawler.spiders"

# Say who we are: news sites block anonymous bots first.
USER_AGENT = "newscrawler/0.1 (+https://github.com/newscrawler/newscrawler)"
ROBOTSTXT_OBEY = True

# Politeness: one request at a time per host, at most one a second (a floor, not an average: no jitter); a site of
# sources.toml sets its own (politeness.delay, .concurrency). robots.txt read per RFC 9309
# (newscrawler/middlewares/robots.py), its Crawl-delay honoured up to 30 s.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0
NEWSCRAWLER_ROBOTS_CACHE_SECONDS = 24 * 3600  # RFC 9309 §2.4: cache robots.txt at most 24 h
NEWSCRAWLER_ROBOTS_MAX_CRAWL_DELAY = 30.0  # Nutch's and StormCrawler's cap; a longer Crawl-delay is cut to this

# News pages are small: a slow or huge response is a problem, not an article (Common Crawl's news crawler: 5 MiB, 30 s).
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 1024 * 1024
DOWNLOAD_FAIL_ON_DATALOSS = True  # a body shorter than its Content-Length is an error (retried), never half an article
REDIRECT_MAX_TIMES = 10  # a longer chain is a trap; newscrawler/middlewares/redirects.py also stops loops at once
# Retries: 3 attempts per URL per run, with exponential backoff and Retry-After honoured (middlewares/retry.py).
RETRY_TIMES = 2
NEWSCRAWLER_RETRY_BACKOFF_BASE = 1.0  # seconds before the first retry; doubled for each next one
NEWSCRAWLER_RETRY_BACKOFF_MAX = 30.0
NEWSCRAWLER_RETRY_AFTER_MAX = 120.0  # a longer Retry-After fails the URL now; a later run tries it again

# Safety against hostile feeds and redirects: http(s) only, and no connection to loopback, private, link-local
# (cloud metadata), CGNAT, multicast or reserved addresses, checked on every address DNS returns
# (newscrawler/addresses.py). Tests allow their own 127.0.0.1 fixture servers with NEWSCRAWLER_ALLOWED_ADDRESSES.
NEWSCRAWLER_ALLOWED_SCHEMES = ["http", "https"]
NEWSCRAWLER_ADDRESS_FILTER_ENABLED = True
NEWSCRAWLER_ALLOWED_ADDRESSES: list[str] = []  # e.g. ["10.1.2.3", "192.168.0.0/16", "127.0.0.1:8080"]
TWISTED_DNS_RESOLVER = "newscrawler.addresses.AddressFilteringResolver"
DOWNLOAD_HANDLERS = {"file": None, "data": None, "s3": None, "ftp": None}  # no handler, whatever asks for them
DOWNLOADER_MIDDLEWARES = {
    "newscrawler.middlewares.schemes.SchemeAllowListMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "newscrawler.middlewares.robots.RobotsPolicyMiddleware": 100,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "newscrawler.middlewares.retry.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "newscrawler.middlewares.charset.CharsetMiddleware": 585,  # after decompression (590): the real bytes
    "newscrawler.middlewares.size.SizeCapMiddleware": 590,
    "newscrawler.middlewares.redirects.RedirectGuardMiddleware": 610,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "newscrawler.middlewares.refresh.HeadMetaRefreshMiddleware": 580,  # Scrapy's place for it
    "newscrawler.middlewares.addresses.AddressFilterMiddleware": 950,
}
TELNETCONSOLE_ENABLED = False  # the telnet console and the remote control run arbitrary code for whoever reaches them
REMOTE_CONTROL_ENABLED = False

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
NEWSCRAWLER_COMMENT_PAGES_MAX = 100  # comment pages read per article (DLE endpoint or /page,1,C, pages; wp-json)
NEWSCRAWLER_DLE_LASTCOMMENTS = True  # after a DLE feed, re-fetch stored articles that DLE's lastcomments lists with new comments
NEWSCRAWLER_WP_JSON = True  # WordPress: ask wp-json for fields the theme leaves out, and for every comment
NEWSCRAWLER_WP_COMMENTS_PER_PAGE = 100  # wp-json's largest page: the fewest requests
NEWSCRAWLER_FAILURES_PATH = None  # default: <output>.failures.jsonl beside the -o/-O file

# A page whose declared charset is wrong (windows-1251 bytes sent as utf-8) is re-decoded, and the record says so.
NEWSCRAWLER_CHARSET_ENABLED = True

# Traps and budgets (newscrawler/traps.py): no site holds the crawl forever. A calendar's "next day" or an archive
# walk ends at DEPTH_LIMIT links from its start; past the page budget a site's other URLs wait for the next run.
SPIDER_MIDDLEWARES = {
    "newscrawler.traps.CrawlBudgetMiddleware": 950,  # before Scrapy's DepthMiddleware (900)
    "newscrawler.distributed.seeding.FrontierSeeding": 1000,  # distributed: one worker a pass queues the start requests
    "newscrawler.distributed.store_errors.StoreErrorsMiddleware": 960,  # a lost store connection is no spider bug
}
NEWSCRAWLER_BUDGET_ENABLED = True
NEWSCRAWLER_MAX_PAGES_PER_SITE = 20000  # requests per site per run
NEWSCRAWLER_MAX_SEGMENT_REPEATS = 2  # /a/a/ is a real path now and then, /a/a/a/ is a trap (Nutch's rule)
DEPTH_LIMIT = 200  # feed -> article is 1, its comment pages up to 101; an archive walk deeper should restart (depth_reset)

# Distributed crawl (`--distributed redis://...`, docs/scaling.md): the frontier on Redis, the store on PostgreSQL.
# A leased request returns to the queue NEWSCRAWLER_LEASE_SECONDS after its worker's last heartbeat.
NEWSCRAWLER_REDIS_URL = None  # set by --distributed; with it the scheduler is newscrawler.distributed.scheduler
NEWSCRAWLER_REDIS_PREFIX = "newscrawler"  # every Redis key of the crawl starts with it: one prefix a crawl
NEWSCRAWLER_FOREVER = False  # `--forever`: a worker waits for work, and starts a new pass PASS_INTERVAL after the last
NEWSCRAWLER_PASS_INTERVAL = 600.0
NEWSCRAWLER_SEED_ONLY = False  # `newscrawler seed`: queue the start requests, fetch nothing

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
    "newscrawler.storage.StorageGuard": 0,
    "newscrawler.jobdir.JobdirVersionCheck": 0,
    # The feed spider's `state` is the state store; with a JOBDIR, Scrapy's SpiderState would replace it with a dict.
    "scrapy.extensions.spiderstate.SpiderState": None,
    "scrapy.extensions.memusage.MemoryUsage": None,  # replaced by MemoryLimit, which closes the spider once
    "newscrawler.memory.MemoryLimit": 0,
    "newscrawler.progress.Progress": 0,
    "newscrawler.collector.CollectorTuning": 0,
    "newscrawler.logs.LogLevelGate": 0,
}
NEWSCRAWLER_PROGRESS_SECONDS = 10.0  # a progress line this often (0: none); on a terminal, a live display instead
NEWSCRAWLER_PROGRESS_LIVE = True  # the live display when stdout is a terminal
NEWSCRAWLER_GC_ENABLED = True  # freeze start-up's objects and collect less often while the spider runs (collector.py)
NEWSCRAWLER_GC_THRESHOLDS = [10000, 10, 10]  # gc.set_threshold while the spider runs; Python's own are 700, 10, 10

# Scrapy's own modern defaults, stated so a Scrapy upgrade cannot change them under us.
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = "INFO"
