"""northstar generate: determinism, the four kinds, incidents and dirty rows (small sizes, a few seconds)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from northstar.errors import UserError
from northstar.sample.generate import DIRTY_PLAN, Plan, generate

START = date(2026, 1, 1)
DAYS = 35


def _checksums(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def _events(path: Path) -> list[dict]:
    """Parseable events of one file (dirty lines skipped, as the loader would quarantine them)."""
    out = []
    with gzip.open(path) as fh:
        for raw in fh:
            try:
                e = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if e.get("anonymous_id") and e.get("event_name") and not e["event_id"].startswith("dirty-"):
                out.append(e)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen") / "landing"
    result = generate(out, days=DAYS, start=START, visitors=5000, seed=11, progress=False)
    manifest = json.loads(result.manifest_path.read_text())
    events = {p.name[7:17]: _events(p) for p in sorted(out.glob("events_*.jsonl.gz"))}
    return out, result, manifest, events


def test_default_window_incident_dates() -> None:
    # 90 days from 2026-01-01: breakage days 50-56, overspend from Feb 1, outage on day 68.
    p = Plan.for_window(date(2026, 1, 1), 90)
    d = lambda i: date(2026, 1, 1) + timedelta(days=i)  # noqa: E731
    assert (d(p.breakage_start), d(p.breakage_end)) == (date(2026, 2, 19), date(2026, 2, 25))
    assert d(p.overspend_start) == date(2026, 2, 1)
    assert d(p.outage_day) == date(2026, 3, 9)


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    kw = {"days": 4, "start": START, "visitors": 400, "progress": False}
    generate(tmp_path / "a", seed=3, **kw)
    generate(tmp_path / "b", seed=3, **kw)
    generate(tmp_path / "c", seed=4, **kw)
    a, b, c = (_checksums(tmp_path / x) for x in "abc")
    assert a == b
    assert a.keys() == c.keys()
    assert a["events_2026-01-01.jsonl.gz"] != c["events_2026-01-01.jsonl.gz"]


def test_all_four_kinds_one_file_per_day(run) -> None:
    out, result, manifest, _ = run
    for kind, ext in (("events", ".jsonl.gz"), ("ad_spend", ".csv"), ("orders", ".csv"), ("leads", ".jsonl")):
        files = sorted(out.glob(f"{kind}_2026-*{ext}"))
        assert len(files) == DAYS, kind
        assert result.rows[kind] > 0
    assert manifest["rows"] == result.rows
    assert (out / "incidents.json") == result.manifest_path
    with (out / "orders_2026-01-10.csv").open() as fh:
        assert next(csv.reader(fh)) == ["order_id", "ordered_at", "user_id", "status", "revenue", "cost_of_goods",
                                        "currency"]  # fmt: skip


def test_manifest_has_incidents_and_every_dirty_category(run) -> None:
    _, result, manifest, _ = run
    assert manifest["campaign_overspend"]["campaign_key"] == "tiktok_ads:1790002"
    assert manifest["non_utc_account"]["timezone"] == "America/Los_Angeles"
    for key in ("checkout_breakage", "tracking_outage"):
        assert key in manifest
    for cat, kinds in DIRTY_PLAN.items():
        for kind in kinds:
            assert manifest["dirty_rows"][cat][kind] >= 1, (cat, kind)
    assert manifest["dirty_rows"] == result.dirty_rows
    # a small share: well under 1 % of the clean events
    dirty_events = sum(v.get("events", 0) for v in manifest["dirty_rows"].values())
    assert dirty_events < 0.01 * result.rows["events"]


def test_non_utf8_and_duplicate_lines_are_really_there(run) -> None:
    out, _, _, _ = run
    bad_utf8, ids = 0, Counter()
    for p in out.glob("events_*.jsonl.gz"):
        for raw in gzip.decompress(p.read_bytes()).splitlines():
            try:
                ids[json.loads(raw.decode("utf-8")).get("event_id")] += 1
            except UnicodeDecodeError:
                bad_utf8 += 1
            except json.JSONDecodeError:
                pass
    assert bad_utf8 >= 1
    assert any(n > 1 for n in ids.values())


def test_purchases_have_matching_orders(run) -> None:
    out, _, manifest, events = run
    orders = {}
    for p in out.glob("orders_*.csv"):
        for r in csv.DictReader(p.open()):
            orders[r["order_id"]] = r
    purchases = [e for evs in events.values() for e in evs if e["event_name"] == "purchase"]
    assert len(purchases) > 20
    for e in purchases:
        o = orders[e["order_id"]]
        assert float(o["revenue"]) == pytest.approx(e["revenue"]) and o["currency"] == e["currency"]
    statuses = Counter(o["status"] for o in orders.values() if not o["order_id"].startswith("BAD-"))
    assert statuses["completed"] > statuses["refunded"] > 0 and statuses["cancelled"] > 0
    assert {o["currency"] for o in orders.values()} >= {"USD", "EUR", "GBP"}


def test_offline_campaigns_have_spend_and_sessions(run) -> None:
    out, _, _, events = run
    spend = Counter()
    for p in out.glob("ad_spend_*.csv"):
        for r in csv.DictReader(p.open(encoding="utf-8")):
            if r["platform"] in ("tv", "radio", "print"):
                assert r["impressions"] == "" and r["clicks"] == ""
                spend[r["platform"]] += 1
    landings = Counter(
        src for evs in events.values() for e in evs for src in ("tv", "radio", "print")
        if f"utm_source={src}&utm_medium=offline" in e.get("page_url", "")
    )  # fmt: skip
    for src in ("tv", "radio", "print"):
        assert spend[src] > 0 and landings[src] > 0, src


def test_spend_clicks_follow_sessions_and_currencies(run) -> None:
    out, _, _, _ = run
    rows = list(csv.DictReader((out / "ad_spend_2026-01-20.csv").open(encoding="utf-8")))
    dates = {r["date"] for r in rows}
    assert dates >= {"2026-01-18", "2026-01-19", "2026-01-20"}  # restates the previous 2 days
    assert {r["currency"] for r in rows} >= {"USD", "EUR"}
    meta = [r for r in rows if r["platform"] == "meta_ads"]
    assert meta and all(r["currency"] == "EUR" for r in meta)


def test_tracking_outage_day_has_few_events(run) -> None:
    _, _, manifest, events = run
    day = date.fromisoformat(manifest["tracking_outage"]["date"])
    n = len(events[day.isoformat()])
    neighbours = [len(events[(day + timedelta(days=k)).isoformat()]) for k in (-2, -1, 1, 2)]
    assert n < 0.1 * min(neighbours)


def test_checkout_breakage_halves_checkout_to_purchase(run) -> None:
    _, _, manifest, events = run
    b0 = date.fromisoformat(manifest["checkout_breakage"]["start"])
    b1 = date.fromisoformat(manifest["checkout_breakage"]["end"])
    inside, outside = Counter(), Counter()
    for day, evs in events.items():
        bucket = inside if b0 <= date.fromisoformat(day) <= b1 else outside
        bucket.update(e["event_name"] for e in evs)
    rate_in = inside["purchase"] / inside["begin_checkout"]
    rate_out = outside["purchase"] / outside["begin_checkout"]
    assert 0.3 < rate_in / rate_out < 0.7


def test_identity_consent_and_app_sessions(run) -> None:
    _, _, _, events = run
    flat = [e for evs in events.values() for e in evs]
    names = Counter(e["event_name"] for e in flat)
    for n in (
        "page_view",
        "add_to_cart",
        "add_to_wishlist",
        "begin_checkout",
        "purchase",
        "demo_request",
        "contact_form_submit",
        "whitepaper_download",
        "chat_start",
        "newsletter_signup",
        "sign_up",
        "login",
    ):
        assert names[n] > 0, n  # fmt: skip
    assert any(e.get("consent_analytics") is False for e in flat)
    assert any(e.get("session_id") and e.get("properties", {}).get("platform") == "app" for e in flat)
    # an anonymous id that later carries a user_id: stitching material
    seen_anon = {e["anonymous_id"] for e in flat if not e.get("user_id")}
    assert any(e.get("user_id") and e["anonymous_id"] in seen_anon for e in flat)
    assert any(e["occurred_at"].endswith("Z") for e in flat) and any("+02:00" in e["occurred_at"] for e in flat)


def test_leads_move_through_stages(run) -> None:
    out, _, _, _ = run
    stages = Counter()
    for p in out.glob("leads_*.jsonl"):
        for raw in p.read_bytes().splitlines():
            try:
                r = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            stages[r.get("stage")] += 1
            if r.get("stage") in ("opportunity", "won"):
                assert r["deal_value"] > 0
    assert stages["lead"] > stages["mql"] > stages["sql"] > stages["opportunity"] > 0
    assert stages["won"] > 0 and stages["lost"] > 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_other_event_formats(tmp_path: Path, fmt: str) -> None:
    res = generate(tmp_path, days=3, start=START, visitors=300, seed=5, file_format=fmt, progress=False)
    ext = ".parquet" if fmt == "parquet" else ".csv.gz"
    files = sorted(tmp_path.glob(f"events_*{ext}"))
    assert len(files) == 3
    if fmt == "parquet":
        assert sum(pq.read_metadata(f).num_rows for f in files) >= res.rows["events"]
    assert res.summary() is not None


def test_bad_arguments_are_clear(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--format"):
        generate(tmp_path, days=1, visitors=10, file_format="xml", progress=False)
    with pytest.raises(UserError, match="--days"):
        generate(tmp_path, days=0, visitors=10, progress=False)
