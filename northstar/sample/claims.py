"""What the ad platforms claim: ad_spend.platform_conversions and platform_conversion_value of the sample data.

A platform counts a purchase for its own ads, blind to every other platform, so one order is often claimed twice or
more and the claims add up to more than the orders (docs/decisions.md, "Platform claims in the sample data"):
  - click-through: the buyer's last session from one of the platform's ads (a click) within the platform's click
    window before the purchase (CLICK_WINDOW_DAYS); every platform with such a click claims the order;
  - view-through: a platform the buyer did not click may still claim the order from an ad view, with the chance of
    VIEW_THROUGH, on an ad of its prospecting campaign (views leave no session, so they are drawn per order).
A claim is the order's full amount (platforms do not see refunds or cancellations), in the account's currency, on
the purchase's day in the account's time zone, added to the spend row of the claimed ad and day (an ad with no
delivery that day has no row, and its claim is lost, as a report without the row would show it). Offline platforms
(tv, radio, print) claim nothing. Draws come from their own seeded Random per order: every other number of the
sample data stays as it was.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from northstar.sample.catalog import SOURCE_INDEX, SOURCES

DAY_MS = 86_400_000
CLICK_WINDOW_DAYS = {"google_ads": 30, "microsoft_ads": 30, "linkedin_ads": 30, "meta_ads": 7, "tiktok_ads": 7}
# platform -> (chance that a buyer who did not click it is claimed from an ad view, source of the viewed ad)
VIEW_THROUGH = {"meta_ads": (0.15, "fb_prospecting"), "tiktok_ads": (0.08, "tiktok_awareness")}
PRUNE_EVERY_DAYS = 7


class PlatformClaims:
    """Clicks per buyer and platform as sessions happen; claims per (source, ad, account-local day) as orders do."""

    def __init__(self, seed: int, start: date) -> None:
        self.seed, self.start = seed, start
        self.start_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
        self.clicks: dict[tuple[int, str], tuple[int, int, int]] = {}  # (visitor, platform) -> (ms, source, ad)
        self.claims: dict[tuple[int, int, int], list[float]] = defaultdict(lambda: [0, 0.0])
        self._pruned_at = 0

    def click(self, visitor: int, src_i: int, ad_i: int, ms: int) -> None:
        platform = SOURCES[src_i].platform
        if platform in CLICK_WINDOW_DAYS:
            self.clicks[(visitor, platform)] = (ms, src_i, ad_i)

    def purchase(self, visitor: int, ms: int, usd: float, order_id: str) -> None:
        clicked = set()
        for platform, window in CLICK_WINDOW_DAYS.items():
            hit = self.clicks.get((visitor, platform))
            if hit and ms - hit[0] <= window * DAY_MS:
                clicked.add(platform)
                self._add(hit[1], hit[2], ms, usd)
        rng = random.Random(f"{self.seed}:claims:{order_id}")
        for platform, (chance, key) in VIEW_THROUGH.items():
            if rng.random() < chance and platform not in clicked:
                src_i = SOURCE_INDEX[key]
                self._add(src_i, rng.randrange(len(SOURCES[src_i].ads)), ms, usd)

    def _add(self, src_i: int, ad_i: int, ms: int, usd: float) -> None:
        tz = ZoneInfo(SOURCES[src_i].timezone)
        local_day = (datetime.fromtimestamp(ms / 1000, tz).date() - self.start).days
        claim = self.claims[(src_i, ad_i, local_day)]
        claim[0] += 1
        claim[1] += usd

    def claimed(self, src_i: int, ad_i: int, day: int) -> tuple[int, float]:
        """(conversions, value in USD) the platform claims for the ad on its local day."""
        conversions, usd = self.claims.get((src_i, ad_i, day), (0, 0.0))
        return int(conversions), usd

    def forget_before(self, day: int) -> None:
        """Drop claims of days whose spend rows are final, and (weekly) clicks older than every window."""
        for key in [k for k in self.claims if k[2] < day]:
            del self.claims[key]
        if day - self._pruned_at >= PRUNE_EVERY_DAYS:
            self._pruned_at = day
            oldest = self.start_ms + (day - max(CLICK_WINDOW_DAYS.values()) - 2) * DAY_MS
            self.clicks = {k: v for k, v in self.clicks.items() if v[0] >= oldest}
