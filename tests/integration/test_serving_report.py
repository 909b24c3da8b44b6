"""The HTML report rendered by headless Chromium with the network off: every section, no console error; the month
filter applies to every section, nothing scrolls sideways on a 400 px phone, an outlier day does not flatten a
chart's axis (issue 12)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from northstar.serve.publish import publish
from northstar.serve.report import SECTIONS, TREND_KPIS, write_report


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


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Elements(HTMLParser):
    """The start tags of a page; `visible` leaves out those inside a hidden element (another month's sections)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.visible: list[tuple[str, dict[str, str | None]]] = []
        self._open: list[bool] = []  # per open element: is it hidden

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.elements.append((tag, a))
        hidden = "hidden" in a or any(self._open)
        if not hidden:
            self.visible.append((tag, a))
        if tag not in VOID:
            self._open.append(hidden)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self._open:
            self._open.pop()

    def with_class(self, cls: str, visible: bool = False) -> list[dict[str, str | None]]:
        return [a for _, a in (self.visible if visible else self.elements) if cls in (a.get("class") or "").split()]


@pytest.fixture(scope="module")
def report(sample_marts_settings) -> Path:
    s = sample_marts_settings("rendered")
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
def health_report(sample_marts_settings, add_report_health_marts) -> Path:
    """The report with the marts of issue 11: tracking alerts, (untracked) orders, reconciliation."""
    s = sample_marts_settings("rendered_health")
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
    labels = [a.get("aria-label") or "" for t, a in dom.visible if t == "svg"]
    charts = [label for label in labels if label.endswith(", daily")]
    assert charts == [
        "Sessions per feed order, daily",
        "Feed orders no session carries, daily",
        "Match rate, daily",
        "Orders per day: feed, tracked, claimed, daily",
    ]
    assert {a.get("data-day") for a in dom.with_class("health-dot", visible=True)} == {"2026-02-21"}
    # the browser-drawn trend charts still mark the business alerts only
    assert sorted(a.get("data-alert") for a in dom.with_class("alert-dot")) == ["2026-02-10", "2026-02-28"]


# ---------------------------------------------------------------------------------------------- issue 12

# A page that shows the report in a frame `width` px wide (a phone's viewport whatever the window's size) and
# writes into its own DOM what the reader sees: the page's scroll width, each section's visible text, and the
# axis of each trend chart. Chromium runs it with --allow-file-access-from-files, so it may read the frame.
PROBE = """<!doctype html><html><body style="margin:0">
<iframe id="f" style="border:0;width:WIDTHpx;height:900px" src="SRC"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var doc = this.contentDocument, root = doc.documentElement;
  var out = {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, errors: root.getAttribute("data-errors"),
    ready: doc.body.getAttribute("data-ready"), sections: {}, charts: {}};
  doc.querySelectorAll("section[id]").forEach(function (s) { out.sections[s.id] = s.innerText; });
  doc.querySelectorAll("#trend-charts figure.chart").forEach(function (f) {
    // the y axis labels: right-aligned at x = L - 6
    var svg = f.querySelector("svg"), ticks = f.querySelectorAll("text[text-anchor=end][x='46']");
    out.charts[f.getAttribute("data-kpi")] = {
      topTick: ticks.length ? ticks[ticks.length - 1].textContent : null,
      axisMax: svg ? parseFloat(svg.getAttribute("data-axis-max")) : null,
      clipped: Array.prototype.map.call(f.querySelectorAll(".clipped"), function (c) {
        return c.getAttribute("data-day");
      }),
      firstDay: svg ? svg.querySelector("text[text-anchor=start]").textContent : null
    };
  });
  document.body.setAttribute("data-probe", JSON.stringify(out));
});
</script></body></html>"""

# The day of the outlier: Paid Search spends 5,000 instead of 100 (all channels: CPA 714 against 14 to 25).
OUTLIER_DAY, OUTLIER_SPEND = "2026-02-12", 5000.0


def _probe(tmp_path: Path, report: Path, query: str = "", width: int = 400) -> dict:
    page = tmp_path / f"probe-{len(list(tmp_path.glob('probe-*')))}.html"
    page.write_text(PROBE.replace("WIDTH", str(width)).replace("SRC", report.as_uri() + query), encoding="utf-8")
    proc = _run_chromium(
        tmp_path, "--allow-file-access-from-files", "--window-size=1000,900", "--dump-dom", page.as_uri()
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [line for line in proc.stderr.splitlines() if ":CONSOLE" in line] == []
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, proc.stdout[-2000:]
    out = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert out["errors"] is None and out["ready"] == "1", out["errors"]
    return out


@pytest.fixture(scope="module")
def month_report(sample_marts_settings, add_report_health_marts) -> Path:
    """The health report's marts with one outlier day of spend in February."""
    s = sample_marts_settings("rendered_months")
    add_report_health_marts(s.warehouse_path)
    with duckdb.connect(str(s.warehouse_path)) as con:
        con.execute(
            "update marts.fct_kpi_daily set spend = ? where date = ? and channel = 'Paid Search'",
            [OUTLIER_SPEND, OUTLIER_DAY],
        )
    publish(s)
    return write_report(s)


def _numbers(text: str) -> list[str]:
    """The numbers a section shows, without dates and month names (which differ between months anyway)."""
    text = re.sub(r"\d{4}-\d{2}(-\d{2})?", " ", text)
    text = re.sub(r"\b(Jan|Feb)[a-z]* \d{1,2}\b|\b(January|February) 2026\b", " ", text)
    return re.findall(r"\d[\d,.]*", text)


def test_the_month_filter_changes_every_section(month_report: Path, tmp_path: Path) -> None:
    february = _probe(tmp_path, month_report, width=1200)  # the default month: the latest with 7 days or more
    january = _probe(tmp_path, month_report, "?month=2026-01", width=1200)
    assert "February 2026" in february["sections"]["north-star"] and "January 2026" in january["sections"]["north-star"]
    for section_id, _ in SECTIONS:
        if section_id == "definitions":  # no numbers of a month
            continue
        feb, jan = _numbers(february["sections"][section_id]), _numbers(january["sections"][section_id])
        assert feb and jan, section_id
        assert feb != jan, f"{section_id} shows the same numbers in January and February"
    # every section shows one month only
    for section_id in ("north-star", "scorecard", "channels", "campaigns", "tracking", "reconciliation"):
        assert "January 2026" not in february["sections"][section_id], section_id
        assert "February 2026" not in january["sections"][section_id], section_id
    # the trend charts run over the month shown
    assert {c["firstDay"] for c in february["charts"].values()} == {"Feb 1"}
    assert {c["firstDay"] for c in january["charts"].values()} == {"Jan 1"}


def test_nothing_scrolls_sideways_on_a_400_px_phone(month_report: Path, tmp_path: Path) -> None:
    for query in ("", "?month=2026-01&channel=Paid%20Search"):
        seen = _probe(tmp_path, month_report, query, width=400)
        assert seen["clientWidth"] == 400
        assert seen["scrollWidth"] <= 400, (query, seen["scrollWidth"])


def _money(label: str) -> float:
    """An axis label such as $750, $1,000 or $5.0k as a number."""
    number = float(label.strip("$k").replace(",", ""))
    return number * 1000 if label.endswith("k") else number


def test_an_outlier_day_does_not_flatten_the_trend_charts(month_report: Path, tmp_path: Path) -> None:
    charts = _probe(tmp_path, month_report, width=1200)["charts"]
    # all channels on the outlier day: spend 5,000 (Email and Direct spend nothing) / 4 + 1 + 2 conversions = 714
    cpa_outlier = OUTLIER_SPEND / (4 + 1 + 2)
    assert _money(charts["cpa"]["topTick"]) < cpa_outlier and _money(charts["spend"]["topTick"]) < OUTLIER_SPEND
    # the day above the axis is marked (its value in the mark's title)
    assert charts["cpa"]["axisMax"] < cpa_outlier and charts["cpa"]["clipped"] == [OUTLIER_DAY]
    assert charts["spend"]["axisMax"] < OUTLIER_SPEND and charts["spend"]["clipped"] == [OUTLIER_DAY]
    # the axis still holds the 7-day average over the outlier: (6 x 100 + 5,000) / 7 = 800 a day for spend
    assert charts["spend"]["axisMax"] >= 800
    # a chart without an outlier is not cut
    assert charts["sessions"]["clipped"] == [] and charts["sessions"]["axisMax"] >= 350
