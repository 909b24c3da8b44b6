"""A hand-computed end-to-end case: landing rows -> load -> dbt build -> fct_kpi_daily and attribution.

Five visitors, all in USD and UTC, with every number worked out on paper in the comments below.

Traffic (channel from the channel rules; campaign_key from the spend rows' utm tags):
  V1 (anonymous a1)
    S1 2026-02-20 12:00  Email (utm newsletter/email/feb)      1 page view                   -> not engaged
    S2 2026-02-27 12:00  Direct                                1 page view                   -> not engaged
    S3 2026-03-02 12:00  Paid Search (google/cpc/brand, gclid) page view, add_to_cart 12:01, begin_checkout
                         12:02, purchase 12:02:30 of order o1 (100 USD, cost 60 -> margin 40)
                         duration 150 s -> engaged; macro 1 (purchase, weight 10), micro 1 (add_to_cart, weight 1)
  V2 (a2)
    S4 2026-02-23 09:00  Organic Search (referrer google.com)   1 page view                   -> not engaged
    S5 2026-03-02 09:00  Paid Social (facebook/paid_social/spring, fbclid) page views 09:00:00 and 09:00:30,
                         demo_request 09:01:30 -> engaged; macro 1 (demo_request, weight 8, value 150, a lead)
  V3 (a3)
    S6 2026-03-02 15:00  Direct                                1 page view                   -> not engaged
  V4 (a4)
    S7 2026-03-02 16:00  Paid Search (google/cpc/brand, gclid) page view, add_to_cart 16:00:10, page view /cart
                         16:00:20 -> 2 page views, engaged; micro 1 (add_to_cart, weight 1)
  V5 (a5)
    S8 2026-03-02 18:00  Direct                                page view, purchase 18:02 of order o2 (50 USD,
                         cost 30 -> margin 20) -> engaged (120 s); macro 1 (purchase, weight 10)

Spend: google_ads:111 (google/cpc/brand) 2026-03-02: 1000 impressions, 40 clicks, 80 USD;
       2026-03-03: 500 impressions, 10 clicks, 30 USD (a spend day without sessions);
       meta_ads:222 (facebook/paid_social/spring) 2026-03-02: 2000 impressions, 20 clicks, 50 USD.

Orders feed: o1 and o2 as tracked above, and o3 (2026-03-03 10:00, 40 USD, cost 25 -> margin 15, no user id) that no
event carries: the orders feed is the revenue truth (issue 11), so o3 counts on its own day in the channel and
campaign '(untracked)' and is attributed there with credit 1 in every model. Per day the marts hold the feed's
revenue: 2026-03-02 100 + 50 = 150 (2 orders), 2026-03-03 40 (1 order).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from northstar.config import ATTRIBUTION_MODELS, Settings

pytestmark = pytest.mark.slow

HOST = "https://www.northstar-shop.example"


NEWSLETTER = "/blog/spring?utm_source=newsletter&utm_medium=email&utm_campaign=feb"
BRAND = "/products/lamp?utm_source=google&utm_medium=cpc&utm_campaign=brand"
SPRING = "/products/tent?utm_source=facebook&utm_medium=paid_social&utm_campaign=spring&fbclid=f1"


def _event(eid: str, at: str, anon: str, name: str, path: str, **extra: object) -> dict[str, object]:
    return {
        "event_id": eid,
        "occurred_at": at,
        "anonymous_id": anon,
        "event_name": name,
        "page_url": HOST + path,
        **extra,
    }


EVENTS = [
    # V1: S1 Email, S2 Direct, S3 Paid Search with the purchase of o1
    _event("e01", "2026-02-20T12:00:00Z", "a1", "page_view", NEWSLETTER),
    _event("e02", "2026-02-27T12:00:00Z", "a1", "page_view", "/"),
    _event("e03", "2026-03-02T12:00:00Z", "a1", "page_view", BRAND + "&gclid=g1"),
    _event("e04", "2026-03-02T12:01:00Z", "a1", "add_to_cart", "/products/lamp"),
    _event("e05", "2026-03-02T12:02:00Z", "a1", "begin_checkout", "/checkout"),
    _event("e06", "2026-03-02T12:02:30Z", "a1", "purchase", "/thank-you", order_id="o1", revenue=100, currency="USD"),
    # V2: S4 Organic Search, S5 Paid Social with a demo request
    _event("e07", "2026-02-23T09:00:00Z", "a2", "page_view", "/", page_referrer="https://www.google.com/"),
    _event("e08", "2026-03-02T09:00:00Z", "a2", "page_view", SPRING),
    _event("e09", "2026-03-02T09:00:30Z", "a2", "page_view", "/demo"),
    _event("e10", "2026-03-02T09:01:30Z", "a2", "demo_request", "/demo"),
    # V3: S6 Direct bounce
    _event("e11", "2026-03-02T15:00:00Z", "a3", "page_view", "/"),
    # V4: S7 Paid Search, add to cart, no purchase
    _event("e12", "2026-03-02T16:00:00Z", "a4", "page_view", BRAND + "&gclid=g2"),
    _event("e13", "2026-03-02T16:00:10Z", "a4", "add_to_cart", "/products/lamp"),
    _event("e14", "2026-03-02T16:00:20Z", "a4", "page_view", "/cart"),
    # V5: S8 Direct purchase of o2
    _event("e15", "2026-03-02T18:00:00Z", "a5", "page_view", "/"),
    _event("e16", "2026-03-02T18:02:00Z", "a5", "purchase", "/thank-you", order_id="o2", revenue=50, currency="USD"),
]  # fmt: skip

SPEND_HEADER = ["date", "platform", "account_id", "campaign_id", "campaign_name", "adset_name", "ad_name",
                "utm_source", "utm_medium", "utm_campaign", "impressions", "clicks", "spend", "currency"]  # fmt: skip
GOOGLE = ["google_ads", "g-acc", "111", "Brand", "as1", "ad1", "google", "cpc", "brand"]
META = ["meta_ads", "m-acc", "222", "Spring", "as2", "ad2", "facebook", "paid_social", "spring"]
SPEND = [
    ["2026-03-02", *GOOGLE, 1000, 40, "80.00", "USD"],
    ["2026-03-03", *GOOGLE, 500, 10, "30.00", "USD"],
    ["2026-03-02", *META, 2000, 20, "50.00", "USD"],
]

ORDERS_HEADER = ["order_id", "ordered_at", "user_id", "status", "revenue", "cost_of_goods", "currency"]
ORDERS = [
    ["o1", "2026-03-02T12:02:30Z", "", "completed", "100.00", "60.00", "USD"],
    ["o2", "2026-03-02T18:02:00Z", "", "completed", "50.00", "30.00", "USD"],
    ["o3", "2026-03-03T10:00:00Z", "", "completed", "40.00", "25.00", "USD"],
]

# fmt: off
NULL = None
# fct_kpi_daily, every column, row by row (date, channel, campaign_key first).
ZERO_SESSION_ROW = dict(
    spend=0.0, impressions=0, clicks=0, ctr=NULL, cpc=NULL, cpm=NULL, sessions=1, visitors=1, engaged_sessions=0,
    engagement_rate=0.0, converting_sessions=0, micro_converting_sessions=0, macro_conversions=0, micro_conversions=0,
    leads=0, conversion_rate=0.0, micro_conversion_rate=0.0, goal_score=0.0, orders=0, revenue=0.0, gross_margin=0.0,
    aov=NULL, cpa=NULL, cpl=NULL, roas=NULL, roi=NULL,
)  # one bounce, no spend: every ratio over spend / clicks / impressions / orders is NULL (safe division)
EXPECTED_KPI_DAILY = {
    (date(2026, 2, 20), "Email", "utm:newsletter/email/feb"): ZERO_SESSION_ROW,  # S1
    (date(2026, 2, 23), "Organic Search", "(none)"): ZERO_SESSION_ROW,  # S4
    (date(2026, 2, 27), "Direct", "(none)"): ZERO_SESSION_ROW,  # S2
    # S6 (bounce) + S8 (purchase o2): 2 sessions of 2 visitors, 1 engaged -> 1/2; 1 converting -> 1/2;
    # goal score 10; 1 order, revenue 50, margin 20, AOV 50 / 1; no spend: CPA 0 / 1 = 0, CPL 0 / 0 and
    # ROAS / ROI over spend 0 are NULL.
    (date(2026, 3, 2), "Direct", "(none)"): dict(
        spend=0.0, impressions=0, clicks=0, ctr=NULL, cpc=NULL, cpm=NULL, sessions=2, visitors=2, engaged_sessions=1,
        engagement_rate=0.5, converting_sessions=1, micro_converting_sessions=0, macro_conversions=1,
        micro_conversions=0, leads=0, conversion_rate=0.5, micro_conversion_rate=0.0, goal_score=10.0, orders=1,
        revenue=50.0, gross_margin=20.0, aov=50.0, cpa=0.0, cpl=NULL, roas=NULL, roi=NULL,
    ),
    # S3 + S7: 2 sessions, 2 visitors, both engaged -> 1.0; S3 converts -> 1/2; both have a micro -> 2/2;
    # goal score S3 10 + 1, S7 1 = 12; o1: revenue 100, margin 40. Spend 80, 1000 impressions, 40 clicks:
    # CTR 40 / 1000 = 0.04, CPC 80 / 40 = 2, CPM 1000 x 80 / 1000 = 80, CPA 80 / 1 = 80, CPL 80 / 0 = NULL,
    # ROAS 100 / 80 = 1.25, ROI (40 - 80) / 80 = -0.5.
    (date(2026, 3, 2), "Paid Search", "google_ads:111"): dict(
        spend=80.0, impressions=1000, clicks=40, ctr=0.04, cpc=2.0, cpm=80.0, sessions=2, visitors=2,
        engaged_sessions=2, engagement_rate=1.0, converting_sessions=1, micro_converting_sessions=2,
        macro_conversions=1, micro_conversions=2, leads=0, conversion_rate=0.5, micro_conversion_rate=1.0,
        goal_score=12.0, orders=1, revenue=100.0, gross_margin=40.0, aov=100.0, cpa=80.0, cpl=NULL, roas=1.25,
        roi=-0.5,
    ),
    # S5: 1 engaged session with the demo request (a lead, weight 8). Spend 50, 2000 impressions, 20 clicks:
    # CTR 0.01, CPC 2.5, CPM 25, CPA 50 / 1, CPL 50 / 1, ROAS 0 / 50 = 0, ROI (0 - 50) / 50 = -1; no order: AOV NULL.
    (date(2026, 3, 2), "Paid Social", "meta_ads:222"): dict(
        spend=50.0, impressions=2000, clicks=20, ctr=0.01, cpc=2.5, cpm=25.0, sessions=1, visitors=1,
        engaged_sessions=1, engagement_rate=1.0, converting_sessions=1, micro_converting_sessions=0,
        macro_conversions=1, micro_conversions=0, leads=1, conversion_rate=1.0, micro_conversion_rate=0.0,
        goal_score=8.0, orders=0, revenue=0.0, gross_margin=0.0, aov=NULL, cpa=50.0, cpl=50.0, roas=0.0, roi=-1.0,
    ),
    # Spend without sessions: CTR 10 / 500 = 0.02, CPC 30 / 10 = 3, CPM 1000 x 30 / 500 = 60;
    # session ratios NULL (0 sessions); CPA 30 / 0 NULL; ROAS 0 / 30 = 0; ROI (0 - 30) / 30 = -1.
    # o3, an order of the feed no session carries and no identity explains: no session, 1 order of 40 (margin 15),
    # 1 untracked purchase (a macro conversion): CPA 0 / 1 = 0, AOV 40 / 1; no spend: ROAS / ROI NULL.
    (date(2026, 3, 3), "(untracked)", "(untracked)"): dict(
        spend=0.0, impressions=0, clicks=0, ctr=NULL, cpc=NULL, cpm=NULL, sessions=0, visitors=0, engaged_sessions=0,
        engagement_rate=NULL, converting_sessions=0, micro_converting_sessions=0, macro_conversions=1,
        untracked_purchases=1, micro_conversions=0, leads=0, conversion_rate=NULL, micro_conversion_rate=NULL,
        goal_score=0.0, orders=1, revenue=40.0, gross_margin=15.0, aov=40.0, cpa=0.0, cpl=NULL, roas=NULL, roi=NULL,
    ),
    (date(2026, 3, 3), "Paid Search", "google_ads:111"): dict(
        spend=30.0, impressions=500, clicks=10, ctr=0.02, cpc=3.0, cpm=60.0, sessions=0, visitors=0,
        engaged_sessions=0, engagement_rate=NULL, converting_sessions=0, micro_converting_sessions=0,
        macro_conversions=0, micro_conversions=0, leads=0, conversion_rate=NULL, micro_conversion_rate=NULL,
        goal_score=0.0, orders=0, revenue=0.0, gross_margin=0.0, aov=NULL, cpa=NULL, cpl=NULL, roas=0.0, roi=-1.0,
    ),
}

# Attribution: (visitor, goal) -> model -> {session start: credit}.
# o1 (V1), 3 touches S1 (-10 days), S2 (-3 days), S3 (the converting session, its start 150 s before the purchase):
#   time decay weights 2^(-(10 d + 150 s) / 7 d), 2^(-(3 d + 150 s) / 7 d), 2^(-150 s / 7 d); the common factor
#   2^(-150 s / 7 d) cancels when normalising, leaving a = 2^(-10/7) = 0.3714985722842371,
#   b = 2^(-3/7) = 0.7429971445684742 (= 2a), c = 1; a + b + c = 2.114495716852711;
#   credits a / 2.1145 = 0.1756913335521854, b / 2.1145 = 0.3513826671043708, 1 / 2.1145 = 0.4729259993434438.
#   position_based 0.4 / 0.2 / 0.4; linear 1/3 each; last_non_direct = S3 (Paid Search).
# demo (V2), 2 touches S4 (7 days + 90 s before) and S5 (90 s before): weights 2^(-1) : 1 -> 1/3, 2/3.
# o2 (V5), 1 touch S8 (Direct): 1 for every model; last_non_direct falls back to Direct.
# The learned models train on five journeys: o1 [Email, Direct, Paid Search] converted, the demo [Organic Search,
# Paid Social] converted, o2 [Direct] converted; S6 [Direct] and S7 [Paid Search] touch no conversion: not converted
# (o3 has no path). markov: (start) -> Email 1/5, Organic Search 1/5, Direct 2/5, Paid Search 1/5; Email -> Direct;
#   Direct -> Paid Search, (conversion), (null) 1/3 each; Paid Search -> (conversion), (null) 1/2 each;
#   Organic Search -> Paid Social -> (conversion). P(Direct) = 1/3 x 1/2 + 1/3 = 1/2, P(start) = 1/5 x 1/2 + 1/5 +
#   2/5 x 1/2 + 1/5 x 1/2 = 3/5. Without Direct 3/10 (removal effect 1/2), Email 1/2 (1/6), Organic Search,
#   Paid Social and Paid Search 2/5 each (1/3): shares over 5/3 = Direct 3/10, Email 1/10, the others 1/5.
#   o1: Email 0.1, Direct 0.3, Paid Search 0.2 over 0.6 -> 1/6, 1/2, 1/3; the demo 1/2 each; o2 1.
# shapley (exact, 5 channels, worth = conversion rate of the journeys inside a set; the 32 sets enumerated with
#   fractions.Fraction, the 3-channel toy of test_attribution_learned.py is the one worked on paper): Direct
#   551/1800, Email 19/450, Organic Search = Paid Social 301/1800, Paid Search -149/1800 (share 0), sum 3/5.
#   o1: Email 76 and Direct 551 of 627 -> 4/33, 29/33, Paid Search nothing; the demo 1/2 each; o2 1.
S1, S2, S3 = "2026-02-20 12:00:00", "2026-02-27 12:00:00", "2026-03-02 12:00:00"
S4, S5, S8 = "2026-02-23 09:00:00", "2026-03-02 09:00:00", "2026-03-02 18:00:00"
EXPECTED_CREDITS = {
    ("a1", "purchase"): {
        "first_touch": {S1: 1.0},
        "last_touch": {S3: 1.0},
        "last_non_direct": {S3: 1.0},
        "linear": {S1: 1 / 3, S2: 1 / 3, S3: 1 / 3},
        "position_based": {S1: 0.4, S2: 0.2, S3: 0.4},
        "time_decay": {S1: 0.1756913335521854, S2: 0.3513826671043708, S3: 0.4729259993434438},
        "markov": {S1: 1 / 6, S2: 1 / 2, S3: 1 / 3},
        "shapley": {S1: 4 / 33, S2: 29 / 33},
    },
    ("a2", "demo_request"): {
        "first_touch": {S4: 1.0},
        "last_touch": {S5: 1.0},
        "last_non_direct": {S5: 1.0},
        "linear": {S4: 0.5, S5: 0.5},
        "position_based": {S4: 0.5, S5: 0.5},
        "time_decay": {S4: 1 / 3, S5: 2 / 3},
        "markov": {S4: 0.5, S5: 0.5},
        "shapley": {S4: 0.5, S5: 0.5},
    },
    ("a5", "purchase"): {model: {S8: 1.0} for model in ATTRIBUTION_MODELS},
}
# fmt: on
# money: o1 revenue 100 -> attributed_revenue = 100 x credit (time decay 17.569..., 35.138..., 47.292...);
# demo request: no revenue, attributed_value = 150 x credit (linear 75 + 75); o2: 50 to S8.
# (revenue, gross margin, value) of each conversion
MONEY = {
    ("a1", "purchase"): (100.0, 40.0, 100.0),
    ("a2", "demo_request"): (0.0, 0.0, 150.0),
    ("a5", "purchase"): (50.0, 20.0, 50.0),
}


def _write_landing(landing: Path) -> None:
    with (landing / "events_2026-03-02.jsonl").open("w") as f:
        for event in EVENTS:
            f.write(json.dumps(event) + "\n")
    for name, header, rows in (("ad_spend_2026-03-03.csv", SPEND_HEADER, SPEND),
                               ("orders_2026-03-02.csv", ORDERS_HEADER, ORDERS)):  # fmt: skip
        with (landing / name).open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(rows)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from northstar.build import run_dbt_build
    from northstar.ingest.load import load_paths

    landing = tmp_path_factory.mktemp("landing")
    _write_landing(landing)
    settings = Settings(warehouse_dir=tmp_path_factory.mktemp("wh"), landing_dir=landing)
    report = load_paths(settings, [str(landing)], progress=False)
    assert report.errors == []
    result = run_dbt_build(settings)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error
    return settings.warehouse_path


def _rows(path: Path, sql: str) -> list[dict[str, object]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _same(actual: object, expected: object) -> bool:
    if expected is None or actual is None:
        return actual is expected
    if isinstance(expected, float):
        return actual == pytest.approx(expected, abs=1e-9)
    return actual == expected


def test_kpi_daily_every_kpi_matches_the_hand_computation(warehouse: Path) -> None:
    rows = _rows(warehouse, "select * from marts.fct_kpi_daily order by date, channel, campaign_key")
    got = {(r["date"], r["channel"], r["campaign_key"]): r for r in rows}
    assert sorted(got) == sorted(EXPECTED_KPI_DAILY)
    for key, expected in EXPECTED_KPI_DAILY.items():
        wrong = {k: (got[key][k], v) for k, v in expected.items() if not _same(got[key][k], v)}
        assert not wrong, f"{key}: (actual, expected) {wrong}"


def test_attribution_credits_match_the_hand_computation(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        """
        select a.visitor_id, a.goal_id, a.model, strftime(a.session_started_at, '%Y-%m-%d %H:%M:%S') as started,
               a.credit, a.attributed_revenue, a.attributed_gross_margin, a.attributed_value, a.touches
        from marts.fct_attributed_conversions as a
        where a.is_tracked
        """,
    )
    got: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for r in rows:
        got.setdefault((r["visitor_id"], r["goal_id"]), {}).setdefault(r["model"], {})[r["started"]] = r["credit"]
    assert sorted(got) == sorted(EXPECTED_CREDITS)
    for conversion, models in EXPECTED_CREDITS.items():
        assert sorted(got[conversion]) == sorted(models)
        for model, credits in models.items():
            actual = got[conversion][model]
            assert sorted(actual) == sorted(credits), (conversion, model, actual)
            for started, credit in credits.items():
                assert actual[started] == pytest.approx(credit, abs=1e-12), (conversion, model, started)
    for r in rows:
        revenue, margin, value = MONEY[(r["visitor_id"], r["goal_id"])]
        assert r["attributed_revenue"] == pytest.approx(revenue * r["credit"], abs=1e-9)
        assert r["attributed_gross_margin"] == pytest.approx(margin * r["credit"], abs=1e-9)
        assert r["attributed_value"] == pytest.approx(value * r["credit"], abs=1e-9)


def test_time_decay_money_written_out(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        "select strftime(session_started_at, '%Y-%m-%d %H:%M:%S') as started, attributed_revenue "
        "from marts.fct_attributed_conversions where model = 'time_decay' and visitor_id = 'a1'",
    )
    # 100 x 0.17569..., 100 x 0.35138..., 100 x 0.47292...
    expected = {S1: 17.569133355218543, S2: 35.13826671043709, S3: 47.29259993434438}
    assert {r["started"]: pytest.approx(r["attributed_revenue"], abs=1e-9) for r in rows} == expected


def test_marts_revenue_equals_the_feed_per_day(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        "select date, sum(orders) as orders, sum(revenue) as revenue from marts.fct_kpi_daily "
        "group by date having sum(orders) > 0 order by date",
    )
    # the feed: 2026-03-02 o1 100 + o2 50; 2026-03-03 o3 40
    assert [(r["date"], r["orders"], r["revenue"]) for r in rows] == [
        (date(2026, 3, 2), 2, pytest.approx(150.0, abs=0.005)),
        (date(2026, 3, 3), 1, pytest.approx(40.0, abs=0.005)),
    ]


def test_order_no_session_carries_is_attributed_to_untracked(warehouse: Path) -> None:
    rows = _rows(
        warehouse,
        "select conversion_id, model, session_id, channel, campaign_key, credit, attributed_revenue, "
        "attributed_gross_margin, kpi_date from marts.fct_attributed_conversions where not is_tracked order by model",
    )
    # the learned models too: an '(untracked)' touch has no channel they weigh, so it is split equally (1 touch)
    models = ["first_touch", "last_non_direct", "last_touch", "linear", "markov", "position_based", "shapley"]
    assert [r["model"] for r in rows] == [*models, "time_decay"]
    for r in rows:
        assert (r["conversion_id"], r["session_id"], r["channel"], r["campaign_key"]) == (
            "order:o3",
            None,
            "(untracked)",
            "(untracked)",
        )
        assert (r["credit"], r["attributed_revenue"], r["kpi_date"]) == (1.0, pytest.approx(40.0), date(2026, 3, 3))
        assert r["attributed_gross_margin"] == pytest.approx(15.0)
