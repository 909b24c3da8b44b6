"""Great Expectations Data Docs open from the file with the network off: every suite listed with its status.

Headless Chromium loads the index with no name resolving and a closed proxy; `--dump-dom` gives the DOM after
the scripts ran, so the validation list is only there if jQuery and bootstrap-table loaded from local files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_quality_checks import _warehouse  # the tiny hand-made warehouse of the quality tests

from northstar.quality.check import run_checks

pytest.importorskip("great_expectations")


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _chromium()


def _dump_dom(page: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-extensions",
        f"--user-data-dir={tmp_path / 'profile'}",
        # network off: no name resolves and anything that tries a proxy gets a closed port
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


class _Refs(HTMLParser):
    """Every URL a page loads by itself: scripts, stylesheets, images, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("script", "img") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Day 10 has 11 of 24 events: raw_events fails (volume, freshness); the manifest passes. Day 9 passes.
    settings = _warehouse(tmp_path_factory.mktemp("gx"), last_day_hours=11)
    report = run_checks(settings, suites=["raw_load_manifest", "raw_events"], partition_date=date(2026, 1, 10))
    assert not report.success
    run_checks(settings, suites=["raw_events"], partition_date=date(2026, 1, 9))
    return settings.quality_dir / "data_docs"


def test_every_page_loads_only_local_files(docs: Path) -> None:
    pages = list(docs.rglob("*.html"))
    assert len(pages) >= 6  # index, 2 suite pages (of all suites listed), 3 validation pages
    for page in pages:
        parser = _Refs()
        parser.feed(page.read_text())
        for url in parser.urls:
            assert not re.match(r"(https?:)?//", url), f"{page.relative_to(docs)} loads {url}"
            local = (page.parent / url.split("?")[0]).resolve()
            assert local.is_file(), f"{page.relative_to(docs)} refers to missing {url}"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_index_renders_offline_with_every_suite_and_its_status(docs: Path, tmp_path: Path) -> None:
    result = _dump_dom(docs / "index.html", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Uncaught" not in result.stderr, result.stderr[-2000:]
    dom = result.stdout
    # bootstrap-table turns the JSON into rows: data-href is the validation page, the first cell its status icon.
    rows = re.findall(r'<tr[^>]*data-href="validations/([^/"]+)/([^/"]+)/[^"]+"[^>]*>(.*?)</tr>', dom, re.S)
    status = {
        (suite, run_name): "fail" if "fa-times" in cells else "pass" if "fa-check-circle" in cells else "?"
        for suite, run_name, cells in rows
    }
    assert status == {
        ("raw_load_manifest", "2026-01-10"): "pass",
        ("raw_events", "2026-01-10"): "fail",
        ("raw_events", "2026-01-09"): "pass",
    }
    # The Expectation Suites tab lists every suite file, not just the ones this run validated.
    suite_links = set(re.findall(r'href="expectations/([a-z_]+)\.html"', dom))
    assert {"raw_events", "raw_load_manifest", "marts_fct_kpi_daily"} <= suite_links


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")
def test_a_validation_page_renders_offline(docs: Path, tmp_path: Path) -> None:
    page = next((docs / "validations" / "raw_events").glob("2026-01-10/*/*.html"))
    result = _dump_dom(page, tmp_path)
    assert result.returncode == 0 and "Uncaught" not in result.stderr, result.stderr[-2000:]
    assert "volume: the day's events are at least 50 %" in result.stdout
    assert "fa-times" in result.stdout  # the failed expectation's status icon
