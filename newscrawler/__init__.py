"""newscrawler: news feeds to clean article records, on Scrapy."""

__version__ = "0.1.0"
