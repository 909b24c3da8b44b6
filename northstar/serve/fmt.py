"""Numbers for humans: money, percentages, ratios and counts, the same in the terminal and the report."""

from __future__ import annotations

import math
from datetime import date, datetime

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}

# How each KPI id of MARTS.md is shown.
KPI_KIND = {
    "sessions": "count",
    "visitors": "count",
    "engagement_rate": "pct",
    "conversion_rate": "pct",
    "micro_conversion_rate": "pct",
    "goal_score": "count",
    "leads": "count",
    "orders": "count",
    "revenue": "money",
    "gross_margin": "money",
    "attributed_gross_margin": "money",
    "aov": "money",
    "spend": "money",
    "impressions": "count",
    "clicks": "count",
    "ctr": "pct",
    "cpc": "money2",
    "cpm": "money2",
    "cpa": "money2",
    "cpl": "money2",
    "cac": "money2",
    "roas": "ratio",
    "roi": "pct",
    "prr": "pct",
    "clv": "money",
    "close_rate": "pct",
}

# KPIs where a lower number is better (costs): used for arrows and colours.
LOWER_IS_BETTER = {"cpa", "cpl", "cac", "cpc", "cpm", "spend"}


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def money(value: float | None, currency: str = "USD", decimals: int = 0) -> str:
    if _missing(value):
        return "–"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    sign = "-" if value < 0 else ""
    body = f"{abs(value):,.{decimals}f}"
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"


def compact_money(value: float | None, currency: str = "USD") -> str:
    """$1.2M, $35.4k, $950: for cards and chart axes."""
    if _missing(value):
        return "–"
    number = f"{abs(value):,.0f}"
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            scaled = abs(value) / threshold
            number = f"{scaled:,.{1 if scaled < 100 else 0}f}{suffix}"
            break
    sign = "-" if value < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency.upper()}"


def pct(value: float | None, decimals: int = 1) -> str:
    if _missing(value):
        return "–"
    return f"{value * 100:,.{decimals}f}%"


def signed_pct(value: float | None, decimals: int = 1) -> str:
    if _missing(value):
        return "–"
    return f"{value * 100:+,.{decimals}f}%"


def ratio(value: float | None) -> str:
    if _missing(value):
        return "–"
    return f"{value:,.2f}×"


def count(value: float | None) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, float) and not value.is_integer() and abs(value) < 100:
        return f"{value:,.1f}"
    if isinstance(value, float):
        return f"{round(value):,}"
    return f"{int(value):,}"


def kpi_value(kpi: str, value: float | None, currency: str = "USD", compact: bool = False) -> str:
    """A KPI's value formatted by its kind (money, %, ratio or count)."""
    kind = KPI_KIND.get(kpi, "number")
    if kind == "money":
        return compact_money(value, currency) if compact else money(value, currency)
    if kind == "money2":
        return money(value, currency, 2)
    if kind == "pct":
        return pct(value, 2 if kpi in ("conversion_rate", "ctr", "micro_conversion_rate") else 1)
    if kind == "ratio":
        return ratio(value)
    if kind == "count":
        return count(value)
    return cell(value)


def cell(value: object) -> str:
    """Any value in a table cell: dates ISO, floats with separators and at most 4 decimals."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def kpi_label(kpi: str) -> str:
    """sessions -> Sessions, cpa -> CPA, conversion_rate -> Conversion rate."""
    upper = {"aov", "ctr", "cpc", "cpm", "cpa", "cpl", "cac", "roas", "roi", "prr", "clv"}
    if kpi in upper:
        return kpi.upper()
    words = kpi.replace("_", " ")
    return words[:1].upper() + words[1:]


def month_label(month: date) -> str:
    """2026-03-01 -> March 2026."""
    return month.strftime("%B %Y")


def campaign_labels(campaigns: list[tuple[str | None, str]]) -> list[str]:
    """Campaigns by name, as `kpis`, the report and the summary show them: (name, key) -> "name"; "name (key)" when
    two of the list share a name; the key when there is no name."""
    names = [name or key for name, key in campaigns]
    return [
        f"{label} ({key})" if names.count(label) > 1 and label != key else label
        for label, (_name, key) in zip(names, campaigns, strict=True)
    ]
