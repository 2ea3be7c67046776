from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.site_server import SiteServer


@pytest.fixture(scope="session")
def dle_site() -> Iterator[SiteServer]:
    site = SiteServer("dle-kz")
    server = site.start()
    yield site
    server.shutdown()


@pytest.fixture(scope="session")
def generic_site() -> Iterator[SiteServer]:
    site = SiteServer("generic-news")
    server = site.start()
    yield site
    server.shutdown()


@pytest.fixture(scope="session")
def broken_site() -> Iterator[SiteServer]:
    site = SiteServer("broken")
    server = site.start()
    yield site
    server.shutdown()
