"""Sample FX rates: one deterministic weekly series shared by the generator and seeds/fx_rates.csv.

Rates are units of USD (the default reporting currency) for one unit of the currency. The latest
rate on or before a day applies, as in the seed's contract.
"""

from __future__ import annotations

import bisect
import csv
import random
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

FIRST_MONDAY = date(2025, 1, 6)
LAST_DAY = date(2027, 12, 31)
CURRENCIES = ("USD", "EUR", "GBP")
_BASE = {"USD": 1.0, "EUR": 1.085, "GBP": 1.27}


@lru_cache(maxsize=1)
def _series() -> dict[str, tuple[list[date], list[float]]]:
    # A gentle random walk with a fixed seed: the seed file and the generator always agree.
    rng = random.Random(20250106)
    days: list[date] = []
    d = FIRST_MONDAY
    while d <= LAST_DAY:
        days.append(d)
        d += timedelta(days=7)
    out: dict[str, tuple[list[date], list[float]]] = {}
    for cur in CURRENCIES:
        level = _BASE[cur]
        rates = []
        for _ in days:
            if cur != "USD":
                level = min(max(level * (1 + rng.gauss(0, 0.006)), _BASE[cur] * 0.93), _BASE[cur] * 1.07)
            rates.append(round(level, 4))
        out[cur] = (days, rates)
    return out


def fx_rate(currency: str, day: date) -> float:
    """USD per one unit of `currency` on `day` (latest weekly rate on or before it)."""
    days, rates = _series()[currency]
    i = bisect.bisect_right(days, day) - 1
    return rates[max(i, 0)]


def write_fx_rates(path: Path) -> int:
    """Write the seed file (date,currency,rate); returns the number of rows."""
    rows = []
    for cur in CURRENCIES:
        days, rates = _series()[cur]
        rows.extend((d.isoformat(), cur, f"{r:.4f}") for d, r in zip(days, rates, strict=True))
    rows.sort()
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", "currency", "rate"])
        w.writerows(rows)
    return len(rows)
