"""write_report(): one self-contained HTML file from the serving file (sample numbers in sample_marts.py)."""

from __future__ import annotations

import fnmatch
import html
import json
import re
import shutil
import tomllib
from pathlib import Path

import duckdb
import pytest
from jinja2 import DictLoader, Environment

from northstar.config import Settings
from northstar.errors import UserError
from northstar.serve import fmt
from northstar.serve import report as report_module
from northstar.serve.publish import publish
from northstar.serve.report import KPI_DEFINITIONS, SECTIONS, write_report
from northstar.serve.report_assets import environment, inline_asset
from northstar.serve.sample_marts import build_sample_marts


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("report")
    s = Settings(warehouse_dir=root, landing_dir=root / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    with duckdb.connect(str(s.warehouse_path)) as con:
        # a campaign name that would break the page if it were not escaped
        con.execute(
            "update marts.fct_campaign_performance set campaign_name = '<script>alert(1)</script> & Co' "
            "where campaign_key = 'google_ads:111'"
        )
    publish(s)
    return s


@pytest.fixture(scope="module")
def page(published: Settings) -> str:
    path = write_report(published)
    assert path == published.report_dir / "index.html"
    return path.read_text(encoding="utf-8")


def test_every_section_is_there(page: str) -> None:
    for section_id, title in SECTIONS:
        assert f'<section id="{section_id}"' in page, section_id
        assert f'href="#{section_id}"' in page and html.escape(title) in page


def test_nothing_is_fetched_when_viewed(page: str) -> None:
    # no external resource of any kind, and a policy that forbids fetching anything should one slip in
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", page, re.I)
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?(https?:|//)", page)
    assert "<link" not in page.lower()
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_north_star_and_scorecard_show_the_latest_month(page: str) -> None:
    north_star = page.split('<section id="north-star"', 1)[1].split("</section>", 1)[0]
    # February gross margin: 28 days x (120 + 30 + 60)
    assert "$5,880" in north_star and "February 2026" in north_star
    assert "off track" in north_star and "$12,000" in north_star
    # January was 31 x 210 = 6,510, so February is 9.7 % lower
    assert "▼ 9.7%" in north_star
    scorecard = page.split('<section id="scorecard"', 1)[1].split("</section>", 1)[0]
    assert "ROAS" in scorecard and "5.30×" in scorecard and "on track" in scorecard
    assert "Conversion rate" in scorecard and "1.79%" in scorecard


def test_channel_and_campaign_tables_carry_recommendations_and_reasons(page: str) -> None:
    channels = page.split('<section id="channels"', 1)[1].split("</section>", 1)[0]
    assert "Paid Search" in channels and "$2,800" in channels and "$30.77" in channels
    assert "pill-warn" in channels and "conversion rate fell" in channels
    assert "Conversion rate -75.0%" in channels  # the channel's alert of the last 7 days
    campaigns = page.split('<section id="campaigns"', 1)[1].split("</section>", 1)[0]
    assert "No spend: it costs nothing, keep it." in campaigns
    assert "72.8–91 across models" in campaigns


def test_campaign_names_are_escaped(page: str) -> None:
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_embedded_data_feeds_the_funnel_and_trend_charts(page: str) -> None:
    raw = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(raw)
    assert data["currency"] == "USD" and data["month"] == "2026-02" and data["dataThrough"] == "2026-02-28"
    assert len(data["daily"]["rows"]) == 59 * 3
    funnel = {(r[0], r[1], r[3], r[4]): r for r in data["funnel"]["rows"]}
    # February, ecommerce, Paid Search: 28 days x round(200 x 0.6) product views (closed)
    assert funnel[("2026-02", "ecommerce", "product_view", "Paid Search")][5] == 28 * 120
    assert {a["kpi"] for a in data["alerts"]} == {"conversion_rate", "sessions"}


def test_attribution_compares_every_model_per_channel(page: str) -> None:
    section = page.split('<section id="attribution"', 1)[1].split("</section>", 1)[0]
    for model in ("first touch", "last touch", "last non direct", "linear", "position based", "time decay"):
        assert model in section
    assert "<svg" in section and "Direct" in section
    # the learned models beside the rules, with what they were trained on (sample_marts' weights)
    assert ">rules</th>" in section and ">learned from journeys</th>" in section
    assert '<th class="num learned">markov' in section and '<th class="num learned">shapley' in section
    assert "markov and shapley learned from 1,250 journeys (150 converting) from 1 Jan 2026 to 31 Mar 2026" in section


def test_definitions_cover_every_kpi_shown(page: str, published: Settings) -> None:
    section = page.split('<section id="definitions"', 1)[1].split("</section>", 1)[0]
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        kpis = {r[0] for r in con.execute("select distinct kpi from scorecard").fetchall()}
    for kpi in kpis:
        assert f'id="def-{kpi}"' in section, kpi
    assert KPI_DEFINITIONS["cpa"].split(":")[0] in section
    assert "Attribution models" in section and "Recommendation" in section


def test_report_reads_only_the_serving_file(published: Settings, tmp_path: Path) -> None:
    # a serving file alone (no build warehouse next to it) is enough
    only = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path)
    (tmp_path / "serving.duckdb").write_bytes(published.serving_path.read_bytes())
    out = write_report(only, out=tmp_path / "elsewhere" / "r.html")
    assert out.exists() and not only.warehouse_path.exists()


def test_report_without_a_serving_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="northstar publish"):
        write_report(Settings(warehouse_dir=tmp_path, landing_dir=tmp_path))


@pytest.mark.parametrize(
    ("kpi", "value", "shown"),
    [
        ("revenue", 1234567.8, "$1,234,568"),
        ("cpa", 25.0, "$25.00"),
        ("conversion_rate", 0.0179, "1.79%"),
        ("roas", 5.3, "5.30×"),
        ("roi", -0.25, "-25.0%"),
        ("sessions", 9800, "9,800"),
        ("sessions", None, "–"),
        ("cpa", float("nan"), "–"),
    ],
)
def test_numbers_are_formatted_for_humans(kpi: str, value: float | None, shown: str) -> None:
    assert fmt.kpi_value(kpi, value, "USD") == shown


def test_money_in_other_currencies_and_compact() -> None:
    assert fmt.money(1234.5, "EUR", 2) == "€1,234.50"
    assert fmt.money(-50, "SEK") == "-50 SEK"
    assert fmt.compact_money(14_840, "USD") == "$14.8k"
    assert fmt.compact_money(2_500_000, "GBP") == "£2.5M"
    assert fmt.kpi_label("cpa") == "CPA" and fmt.kpi_label("conversion_rate") == "Conversion rate"


def test_a_month_that_has_just_begun_is_not_the_report_month(tmp_path: Path) -> None:
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    with duckdb.connect(str(s.warehouse_path)) as con:
        con.execute("delete from marts.fct_kpi_daily where date > '2026-02-03'")
    publish(s)
    page = write_report(s).read_text(encoding="utf-8")
    assert "February 2026 has 3 days of data so far: showing January 2026." in page
    north_star = page.split('<section id="north-star"', 1)[1].split("</section>", 1)[0]
    # January gross margin: 31 days x (120 + 30 + 60)
    assert "January 2026" in north_star and "$6,510" in north_star


def test_alerts_are_listed_once_per_kpi_and_scope_with_the_latest_firing(published: Settings, tmp_path: Path) -> None:
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    shutil.copyfile(published.warehouse_path, s.warehouse_path)
    with duckdb.connect(str(s.warehouse_path)) as con:
        # the Paid Search conversion-rate alert fired on the two days before too
        con.execute(
            "insert into marts.fct_kpi_alerts "
            "select * replace (alert_date - 1 as alert_date) from marts.fct_kpi_alerts where scope = 'channel' "
            "union all "
            "select * replace (alert_date - 2 as alert_date) from marts.fct_kpi_alerts where scope = 'channel'"
        )
    publish(s)
    page = write_report(s).read_text(encoding="utf-8")
    alerts = page.split('<table class="alerts">', 1)[1].split("</table>", 1)[0]
    assert alerts.count("channel: Paid Search") == 1
    assert "fired on 3 days since Feb 26" in alerts
    assert "3 KPI and scope combinations alerted" in page


def test_a_month_in_progress_is_compared_per_day(tmp_path: Path) -> None:
    s = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    with duckdb.connect(str(s.warehouse_path)) as con:
        # February as if only its first 14 days were in: half of every sum
        con.execute(
            "update marts.fct_kpi_scorecard set days_with_data = 14, actual = actual / 2 "
            "where month = '2026-02-01' and kpi in ('gross_margin', 'revenue', 'spend', 'sessions')"
        )
    publish(s)
    page = write_report(s).read_text(encoding="utf-8")
    north_star = page.split('<section id="north-star"', 1)[1].split("</section>", 1)[0]
    # 14 days of February (2,940) against January pro-rated to 14 days (6,510 x 14 / 31 = 2,940): no change,
    # where comparing with all of January would have said -54.8 %
    assert "$2,940" in north_star and "• 0.0%" in north_star and "54.8%" not in north_star


# ---------------------------------------------------------------------------------------------- issue 11


@pytest.fixture(scope="module")
def health_page(tmp_path_factory: pytest.TempPathFactory, add_report_health_marts) -> str:
    """The report of sample marts with the alerts, (untracked) orders and reconciliation of issue 11."""
    root = tmp_path_factory.mktemp("report_health")
    s = Settings(warehouse_dir=root, landing_dir=root / "landing", threads=1, memory_limit="1GB")
    build_sample_marts(s.warehouse_path)
    add_report_health_marts(s.warehouse_path)
    publish(s)
    return write_report(s).read_text(encoding="utf-8")


def _section(page: str, section_id: str) -> str:
    return page.split(f'<section id="{section_id}"', 1)[1].split("</section>", 1)[0]


def _table(section: str, cls: str) -> str:
    return section.split(f'<table class="{cls}">', 1)[1].split("</table>", 1)[0]


def test_templates_escape_every_value() -> None:
    env = environment()
    for name in ("report.html.j2", "sections/trends.html.j2", "macros.html.j2", "anything.txt"):
        assert env.autoescape(name) is True, name
    assert env.from_string("{{ x }}").render(x="<script>&") == "&lt;script&gt;&amp;"


def test_python_writes_no_html() -> None:
    # the report's Python prepares values; every tag is in serve/templates
    tag = re.compile(r"<(div|span|td|th|tr|table|section|svg|circle|line|text|p|b|br|code|h\d|dl|dt|dd)[\s>/]")
    serve = Path(report_module.__file__).parent
    for module in ("report.py", "report_view.py", "report_health.py", "report_charts.py", "report_assets.py"):
        found = tag.findall((serve / module).read_text(encoding="utf-8"))
        assert found == [], f"{module} writes HTML: {found}"


def test_an_asset_that_would_end_its_element_is_refused() -> None:
    env = Environment(loader=DictLoader({"ok.js": "var a = 1;", "bad.js": "x = '</SCRIPT>';", "bad.css": "</style"}))
    assert str(inline_asset(env, "ok.js")) == "var a = 1;"
    for name in ("bad.js", "bad.css"):
        with pytest.raises(ValueError, match="would end its element"):
            inline_asset(env, name)


def test_every_template_and_asset_is_package_data() -> None:
    # a template the wheel leaves out would work from a checkout and fail once installed
    pyproject = tomllib.loads((Path(report_module.__file__).parents[2] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["northstar.serve"]
    templates = Path(report_module.__file__).parent / "templates"
    files = [p.relative_to(templates.parent).as_posix() for p in templates.rglob("*") if p.is_file()]
    assert {"templates/report.html.j2", "templates/report.css", "templates/report.js"} <= set(files)
    for f in files:
        assert any(fnmatch.fnmatch(f, pat) and f.count("/") == pat.count("/") for pat in patterns), f


def test_no_url_outside_the_data(health_page: str) -> None:
    # the only address the page's own code holds is the SVG namespace name (an identifier, never fetched)
    code = re.sub(r'<script type="application/json" id="report-data">.*?</script>', "", health_page, flags=re.S)
    assert re.findall(r"https?://[^\s\"'<>)]*", code) == ["http://www.w3.org/2000/svg"]


def test_reconciliation_is_not_built_yet_without_its_mart(page: str) -> None:
    section = _section(page, "reconciliation")
    assert "Not built yet" in section and "fct_revenue_reconciliation" in section and "<table" not in section


def test_reconciliation_feed_tracked_and_claimed(health_page: str) -> None:
    section = _section(health_page, "reconciliation")
    # February: 22 feed orders ($2,200), 12 matched (54.5 %), 1 tracked purchase without an order;
    # platforms claim 11 + 13 = 24 conversions, 1.92x the 7 + 5.5 = 12.5 purchases attributed to them
    for shown in (
        "$2,200 net revenue",
        "54.5%",
        "12 orders · $1,200 tracked revenue",
        "3 via the customer&#39;s session · 7 untracked",
        "1.92× the 12.5 purchases northstar gives them",
    ):
        assert shown in section, shown
    platforms = _table(section, "reconciliation-platforms with-total")
    rows = re.findall(r"<tr>(.*?)</tr>", platforms.split("<tbody>", 1)[1], re.S)
    cells = [re.findall(r'<td class="[^"]+">(?:<b>)?(.*?)(?:</b>)?</td>', r) for r in rows]
    assert cells == [
        ["google_ads", "$200", "11", "$1,100", "7", "$700", "1.57×"],
        ["meta_ads", "$160", "13", "$1,300", "5.5", "$550", "2.36×"],
        ["tv", "$50", "–", "–", "0", "$0", "–"],
        ["All platforms", "$410", "24", "$2,400", "12.5", "$1,250", "1.92×"],
    ]
    daily = _table(section, "reconciliation")
    # newest first; 02-28 matched 3 of 12 (25 %), under half the median day's 57.5 %: flagged
    assert daily.index("2026-02-28") < daily.index("2026-02-27")
    assert re.search(r'<tr class="row-bad"><td class="text day">2026-02-28</td>', daily)
    assert "57.5%" in section
    row = daily.split("2026-02-28", 1)[1].split("</tr>", 1)[0]
    # feed, matched, rate, via customer, untracked, tracked purchases, without order, revenues, gap, claimed
    assert re.findall(r'<td class="num">(.*?)</td>', row) == [
        "12", "3", "25.0%", "2", "7", "3", "0", "$1,200", "$300", "$900", "11"
    ]  # fmt: skip
    per_day = _table(section, "reconciliation-days-platforms")
    assert "6 / 2.5" in per_day and "7 / 3" in per_day


def test_tracking_health_tells_tracking_loss_apart(health_page: str) -> None:
    section = _section(health_page, "tracking")
    alerts = _table(section, "tracking-alerts")
    assert "2026-02-21" in alerts and "Sessions per order" in alerts and "5.8" in alerts and "58.3" in alerts
    # the message is data: shown as text
    assert "tracking loss suspected &lt;img src=x onerror=alert(2)&gt;" in alerts
    assert "<img" not in health_page
    # last 7 days: 2 of 44 feed orders in (untracked) (4.5 %)
    assert "4.5%" in section and "2 of 44 feed orders" in section
    days = _table(section, "tracking-days")
    # 02-21 has the tracking alert; 02-14 has none but its sessions fell to 35 while orders held at 6
    assert re.search(r'<tr class="row-bad"><td class="text day">2026-02-21</td>', days)
    assert "sessions 35 against 350 on the median day, while feed orders held (6, median 6)" in days
    # tracking alerts are not listed as business alerts
    assert "Sessions per order" not in _section(health_page, "trends")


def test_tracking_health_without_tracking_alerts_says_so(page: str) -> None:
    section = _section(page, "tracking")  # the sample marts' alerts are all of kind business
    assert "No tracking alert in" in section and "tracking-alerts" not in section
    assert "None: on no day did sessions fall away from the orders." in section


def test_alerts_lead_with_declines_of_the_whole_business(health_page: str) -> None:
    trends = _section(health_page, "trends")
    lead = _table(trends, "alerts alerts-lead")
    rest = _table(trends, "alerts")
    assert trends.index("Declines of the whole business") < trends.index('<table class="alerts">')
    # the whole-business conversion-rate decline leads; the channel's decline and the sessions rise follow
    assert "Conversion rate" in lead and ">All<" in lead and "-28.5%" in lead
    assert "channel: Paid Search" not in lead and "Sessions" not in lead
    assert "channel: Paid Search" in rest and "+33.3%" in rest and "-28.5%" not in rest
    data = json.loads(re.search(r'id="report-data">(.*?)</script>', health_page, re.S).group(1))
    assert {(a["kpi"], a["kind"], a["direction"]) for a in data["alerts"]} >= {
        ("sessions_per_order", "tracking", "decline"),
        ("conversion_rate", "business", "decline"),
    }


# ---------------------------------------------------------------------------------------------- issue 12


def _month_block(section: str, month: str) -> str:
    return section.split(f'data-month="{month}"', 1)[1].split('<div class="by-month"', 1)[0]


def test_every_month_bound_section_is_there_once_per_month(page: str) -> None:
    # the month filter offers both months, February (the default) selected; the page shows one month at a time
    picker = page.split('<select id="month">', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([\d-]+)"( selected)?>', picker) == [("2026-02", " selected"), ("2026-01", "")]
    for section_id in ("north-star", "scorecard", "channels", "campaigns", "trends", "tracking", "attribution"):
        section = _section(page, section_id)
        assert re.findall(r'<div class="by-month" data-month="([\d-]+)"( hidden)?>', section) == [
            ("2026-02", ""),
            ("2026-01", " hidden"),
        ], section_id
    # January's north star: 31 days x 210 gross margin, against December (no data: no change)
    january = _month_block(_section(page, "north-star"), "2026-01")
    assert "January 2026" in january and "$6,510" in january and "$5,880" not in january
    channels = _month_block(_section(page, "channels"), "2026-01")
    assert "$3,100" in channels  # Paid Search spend, 31 x 100


def test_alerts_are_those_of_the_month_shown(page: str) -> None:
    trends = _section(page, "trends")
    assert "2026-02-28" in _month_block(trends, "2026-02")
    assert "No alerts in January 2026." in _month_block(trends, "2026-01")


def test_a_server_drawn_chart_keeps_its_axis_when_one_day_is_an_outlier() -> None:
    from northstar.serve.report_charts import line_chart

    days = [f"2026-02-{d:02d}" for d in range(1, 29)]
    values = [10.0 + d % 5 for d in range(28)]
    values[9] = 500.0  # one outage day
    chart = line_chart(days, [("avg", "untracked share", values)], lambda v, step: f"{v:g}", str, "x")
    top = float(chart["y_ticks"][-1]["label"])
    assert top < 500 and top >= 14  # the axis covers the other days, not the outlier ...
    assert [c["day"] for c in chart["clipped"]] == ["2026-02-10"]  # ... which is marked on the top edge
    assert "500.0 (above the axis)" in chart["clipped"][0]["title"]
    # a steady rise is no outlier; nor is anything in a series too short to have a 90th percentile
    rising = line_chart(days, [("avg", "n", [float(10 * d) for d in range(28)])], lambda v, s: f"{v:g}", str, "x")
    assert float(rising["y_ticks"][-1]["label"]) >= 270 and rising["clipped"] == []
    short = line_chart(days[:5], [("avg", "n", [1.0, 1.0, 1.0, 1.0, 50.0])], lambda v, s: f"{v:g}", str, "x")
    assert float(short["y_ticks"][-1]["label"]) >= 50 and short["clipped"] == []
