from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.site_server import SiteServer


def serve(name: str) -> Iterator[SiteServer]:
    site = SiteServer(name)
    server = site.start()
    yield site
    server.shutdown()


@pytest.fixture(scope="session")
def dle_site() -> Iterator[SiteServer]:
    yield from serve("dle-kz")


@pytest.fixture(scope="session")
def generic_site() -> Iterator[SiteServer]:
    yield from serve("generic-news")


@pytest.fixture(scope="session")
def broken_site() -> Iterator[SiteServer]:
    yield from serve("broken")
