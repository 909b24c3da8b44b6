"""The HTML report rendered by headless Chromium with the network off: every section, no console error."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from northstar.config import Settings
from northstar.serve.publish import publish
from northstar.serve.report import SECTIONS, TREND_KPIS, write_report
from northstar.serve.sample_marts import build_sample_marts


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
)


def _run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        # network off: no name resolves and anything that tries a proxy gets a closed port
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
        # console messages (errors, CSP violations, uncaught exceptions) go to stderr as INFO:CONSOLE lines
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def with_class(self, cls: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.elements if cls in (a.get("class") or "").split()]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rendered")
    s = Settings(warehouse_dir=root, landing_dir=root / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    publish(s)
    return write_report(s)


def test_report_renders_offline_with_every_section_and_no_console_error(report: Path, tmp_path: Path) -> None:
    proc = _run_chromium(tmp_path, "--dump-dom", report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console

    dom = _Elements()
    dom.feed(proc.stdout)
    html_attrs = next(a for t, a in dom.elements if t == "html")
    body_attrs = next(a for t, a in dom.elements if t == "body")
    assert "data-errors" not in html_attrs, html_attrs.get("data-errors")
    assert body_attrs.get("data-ready") == "1", "the report's script did not run to the end"

    ids = {a.get("id") for _, a in dom.elements}
    for section_id, _ in SECTIONS:
        assert section_id in ids, f"section {section_id} missing"
    # the script drew the funnel (the ecommerce funnel: 5 stages) with its channel filter filled in ...
    assert [a.get("data-stage") for a in dom.with_class("f-row")] == [
        "session_start",
        "product_view",
        "add_to_cart",
        "checkout",
        "purchase",
    ]
    options = [a.get("value") for t, a in dom.elements if t == "option"]
    assert {"", "Paid Search", "Email", "Direct"} <= set(options)
    # ... one trend chart per KPI, with the markers of the two all-channel alerts (sessions, conversion rate)
    charts = Counter(a.get("aria-label") for t, a in dom.elements if t == "svg" and a.get("role") == "img")
    assert sum(1 for label in charts if label and label.endswith(" per day")) == len(TREND_KPIS)
    assert sorted(a.get("data-alert") for a in dom.with_class("alert-dot")) == ["2026-02-10", "2026-02-28"]


def test_the_funnel_filters_by_channel(report: Path, tmp_path: Path) -> None:
    # the filters can be preset from the address, which is how this test sets them without clicking
    url = report.as_uri() + "?channel=Email&funnel=b2b&mode=open&month=2026-02"
    proc = _run_chromium(tmp_path, "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = _Elements()
    dom.feed(proc.stdout)
    sessions = {a.get("data-stage"): float(a.get("data-sessions") or 0) for a in dom.with_class("f-row")}
    # February, Email: 28 days x 50 sessions; open b2b funnel shares 30 %, 12 %, 1 % (rounded per day)
    assert sessions == {"session_start": 1400, "solution_view": 420, "pricing_view": 168, "demo_request": 28}
    assert {a.get("data-mode") for a in dom.with_class("on") if a.get("data-mode")} == {"open"}


def test_report_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    proc = _run_chromium(tmp_path, "--window-size=1400,6000", f"--screenshot={shot}", report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 100_000  # a rendered page, not a blank one


@pytest.fixture(scope="module")
def health_report(tmp_path_factory: pytest.TempPathFactory, add_report_health_marts) -> Path:
    """The report with the marts of issue 11: tracking alerts, (untracked) orders, reconciliation."""
    root = tmp_path_factory.mktemp("rendered_health")
    s = Settings(warehouse_dir=root, landing_dir=root / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    add_report_health_marts(s.warehouse_path)
    publish(s)
    return write_report(s)


def test_tracking_health_and_reconciliation_render_offline(health_report: Path, tmp_path: Path) -> None:
    proc = _run_chromium(tmp_path, "--dump-dom", health_report.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    dom = _Elements()
    dom.feed(proc.stdout)
    assert "data-errors" not in next(a for t, a in dom.elements if t == "html")
    assert next(a for t, a in dom.elements if t == "body").get("data-ready") == "1"
    # drawn on the server: three tracking charts and the reconciliation chart, the tracking alert marked on each
    labels = [a.get("aria-label") or "" for t, a in dom.elements if t == "svg"]
    charts = [label for label in labels if label.endswith(", daily")]
    assert charts == [
        "Sessions per feed order, daily",
        "Feed orders no session carries, daily",
        "Match rate, daily",
        "Orders per day: feed, tracked, claimed, daily",
    ]
    assert {a.get("data-day") for a in dom.with_class("health-dot")} == {"2026-02-21"}
    # the browser-drawn trend charts still mark the business alerts only
    assert sorted(a.get("data-alert") for a in dom.with_class("alert-dot")) == ["2026-02-10", "2026-02-28"]
