"""Every mart built incrementally equals a full refresh, row for row, late events included; a failing build
reports clearly.

Generated data: 7 days, 400 visitors. Warehouse A loads days 1-6, builds, then loads day 7 plus a file of late
events dated days 5 and 6 (inside the incremental lookback) and builds incrementally; warehouse B loads the same
files and builds with --full-refresh. Every mart (and the two intermediate contract tables the KPI marts build
on) must hold the same rows in both. About 2 minutes on 2 cores.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from northstar.config import Settings

pytestmark = pytest.mark.slow

START = date(2026, 1, 1)
DAYS = 7
MARTS = [
    "fct_sessions",
    "fct_conversions",
    "fct_funnel_daily",
    "fct_attributed_conversions",
    "fct_attribution_channel_weights",
    "fct_kpi_daily",
    "fct_campaign_performance",
    "fct_kpi_scorecard",
    "fct_kpi_alerts",
    "fct_revenue_reconciliation",
    "dim_customers",
    "dim_campaigns",
    "dim_goals",
    "dim_channels",
]
TABLES = [f"marts.{m}" for m in MARTS] + ["intermediate.int_spend_daily", "intermediate.int_leads_lifecycle"]
# Run timestamps differ between two builds by design; marts should have none.
RUN_COLUMNS = {"_batch_at"}


def _files_until(landing: Path, last_day: date) -> list[str]:
    """Landing files whose name carries a day <= last_day (events_2026-01-03.jsonl.gz ...)."""
    out = []
    for path in sorted(landing.iterdir()):
        stem = path.name.split(".")[0]
        if "_" not in stem:
            continue
        try:
            day = date.fromisoformat(stem.rsplit("_", 1)[1])
        except ValueError:
            continue
        if day <= last_day:
            out.append(str(path))
    return out


def _build(settings: Settings, full_refresh: bool = False) -> None:
    from northstar.build import run_dbt_build

    result = run_dbt_build(settings, full_refresh=full_refresh)
    assert result.success, [f"{n.name}: {n.message}" for n in result.failures] or result.error


def _load(settings: Settings, paths: list[str]) -> None:
    from northstar.ingest.load import load_paths

    report = load_paths(settings, paths, progress=False)
    assert report.errors == []


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Settings]]:
    from northstar.sample.generate import generate

    with pytest.MonkeyPatch.context() as mp:
        # Data and unit tests run in every other build; here only the models' rows matter (and time).
        mp.setenv("DBT_EXCLUDE_RESOURCE_TYPES", "test unit_test")
        yield _build_both(tmp_path_factory, generate)


def _read_events(landing: Path) -> list[dict]:
    """The generated events that sessionize by device (valid, consented, no source session id)."""
    events = []
    for path in sorted(landing.glob("events_*.jsonl.gz")):
        for line in gzip.decompress(path.read_bytes()).decode(errors="replace").splitlines():
            try:
                event = json.loads(line)
                at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
            except (ValueError, KeyError, TypeError):
                continue  # the generator's deliberately dirty rows
            event["_at"] = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at  # naive means UTC
            consented = event.get("consent_analytics") is not False
            if event.get("anonymous_id") and event.get("event_name") and not event.get("session_id") and consented:
                events.append(event)
    return sorted(events, key=lambda e: (e["anonymous_id"], e["_at"]))


def _write_late_events(landing: Path, out_dir: Path) -> Path:
    """Late events of existing devices on days 5 and 6 (inside the lookback), in the landing contract format.

    They extend a session, move a session's start earlier under paid tags (its channel changes), add a session
    with a purchase to a visitor first seen before the lookback window, add a session crossing midnight, and
    log a device in as an existing customer (identity stitching).
    """
    day5, day6 = date(2026, 1, 5), date(2026, 1, 6)
    events = _read_events(landing)
    by_device: dict[str, list[dict]] = {}
    for e in events:
        by_device.setdefault(e["anonymous_id"], []).append(e)

    def on(device: str, day: date) -> list[dict]:
        return [e for e in by_device[device] if e["_at"].date() == day]

    only_day5 = [d for d in by_device if on(d, day5) and not on(d, day6)]
    only_day6 = [d for d in by_device if on(d, day6) and not on(d, day5)]
    returning = [d for d in by_device if by_device[d][0]["_at"].date() <= date(2026, 1, 3) and not on(d, day6)]
    tagged = next(e for e in events if e.get("utm_medium") in ("cpc", "paid_social"))
    customer = next(e["user_id"] for e in events if e.get("user_id") and e["event_name"] == "purchase")
    assert len(only_day5) >= 2 and len(only_day6) >= 2 and returning, "the generated data changed: pick others"

    late: list[dict] = []

    def add(device: str, at: datetime, name: str = "page_view", **fields: object) -> None:
        first = by_device[device][0]
        late.append(
            {
                "event_id": f"late-{len(late) + 1:03d}",
                "occurred_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "anonymous_id": device,
                "event_name": name,
                "page_url": "https://www.northstar-shop.example/late",
                "device_category": first.get("device_category", "desktop"),
                "country": first.get("country", "US"),
                **fields,
            }
        )

    extended = on(only_day5[0], day5)[-1]
    add(only_day5[0], extended["_at"] + timedelta(minutes=5))
    started = on(only_day6[0], day6)[0]
    utm = {k: tagged[k] for k in ("utm_source", "utm_medium", "utm_campaign") if tagged.get(k)}
    add(only_day6[0], started["_at"] - timedelta(minutes=10), **utm)
    noon = datetime.combine(day6, datetime.min.time()) + timedelta(hours=14)
    add(returning[0], noon, **utm)
    add(returning[0], noon + timedelta(minutes=3), "add_to_cart")
    add(returning[0], noon + timedelta(minutes=6), "purchase", order_id="ORD-LATE-1", revenue=120.0, currency="USD")
    midnight = datetime.combine(day6, datetime.min.time())
    for minutes in (-10, 5, 12):
        add(only_day5[1], midnight + timedelta(minutes=minutes))
    add(only_day6[1], on(only_day6[1], day6)[-1]["_at"] + timedelta(minutes=2), "login", user_id=customer)

    path = out_dir / "events_late_2026-01-07.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in late))
    return path


def _build_both(tmp_path_factory: pytest.TempPathFactory, generate) -> tuple[Settings, Settings]:
    landing = tmp_path_factory.mktemp("landing")
    generate(landing, days=DAYS, start=START, visitors=400, seed=11, progress=False)
    late = str(_write_late_events(landing, tmp_path_factory.mktemp("late")))
    last = date.fromordinal(START.toordinal() + DAYS - 1)
    before_last = date.fromordinal(last.toordinal() - 1)

    incremental = Settings(warehouse_dir=tmp_path_factory.mktemp("wh_incremental"), landing_dir=landing)
    _load(incremental, _files_until(landing, before_last))
    _build(incremental)
    _load(incremental, [*_files_until(landing, last), late])
    _build(incremental)

    full = Settings(warehouse_dir=tmp_path_factory.mktemp("wh_full"), landing_dir=landing)
    _load(full, [*_files_until(landing, last), late])
    _build(full, full_refresh=True)
    return incremental, full


@pytest.fixture
def both(warehouses: tuple[Settings, Settings]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Both warehouses attached read-only; closed after each test so a later build can write them."""
    incremental, full = warehouses
    con = duckdb.connect()
    con.execute(f"attach '{incremental.warehouse_path}' as inc (read_only)")
    con.execute(f"attach '{full.warehouse_path}' as ful (read_only)")
    yield con
    con.close()


def test_every_mart_is_compared(both: duckdb.DuckDBPyConnection) -> None:
    built = both.execute(
        "select table_name from information_schema.tables where table_catalog = 'ful' and table_schema = 'marts'"
    ).fetchall()
    assert sorted(t for (t,) in built) == sorted(MARTS)


def test_late_events_were_processed(both: duckdb.DuckDBPyConnection) -> None:
    late = both.execute("select count(*) from inc.raw.events where event_id like 'late-%'").fetchone()[0]
    in_marts = both.execute(
        "select count(*) from inc.marts.fct_conversions where session_id in (select session_id from "
        "inc.intermediate.int_events_sessionized where event_id like 'late-%')"
    ).fetchone()[0]
    assert late == 9 and in_marts > 0, (late, in_marts)
    sessions = both.execute("select count(*) from ful.marts.fct_sessions").fetchone()[0]
    days = both.execute("select count(distinct session_date) from ful.marts.fct_sessions").fetchone()[0]
    assert sessions > 100 and days >= DAYS, (sessions, days)


# Exactly equal, doubles included: money and goal scores are summed with exact_sum() (order-independent).
@pytest.mark.parametrize("table", TABLES)
def test_incremental_build_equals_full_refresh(both: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = [r[0] for r in both.execute(f"describe ful.{table}").fetchall() if r[0] not in RUN_COLUMNS]
    cols = ", ".join(f'"{c}"' for c in columns)
    n_inc = both.execute(f"select count(*) from inc.{table}").fetchone()[0]
    n_full = both.execute(f"select count(*) from ful.{table}").fetchone()[0]
    only_inc = both.execute(f"select {cols} from inc.{table} except all select {cols} from ful.{table}").fetchall()
    only_full = both.execute(f"select {cols} from ful.{table} except all select {cols} from inc.{table}").fetchall()
    assert (n_inc, only_inc, only_full) == (n_full, [], []), (
        f"{table}: {n_inc} rows incrementally, {n_full} after a full refresh; "
        f"{len(only_inc)} only incremental (first {only_inc[:3]}), {len(only_full)} only full (first {only_full[:3]})"
    )


def test_sessions_reconcile_with_conversions(warehouses: tuple[Settings, Settings]) -> None:
    _, full = warehouses
    with duckdb.connect(str(full.warehouse_path), read_only=True) as con:
        by_session = con.execute(
            "select sum(macro_conversions), sum(micro_conversions), sum(orders), round(sum(revenue), 2) "
            "from marts.fct_sessions"
        ).fetchone()
        by_conversion = con.execute(
            "select count(*) filter (where goal_type = 'macro'), count(*) filter (where goal_type = 'micro'), "
            "count(*) filter (where is_order), round(coalesce(sum(revenue), 0), 2) from marts.fct_conversions"
        ).fetchone()
    assert by_session == by_conversion


def test_failed_model_gives_short_message_and_log_path(warehouses: tuple[Settings, Settings]) -> None:
    from northstar.build import run_dbt_build

    incremental, _ = warehouses
    # An impossible timezone (config validation bypassed) makes the timezone conversion fail inside dbt.
    broken = replace(incremental, reporting_timezone="Mars/Olympus_Mons")
    result = run_dbt_build(broken, select=["int_sessions_classified"])
    assert not result.success
    assert [n.name for n in result.failures] == ["int_sessions_classified"]
    assert result.log_path == broken.dbt_log_dir / "dbt.log" and result.log_path.exists()
    from rich.console import Console

    console = Console(record=True, width=200)
    console.print(result.summary())
    text = console.export_text()
    assert "FAILED" in text and "int_sessions_classified" in text and str(result.log_path) in text


def test_sessions_without_consent_carry_no_identifier_into_the_marts(warehouses: tuple[Settings, Settings]) -> None:
    """consent = false removes identifiers from user-level marts (issue 13): a session in which any event lacked
    analytics consent is keyed 'anon-' || md5(its first event_id) everywhere, never by its device's anonymous_id
    or user_id, so it counts in aggregates but links to nobody."""
    _, full = warehouses
    with duckdb.connect(str(full.warehouse_path), read_only=True) as con:
        con.execute(
            "create temp table unconsented as select session_id, list(distinct anonymous_id) "
            "|| list(distinct user_id) filter (where user_id is not null) as ids "
            "from intermediate.int_events_sessionized group by session_id having not bool_and(is_consented)"
        )
        assert con.execute("select count(*) from unconsented").fetchone()[0] > 0  # the generator's ~5 %
        for mart in ("fct_sessions", "fct_conversions", "fct_attributed_conversions"):
            bad = con.execute(
                f"select count(*) from marts.{mart} as m join unconsented as u using (session_id) "
                "where m.visitor_id is not null and (not starts_with(m.visitor_id, 'anon-') "
                "or list_contains(u.ids, m.visitor_id))"
            ).fetchone()[0]
            assert bad == 0, f"{mart}: {bad} rows of sessions without consent carry an identifier"
        leaked = con.execute(
            "select count(*) from marts.dim_customers as d join (select unnest(ids) as id from unconsented) as u "
            "on d.visitor_id = u.id where d.visitor_id not in (select visitor_id from marts.fct_sessions "
            "where is_consented)"
        ).fetchone()[0]
        assert leaked == 0, f"dim_customers: {leaked} customers known only from sessions without consent"


def _journeys(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[bool, list[str]]]:
    journeys: dict[str, tuple[bool, list[str]]] = {}
    for journey, converted, channel in con.execute(
        "select journey_id, is_converted, channel from intermediate.int_attribution_journeys order by 1, touch_position"
    ).fetchall():
        journeys.setdefault(journey, (converted, []))[1].append(channel)
    return journeys


def _markov_shares(journeys: dict[str, tuple[bool, list[str]]]) -> dict[str, float]:
    """Removal-effect shares by numpy's linear solve of the absorbing chain, independent of the SQL's walk."""
    import numpy as np

    counts: dict[tuple[str, str], int] = {}
    for converted, channels in journeys.values():
        path = [c for i, c in enumerate(channels) if i == 0 or channels[i - 1] != c]
        states = ["(start)", *path, "(conversion)" if converted else "(null)"]
        for a, b in zip(states, states[1:], strict=False):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    out_of = {a: sum(n for (x, _), n in counts.items() if x == a) for a, _ in counts}
    channels = sorted({c for _, cs in journeys.values() for c in cs})

    def p_conversion(removed: str | None) -> float:
        states = ["(start)", *(c for c in channels if c != removed)]
        index = {s: i for i, s in enumerate(states)}
        q, r = np.zeros((len(states), len(states))), np.zeros(len(states))
        for (a, b), n in counts.items():
            if a in index and b == "(conversion)":
                r[index[a]] += n / out_of[a]
            elif a in index and b in index:
                q[index[a], index[b]] += n / out_of[a]
        return float(np.linalg.solve(np.eye(len(states)) - q, r)[0])

    whole = p_conversion(None)
    effects = {c: 1 - p_conversion(c) / whole for c in channels}
    return {c: e / sum(effects.values()) for c, e in effects.items()}


def _shapley_values(journeys: dict[str, tuple[bool, list[str]]]) -> dict[str, float]:
    """Exact Shapley values by enumerating the channel sets in Python (worth: conversion rate of the journeys
    whose channels all lie in the set)."""
    from itertools import combinations
    from math import factorial

    sets = [(converted, frozenset(channels)) for converted, channels in journeys.values()]
    channels = sorted({c for _, s in sets for c in s})
    n = len(channels)

    def worth(coalition: frozenset[str]) -> float:
        inside = [converted for converted, s in sets if s <= coalition]
        return sum(inside) / len(inside) if inside else 0.0

    values = {}
    for c in channels:
        others = [o for o in channels if o != c]
        values[c] = sum(
            factorial(k) * factorial(n - k - 1) / factorial(n) * (worth(frozenset(s) | {c}) - worth(frozenset(s)))
            for k in range(n)
            for s in combinations(others, k)
        )
    return values


def test_learned_attribution_equals_an_independent_computation(warehouses: tuple[Settings, Settings]) -> None:
    """markov's shares against numpy's absorbing-chain solve, shapley's values against a Python enumeration, both
    to 1e-9 on the generated journeys; and every conversion's credits under each learned model sum to 1."""
    _, full = warehouses
    with duckdb.connect(str(full.warehouse_path), read_only=True) as con:
        journeys = _journeys(con)
        learned = {
            (model, channel): (method, value, share)
            for model, channel, method, value, share in con.execute(
                "select model, channel, method, learned_score, share from marts.fct_attribution_channel_weights"
            ).fetchall()
        }
        worst_sum = con.execute(
            "select max(abs(total - 1)) from (select sum(credit) as total from marts.fct_attributed_conversions"
            " where model in ('markov', 'shapley') group by conversion_id, model)"
        ).fetchone()[0]
    assert sum(converted for converted, _ in journeys.values()) > 10, "too few converting journeys to learn from"
    markov, shapley = _markov_shares(journeys), _shapley_values(journeys)
    assert {c: learned[("markov", c)][2] for c in markov} == pytest.approx(markov, abs=1e-9)
    assert {c: learned[("shapley", c)][1] for c in shapley} == pytest.approx(shapley, abs=1e-9)
    assert {learned[("shapley", c)][0] for c in shapley} == {"exact"}
    assert worst_sum < 1e-9
