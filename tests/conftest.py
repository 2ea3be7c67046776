from __future__ import annotations

import os
import uuid
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


@pytest.fixture(scope="session")
def hostile_xml_site() -> Iterator[SiteServer]:
    yield from serve("hostile-xml")


@pytest.fixture(scope="session")
def malformed_site() -> Iterator[SiteServer]:
    yield from serve("malformed")


@pytest.fixture(scope="session")
def syndicate_site() -> Iterator[SiteServer]:
    yield from serve("syndicate")


POSTGRES = os.environ.get("NEWSCRAWLER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A state URL on the local PostgreSQL, in a schema of its own that is dropped afterwards."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[test]'")
    try:
        admin = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL at {POSTGRES} ({str(error).strip().splitlines()[0]}); set NEWSCRAWLER_TEST_POSTGRES")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def state_location(request: pytest.FixtureRequest, tmp_path: pytest.TempPathFactory) -> str:
    """The same tests against both state backends."""
    if request.param == "sqlite":
        return str(tmp_path / "state")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session", autouse=True)
def every_record_follows_the_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole run, every record line any test wrote under pytest's temporary directory (crawl outputs,
    exports, Scrapyd items; failures files aside) is checked against schema/article.schema.json."""
    yield
    from tests.record_schema import invalid_lines

    problems = invalid_lines(tmp_path_factory.getbasetemp())
    assert not problems, f"{len(problems)} record lines break the schema, e.g.:\n" + "\n".join(problems[:10])
