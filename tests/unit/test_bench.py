"""The bench: its three implementations (DuckDB SQL, pandas, polars) on hand-made raw tables with counts worked out by
hand, the pure report helpers, and on a tiny generated data set the whole bench, every result set equal to the marts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from northstar.bench import baseline, pandas_impl, polars_impl
from northstar.bench.report import fmt_rate, fmt_ratio, parse_size, replace_section, size_label
from northstar.bench.results import RESULT_SETS, Diff, Params, compare, compare_all
from northstar.bench.run import BenchReport, StepResult, render, run_bench, split_landing
from northstar.config import Settings
from northstar.ingest.schema import ensure_raw_schema

IMPLEMENTATIONS = {"sql": baseline.compute, "pandas": pandas_impl.compute, "polars": polars_impl.compute}
SHOP = "https://www.shop.example"

# event_id, occurred_at (UTC), anonymous_id, user_id, session_id, event_name, page_url, page_referrer, order_id,
# revenue, currency, consent_analytics
EVENTS = [
    # Device a. A1: tagged google/cpc in the query string with a gclid (Paid Search); 10:30 is exactly 30 min after
    # 10:00 (same session); 180 s after the start is the engaged_visit goal; products page, add to cart.
    ("a1", "2026-01-01 10:00:00", "a", None, None, "page_view",
     f"{SHOP}/?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid=x1", "https://www.google.com/",
     None, None, None, True),
    ("a2", "2026-01-01 10:30:00", "a", None, None, "page_view", f"{SHOP}/products/boots", None,
     None, None, None, True),
    ("a3", "2026-01-01 10:31:00", "a", None, None, "add_to_cart", None, None, None, None, None, True),
    # A2: 30 min 1 s later, a new session: Direct, a purchase of order o1 (100 EUR in the feed), user u1 logs in.
    ("a4", "2026-01-01 11:01:01", "a", "u1", None, "purchase", None, None, "o1", 100, "EUR", True),
    # Device b. B1: one source session (s1) across a two-hour gap, tagged newsletter/email in the URL (Email),
    # solutions then pricing page (b2b funnel stages 1-3, pricing_view, engaged_visit).
    ("b1", "2026-01-02 08:00:00", "b", None, "s1", "page_view",
     f"{SHOP}/solutions/retail?utm_source=newsletter&utm_medium=email&utm_campaign=weekly", None,
     None, None, None, True),
    ("b2", "2026-01-02 10:00:00", "b", None, "s1", "page_view", f"{SHOP}/pricing", None, None, None, None, True),
    # B2: the same device without a source session id is another session (Direct), 30 s later.
    ("b3", "2026-01-02 10:00:30", "b", None, None, "page_view", f"{SHOP}/about", None, None, None, None, True),
    # Device c. C1: one event without consent anonymises the session (its user u2 is not stitched); from Bing
    # (Organic Search); purchase of o2, refunded in the feed (revenue 0, not an order).
    ("c1", "2026-01-02 12:00:00", "c", "u2", None, "page_view", f"{SHOP}/", "https://www.bing.com/search?q=x",
     None, None, None, False),
    ("c2", "2026-01-02 12:01:00", "c", None, None, "purchase", None, None, "o2", 50, "USD", True),
    # C2: 59 min later, Direct, purchase of o3, not in the feed: the event's own 20 USD.
    ("c3", "2026-01-02 13:00:00", "c", None, None, "purchase", None, None, "o3", 20, "USD", True),
    # Device d of user u1. D1: from facebook.com (Organic Social), pricing page (b2b stage 3 open, not closed),
    # demo request: a macro conversion whose touches are u1's sessions A1, A2, D1.
    ("d1", "2026-01-03 09:00:00", "d", "u1", None, "page_view", f"{SHOP}/pricing", "https://www.facebook.com/",
     None, None, None, True),
    ("d2", "2026-01-03 09:05:00", "d", "u1", None, "demo_request", None, None, None, None, None, True),
]  # fmt: skip
ORDERS = [  # order_id, ordered_at, status, revenue, currency, loaded_at
    ("o1", "2026-01-01 11:01:00", "completed", 100, "EUR", "2026-01-02 00:00:00"),
    ("o2", "2026-01-02 12:01:00", "completed", 50, "USD", "2026-01-03 00:00:00"),
    ("o2", "2026-01-02 12:01:00", "refunded", 50, "USD", "2026-01-04 00:00:00"),  # the refund wins
]
SPEND = [  # date, platform, campaign_id, utm_source, utm_medium, utm_campaign, spend, currency, loaded_at
    ("2026-01-01", "google_ads", "111", "google", "cpc", "brand", 10, "USD", "2026-01-02 00:00:00"),
    ("2026-01-01", "google_ads", "111", "google", "cpc", "brand", 12, "USD", "2026-01-03 00:00:00"),  # restated
    ("2026-01-02", "meta_ads", "222", None, None, None, 5, "EUR", "2026-01-03 00:00:00"),  # untagged: Paid Social
]
EUR = 1.1114  # seeds/fx_rates.csv: the EUR rate of 2025-12-29 holds on 2026-01-01 and 2026-01-02


@pytest.fixture(scope="module")
def raw_con() -> duckdb.DuckDBPyConnection:
    return _raw_tables(EVENTS, ORDERS)


def _raw_tables(events: list[tuple], orders: list[tuple]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_raw_schema(con)
    for i, (eid, at, anon, uid, sid, name, url, ref, oid, rev, cur, consent) in enumerate(events):
        con.execute(
            "insert into raw.events (event_id, occurred_at, anonymous_id, user_id, session_id, event_name, page_url, "
            "page_referrer, order_id, revenue, currency, consent_analytics, load_id, source_file, row_number, "
            "loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'L', 'events', ?, now())",
            [eid, at, anon, uid, sid, name, url, ref, oid, rev, cur, consent, i],
        )
    for i, (oid, at, status, rev, cur, loaded) in enumerate(orders):
        con.execute(
            "insert into raw.orders (order_id, ordered_at, status, revenue, currency, load_id, source_file, "
            "row_number, loaded_at) values (?, ?, ?, ?, ?, ?, 'orders', ?, ?)",
            [oid, at, status, rev, cur, f"L{i}", i, loaded],
        )
    for i, (day, platform, cid, src, med, camp, spend, cur, loaded) in enumerate(SPEND):
        con.execute(
            "insert into raw.ad_spend (date, platform, account_id, campaign_id, utm_source, utm_medium, utm_campaign, "
            "impressions, clicks, spend, currency, load_id, source_file, row_number, loaded_at) "
            "values (?, ?, 'acc', ?, ?, ?, ?, 100, 10, ?, ?, ?, 'spend', ?, ?)",
            [day, platform, cid, src, med, camp, spend, cur, f"L{i}", i, loaded],
        )
    return con


@pytest.fixture(scope="module")
def computed(raw_con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    return {name: impl(raw_con, Params()) for name, impl in IMPLEMENTATIONS.items()}


def _by_key(rows: list, name: str) -> dict[tuple, tuple]:
    n = len(RESULT_SETS[name].keys)
    return {tuple(r[:n]): tuple(r[n:]) for r in rows}


def _assert_rows(name: str, rows: list, expected: dict[tuple, tuple]) -> None:
    """rows equal expected (key -> values), money within the bench's tolerance."""
    diff = compare(name, [(*k, *v) for k, v in expected.items()], rows)
    assert diff.equal, diff


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_sessions_channels_and_visitors_by_hand(computed: dict, impl: str) -> None:
    # (sessions, visitors, page views); u1 is one visitor on two devices, the unconsented C1 is its own visitor.
    assert _by_key(computed[impl]["sessions"], "sessions") == {
        ("2026-01-01", "Direct"): (1, 1, 0),  # A2
        ("2026-01-01", "Paid Search"): (1, 1, 2),  # A1
        ("2026-01-02", "Direct"): (2, 2, 1),  # B2 (visitor b), C2 (visitor c)
        ("2026-01-02", "Email"): (1, 1, 2),  # B1
        ("2026-01-02", "Organic Search"): (1, 1, 1),  # C1
        ("2026-01-03", "Organic Social"): (1, 1, 1),  # D1
    }


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_conversions_orders_and_revenue_by_hand(computed: dict, impl: str) -> None:
    _assert_rows(
        "conversions",
        computed[impl]["conversions"],
        {
            ("2026-01-01", "add_to_cart"): (1, 0, 0.0),
            ("2026-01-01", "engaged_visit"): (1, 0, 0.0),  # A1 at 10:30 (180 s after the start)
            ("2026-01-01", "purchase"): (1, 1, 100 * EUR),  # o1 from the feed, in USD
            ("2026-01-02", "engaged_visit"): (1, 0, 0.0),  # B1
            ("2026-01-02", "pricing_view"): (1, 0, 0.0),  # B1
            ("2026-01-02", "purchase"): (2, 1, 20.0),  # o2 refunded: 0 and no order; o3 not in the feed: 20
            ("2026-01-03", "demo_request"): (1, 0, 0.0),
            ("2026-01-03", "engaged_visit"): (1, 0, 0.0),  # D1's demo request, 300 s after the start
            ("2026-01-03", "pricing_view"): (1, 0, 0.0),
        },
    )


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_kpis_with_restated_spend_by_hand(computed: dict, impl: str) -> None:
    got = _by_key(computed[impl]["kpi_daily"], "kpi_daily")
    # sessions, engaged, converting, macro, micro, leads, orders, revenue, spend, impressions, clicks
    assert got[("2026-01-01", "Paid Search")] == (1, 1, 0, 0, 2, 0, 0, 0.0, 12.0, 100, 10)  # the restated 12 USD
    assert got[("2026-01-01", "Direct")] == pytest.approx((1, 1, 1, 1, 0, 0, 1, 100 * EUR, 0.0, 0, 0))
    assert got[("2026-01-02", "Paid Social")] == pytest.approx((0, 0, 0, 0, 0, 0, 0, 0.0, 5 * EUR, 100, 10))
    assert got[("2026-01-02", "Direct")] == (2, 1, 1, 1, 0, 0, 1, 20.0, 0.0, 0, 0)  # B2 is not engaged
    assert got[("2026-01-02", "Organic Search")] == (1, 1, 1, 1, 0, 0, 0, 0.0, 0.0, 0, 0)  # o2 refunded
    assert got[("2026-01-03", "Organic Social")] == (1, 1, 1, 1, 2, 1, 0, 0.0, 0.0, 0, 0)
    assert len(got) == 7


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_closed_and_open_funnels_by_hand(computed: dict, impl: str) -> None:
    got = _by_key(computed[impl]["funnel"], "funnel")
    assert len(got) == 6 * 9  # every day and channel with sessions x every stage, zeros included
    ecommerce = [got[("2026-01-01", "ecommerce", k, "Paid Search")] for k in range(1, 6)]
    assert ecommerce == [(1, 1), (1, 1), (1, 1), (0, 0), (0, 0)]
    assert [got[("2026-01-01", "ecommerce", k, "Direct")] for k in (1, 2, 5)] == [(1, 1), (0, 0), (0, 1)]
    assert [got[("2026-01-02", "b2b", k, "Email")] for k in range(1, 5)] == [(1, 1), (1, 1), (1, 1), (0, 0)]
    # D1 saw pricing (stage 3) and requested a demo (4) without solutions (2): open, not closed.
    assert [got[("2026-01-03", "b2b", k, "Organic Social")] for k in range(1, 5)] == [(1, 1), (0, 0), (0, 1), (0, 1)]


JAN = "2026-01-01"
ATTRIBUTION = {
    (JAN, "last_touch", "Direct"): (2.0, 100 * EUR + 20),  # A2 (o1), C2 (o3)
    (JAN, "last_touch", "Organic Search"): (1.0, 0.0),  # C1 (refunded)
    (JAN, "last_touch", "Organic Social"): (1.0, 0.0),  # D1's demo request
    # A2's purchase: A1 and A2 (1/2 each); D1's demo: A1, A2, D1 (1/3 each); C1, C2: alone.
    (JAN, "linear", "Paid Search"): (1 / 2 + 1 / 3, 50 * EUR),
    (JAN, "linear", "Direct"): (1 / 2 + 1 + 1 / 3, 50 * EUR + 20),
    (JAN, "linear", "Organic Search"): (1.0, 0.0),
    (JAN, "linear", "Organic Social"): (1 / 3, 0.0),
}


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_last_touch_and_linear_attribution_by_hand(computed: dict, impl: str) -> None:
    _assert_rows("attribution", computed[impl]["attribution"], ATTRIBUTION)


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
def test_a_purchase_the_feed_stamps_after_data_through_waits_as_in_the_marts(impl: str) -> None:
    # Device e buys o9 at 2026-01-03 23:59:50, the last day with sessions (spend ends 2026-01-02), and the feed
    # stamps o9 2026-01-04 00:00:20: the conversion counts on 2026-01-03, but its attribution waits for that
    # day's data (int_data_through), so attribution is the table above, unchanged.
    spill = ("e1", "2026-01-03 23:59:50", "e", None, None, "purchase", None, None, "o9", 30, "USD", True)
    con = _raw_tables(
        [*EVENTS, spill], [*ORDERS, ("o9", "2026-01-04 00:00:20", "completed", 30, "USD", "2026-01-05 00:00:00")]
    )
    result = IMPLEMENTATIONS[impl](con, Params())
    _assert_rows("attribution", result["attribution"], ATTRIBUTION)
    assert _by_key(result["conversions"], "conversions")[("2026-01-03", "purchase")] == (1, 1, 30.0)


@pytest.mark.parametrize(
    "params",
    [Params(session_timeout_minutes=29), Params(reporting_timezone="America/Los_Angeles")],
    ids=["timeout-29min", "reporting-tz-los-angeles"],
)
def test_implementations_agree_on_other_settings(raw_con: duckdb.DuckDBPyConnection, params: Params) -> None:
    results = {name: impl(raw_con, params) for name, impl in IMPLEMENTATIONS.items()}
    for name in ("pandas", "polars"):
        diffs = compare_all(results["sql"], results[name])
        assert all(d.equal for d in diffs.values()), {k: d.examples for k, d in diffs.items() if not d.equal}
    sessions = sum(r[2] for r in results["sql"]["sessions"])
    assert sessions == (8 if params.session_timeout_minutes == 29 else 7)  # 29 min splits A1 at 10:30


def test_compare_matches_keys_and_tolerates_float_noise() -> None:
    ref = [("2026-01-01", "Direct", 3, 2, 10), ("2026-01-02", "Email", 1, 1, 2)]
    assert compare("sessions", ref, list(ref)).equal
    funnel = [("2026-01-01", "b2b", 1, "Direct", 5, 5)]
    assert compare("funnel", funnel, [("2026-01-01", "b2b", 1, "Direct", 5, 5)]).equal
    attribution = [("2026-01-01", "linear", "Direct", 0.1 + 0.2, 10.0)]
    assert compare("attribution", attribution, [("2026-01-01", "linear", "Direct", 0.3, 10.0 + 1e-12)]).equal
    diff = compare("sessions", ref, [("2026-01-01", "Direct", 3, 2, 11), ("2026-01-03", "Email", 1, 1, 2)])
    assert (diff.missing, diff.extra, diff.changed, diff.differing) == (1, 1, 1, 3)
    assert "marts (3, 2, 10) vs (3, 2, 11)" in diff.examples[0]


@pytest.mark.parametrize(
    ("value", "base", "text"),
    [(1.0, 1.0, "1.00×"), (0.5, 1.0, "0.50×"), (3.456, 1.0, "3.46×"), (12.34, 1.0, "12.3×"), (149.4, 1.0, "149×")]
    + [(None, 1.0, "–"), (2.0, None, "–"), (2.0, 0.0, "–")],
)
def test_ratio_formatting(value: float | None, base: float | None, text: str) -> None:
    assert fmt_ratio(value, base) == text


def test_sizes_and_rates() -> None:
    assert [parse_size(s) for s in ("10k", "100K", "1m", "5m", "2500", "1.5m")] == [
        10_000,
        100_000,
        1_000_000,
        5_000_000,
        2_500,
        1_500_000,
    ]
    assert [size_label(n) for n in (10_000, 100_000, 1_000_000, 2_500)] == ["10k", "100k", "1M", "2,500"]
    with pytest.raises(ValueError, match="not a size"):
        parse_size("big")
    assert fmt_rate(1_000_000, 4.0) == "250,000" and fmt_rate(0, 1.0) == "–" and fmt_rate(10, None) == "–"


def test_markdown_section_replaced_in_place_and_sizes_kept_in_order() -> None:
    doc = replace_section("", 100_000, "## 100k visitors\n\nold 100k table\n")
    assert doc.startswith("# Performance") and doc.endswith("## 100k visitors\n\nold 100k table\n")
    doc = replace_section(doc, 1_000_000, "## 1M visitors\n\n1M table")
    doc = replace_section(doc, 10_000, "## 10k visitors\n\n10k table")
    doc = replace_section(doc, 100_000, "## 100k visitors\n\nnew 100k table\n\nmore lines")
    headings = [ln for ln in doc.splitlines() if ln.startswith("## ")]
    assert headings == ["## 10k visitors", "## 100k visitors", "## 1M visitors"]
    assert "old 100k table" not in doc and "new 100k table\n\nmore lines\n\n## 1M visitors" in doc
    custom = "# Perf\n\nintro\n\n## Notes\n\nkeep me\n"
    assert (
        replace_section(custom, 10_000, "## 10k visitors\n\nx")
        == "# Perf\n\nintro\n\n## Notes\n\nkeep me\n\n## 10k visitors\n\nx\n"  # other sections kept
    )


def test_landing_files_split_into_initial_days_and_the_last_day(tmp_path: Path) -> None:
    names = ["events_2026-01-01.jsonl.gz", "orders_2026-01-02.csv", "events_2026-01-02.jsonl.gz", "incidents.json"]
    initial, last = split_landing([tmp_path / n for n in names])
    assert [Path(p).name for p in initial] == ["events_2026-01-01.jsonl.gz"]
    assert [Path(p).name for p in last] == ["events_2026-01-02.jsonl.gz", "orders_2026-01-02.csv"]


def test_table_shows_ratios_and_which_result_set_differs() -> None:
    report = BenchReport(visitors=4, days=2, work_dir=Path("/tmp/x"), events_initial=900, events_total=1000)
    report.steps = {
        "load": StepResult("load", 3.0, 90.0, events=900),
        "build_full": StepResult("build_full", 86.1, 300.0, events=900),
        "build_incremental": StepResult("build_incremental", 43.05, 250.0, events=100),
        "build_noop": StepResult("build_noop", 34.44, 240.0, events=0),
        "sql": StepResult("sql", 1.0, 100.0, events=1000),
        "pandas": StepResult("pandas", 2.0, 150.0, events=1000),
        "polars": StepResult("polars", None, 120.0, error="boom"),
    }
    equal = {name: Diff(5, 5, 0, 0, 0) for name in RESULT_SETS}
    report.diffs = {"sql": equal, "pandas": {**equal, "funnel": Diff(54, 54, 0, 0, 3, ("x: marts (1,) vs (2,)",))}}
    console = Console(record=True, width=260)
    console.print(render(report))
    text = console.export_text()
    assert "86.1×" in text and "3.00×" in text  # full build time, memory over the baseline's 1 s, 100 MB
    assert "≠ 3" in text and "pandas funnel: 3 of 54 rows differ" in text
    assert "1,000" in text  # events/s of the baseline
    assert "polars failed: boom" in text
    # 43.05 / 86.1 = 50 %, 34.44 / 86.1 = 40 %
    assert "(+1 day, incremental) took 50% of the full build's time" in text
    assert "(no new data) took 40% of the full build's time" in text
    assert report.agrees("sql") and not report.agrees("pandas") and not report.agrees("polars")


@pytest.mark.slow
def test_tiny_bench_every_implementation_equals_the_marts(tmp_path: Path) -> None:
    settings = Settings(warehouse_dir=tmp_path / "warehouse", landing_dir=tmp_path / "landing")
    docs = tmp_path / "performance.md"
    console = Console(record=True, width=260)
    report = run_bench(settings, visitors=800, days=6, console=console, work_dir=tmp_path / "bench", docs_path=docs)
    assert all(r.error is None for r in report.steps.values()), {s: r.error for s, r in report.steps.items()}
    assert report.reference is not None and all(report.reference[name] for name in RESULT_SETS)
    for impl in ("sql", "pandas", "polars"):
        for name, diff in report.diffs[impl].items():
            assert diff.equal, f"{impl} {name}: {diff}"
    assert 0 < report.events_initial < report.events_total
    text = console.export_text()
    assert "northstar build (+1 day, incremental)" in text and "DuckDB SQL (baseline)" in text
    assert "northstar build (no new data)" in text and "of the full build's time" in text
    section = docs.read_text(encoding="utf-8")
    assert "## 800 visitors" in section and "| polars |" in section and "NORTHSTAR_THREADS=2" in section
    assert not (tmp_path / "bench").exists() and not settings.warehouse_path.exists()


def test_bench_refuses_a_work_dir_it_did_not_create(tmp_path: Path) -> None:
    from northstar.errors import UserError

    foreign = tmp_path / "not_bench"
    foreign.mkdir()
    (foreign / "precious.duckdb").write_text("keep me", encoding="utf-8")
    settings = Settings(warehouse_dir=tmp_path / "warehouse", landing_dir=tmp_path / "landing")
    with pytest.raises(UserError, match="not a northstar bench directory"):
        run_bench(settings, visitors=10, days=1, console=Console(record=True), work_dir=foreign)
    assert (foreign / "precious.duckdb").read_text(encoding="utf-8") == "keep me"


def test_params_follow_the_settings() -> None:
    s = Settings(
        warehouse_dir=Path("w"), landing_dir=Path("l"), session_timeout_minutes=20, reporting_timezone="Europe/Berlin"
    )
    p = Params.from_settings(s)
    assert (p.session_timeout_minutes, p.reporting_timezone, p.is_utc) == (20, "Europe/Berlin", False)
    assert Params.from_json(p.to_json()) == p
