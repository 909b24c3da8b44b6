"""`northstar docs` writes one dbt docs page that opens offline from a file, with the project's overview.

dbt's index.html fetches manifest.json and catalog.json, which a browser refuses for a file:// page (CORS), so
it shows nothing without a browser flag; the page written here has both inlined (dbt's --static). Checked in
headless Chromium with the network off: the overview of models/overview.md renders, and nothing was fetched.
About 45 s on 2 cores (dbt parses and compiles the project).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.cli import app

    warehouse_dir = tmp_path_factory.mktemp("wh")
    duckdb.connect(str(warehouse_dir / "northstar.duckdb")).close()  # docs need no data, only the project
    result = CliRunner().invoke(app, ["docs"], env={"NORTHSTAR_WAREHOUSE_DIR": str(warehouse_dir)})
    assert result.exit_code == 0, result.output
    written = warehouse_dir / "docs" / "index.html"
    assert str(written) in " ".join(result.output.split()), result.output  # the CLI prints the page's path
    return written


def test_docs_is_one_self_contained_page(page: Path) -> None:
    assert [p.name for p in page.parent.iterdir()] == ["index.html"]  # no manifest.json etc. it would fetch
    html = page.read_text(encoding="utf-8")
    external = [
        tag
        for tag in re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", html)
        if re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", tag)
    ]
    assert external == []
    assert not re.search(r"""url\(\s*["']?(?:https?:)?//|@import""", html)
    assert '"__overview__"' in html or "doc.northstar.__overview__" in html


def test_docs_page_opens_offline_from_a_file_with_the_overview(page: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    if chromium is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it")
    proc = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            f"--user-data-dir={tmp_path / 'profile'}",
            # network off: no name resolves and anything that tries a proxy gets a closed port
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=15000",  # let dbt's Angular app render
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the rendered text only: the inlined manifest (with the overview's markdown) and dbt's scripts are dropped
    rendered = re.sub(r"<(script|style)\b.*?</\1>", " ", proc.stdout, flags=re.S | re.I)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rendered))
    # the overview of models/overview.md, rendered by the page's own script from its inlined manifest
    assert "northstar: marketing KPIs you can defend to finance" in text
    assert "Where each KPI lives" in text and "fct_campaign_performance" in text
    assert "Welcome to the auto-generated documentation" not in text
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "net::ERR" in line]
    blocked = [line for line in console if "CORS" in line or "net::ERR" in line or "Failed to load" in line]
    assert blocked == [], blocked
