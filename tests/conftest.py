"""Shared fixtures: a migrated database on SQLite and on the real PostgreSQL at 127.0.0.1:5432.

PostgreSQL being unreachable is a failure, not a skip (set LINGTAN_TEST_PG_URL to point
elsewhere).  Each test session creates a fresh PostgreSQL database and drops it at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy.orm import Session

from lingtan.config import get_settings
from lingtan.store.models import Base
from lingtan.store.session import get_engine, get_sessionmaker, migrate
from live import chromium

PG_ADMIN_URL = os.environ.get(
    "LINGTAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    name = f"lingtan_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    url = f"{base}/{name}"
    migrate(url)
    yield url
    get_engine(url).dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'lingtan.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lingtan.sqlite3'}"
        migrate(url)
        return url
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on the parametrised database; PostgreSQL tables are emptied afterwards."""
    s = get_sessionmaker(db_url)()
    yield s
    s.rollback()
    s.close()
    if db_url.startswith("postgresql"):
        truncate_all(db_url)


def truncate_all(url: str) -> None:
    """Empty every Lingtan table of a PostgreSQL database."""
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with get_engine(url).begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian chromium for a module's browser tests."""
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    """A fresh browser context (Chinese locale) on the module's ``base_url`` server."""
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh data directory (embedded SQLite) for the command line."""
    monkeypatch.setenv("LINGTAN_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LINGTAN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
