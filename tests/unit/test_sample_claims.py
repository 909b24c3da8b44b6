"""The ad platforms' own conversion claims in the sample data (northstar/sample/claims.py): click windows, one order
claimed by several platforms, view-through chances, the account's day, and what lands in the spend files."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from northstar.sample import claims as claims_mod
from northstar.sample.catalog import SOURCE_INDEX, SOURCES
from northstar.sample.claims import DAY_MS, PlatformClaims
from northstar.sample.generate import generate

START = date(2026, 1, 1)
GOOGLE = SOURCE_INDEX["google_brand"]  # google_ads, account in America/Los_Angeles
META = SOURCE_INDEX["fb_prospecting"]  # meta_ads, UTC
BING = SOURCE_INDEX["bing_shop"]  # microsoft_ads, UTC
TV = SOURCE_INDEX["tv"]  # offline: never claims


def _ms(day: int, hour: float) -> int:
    return PlatformClaims(1, START).start_ms + day * DAY_MS + int(hour * 3_600_000)


def test_click_windows_and_several_platforms_claim_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claims_mod, "VIEW_THROUGH", {})  # clicks only: every number below by hand
    c = PlatformClaims(7, START)
    # Buyer 1: google click on day 0, meta click on day 2, TV visit on day 3; buys 50 USD on day 10 at 12:00 UTC.
    # google (30-day window): 10 days -> claims; meta (7 days): 8 days 2 h -> no claim; TV never claims.
    c.click(1, GOOGLE, 0, _ms(0, 10))
    c.click(1, META, 1, _ms(2, 10))
    c.click(1, TV, 0, _ms(3, 10))
    c.purchase(1, _ms(10, 12), 50.0, "o1")
    # Buyer 2: google click on day 5, meta on day 9, bing on day 9; buys 80 USD on day 11 at 03:00 UTC, which is
    # day 10 19:00 in Los Angeles: google claims it on its account's day 10, meta and bing on the UTC day 11.
    c.click(2, GOOGLE, 0, _ms(5, 10))
    c.click(2, META, 2, _ms(9, 10))
    c.click(2, BING, 0, _ms(9, 11))
    c.purchase(2, _ms(11, 3), 80.0, "o2")
    assert c.claimed(GOOGLE, 0, 10) == (2, 130.0)  # o1 and o2 on the Los Angeles day 10
    assert c.claimed(META, 1, 10) == (0, 0.0) and c.claimed(META, 2, 11) == (1, 80.0)
    assert c.claimed(BING, 0, 11) == (1, 80.0)
    assert c.claimed(TV, 0, 10) == (0, 0.0)
    # 2 orders, 4 claims: o2 is claimed by three platforms at once
    assert sum(n for n, _ in c.claims.values()) == 4
    c.forget_before(11)
    assert c.claimed(GOOGLE, 0, 10) == (0, 0.0) and c.claimed(META, 2, 11) == (1, 80.0)


def test_view_through_claims_buyers_who_never_clicked() -> None:
    c = PlatformClaims(7, START)
    n = 4000
    for i in range(n):
        c.purchase(100 + i, _ms(5, 12), 10.0, f"o{i}")
    per_platform: dict[str, int] = {}
    for (src_i, _ad, _day), (count, _usd) in c.claims.items():
        platform = SOURCES[src_i].platform
        per_platform[platform] = per_platform.get(platform, 0) + int(count)
    assert set(per_platform) == {"meta_ads", "tiktok_ads"}  # views only on the platforms with view-through
    assert per_platform["meta_ads"] / n == pytest.approx(0.15, abs=0.02)
    assert per_platform["tiktok_ads"] / n == pytest.approx(0.08, abs=0.015)


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def test_spend_files_carry_the_claims(tmp_path: Path) -> None:
    out = tmp_path / "landing"
    generate(out, days=12, start=START, visitors=3000, seed=5, progress=False)
    last = out / "ad_spend_2026-01-12.csv"
    rows = [r for p in sorted(out.glob("ad_spend_*.csv")) for r in csv.DictReader(p.open(encoding="utf-8"))]
    final = [r for r in rows if _day(r["date"]) and r["date"] <= "2026-01-10" and r["campaign_id"]]  # no dirty rows
    assert final and last.exists()
    offline = [r for r in final if r["platform"] in ("tv", "radio", "print")]
    online = [r for r in final if r["platform"] not in ("tv", "radio", "print")]
    assert offline and all(r["platform_conversions"] == "" == r["platform_conversion_value"] for r in offline)
    claimed = {r["platform"] for r in online if r["platform_conversions"] not in ("", "0")}
    assert {"google_ads", "meta_ads", "tiktok_ads"} <= claimed
    for r in online:
        n, value = int(r["platform_conversions"]), float(r["platform_conversion_value"])
        assert n >= 0 and value >= 0 and (value > 0) == (n > 0)
