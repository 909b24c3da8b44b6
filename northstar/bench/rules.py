"""The marts' small lookup rules in plain Python, shared by the pandas and polars implementations.

They run on seed rows and on distinct values only (referrer hosts, traffic sources: hundreds, not millions of
rows), which is how a team would write them in either library. Each mirrors a macro or model of the dbt project:
macros/referrer_source.sql, macros/platform_channel.sql, int_traffic_sources_classified, int_fx_rates_ranged.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import unquote_plus

from northstar.bench.results import Params

URL_HOST = r"^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)"
URL_PATH = r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)"
WWW = r"^www[0-9]*\."
UTM = ("utm_source", "utm_medium", "utm_campaign")
# (type, query parameters that carry it), first match wins; a click_id without any of them is 'unknown'.
CLICK_ID_TYPES = (
    ("gclid", ("gclid",)),
    ("msclkid", ("msclkid",)),
    ("fbclid", ("fbclid",)),
    ("ttclid", ("ttclid",)),
    ("li_fat_id", ("li_fat_id",)),
    ("gclid", ("gbraid", "wbraid")),
    ("dclid", ("dclid",)),
)

_REFERRERS = (
    (r"(^|\.)google\.[a-z.]+$", "google"),
    (r"(^|\.)bing\.com$", "bing"),
    (r"(^|\.)duckduckgo\.com$", "duckduckgo"),
    (r"(^|\.)yahoo\.[a-z.]+$", "yahoo"),
    (r"(^|\.)(baidu|yandex|ecosia|naver|seznam)\.[a-z.]+$", None),  # the engine's own name
    (r"(^|\.)(facebook\.com|fb\.com|fb\.me)$", "facebook"),
    (r"(^|\.)instagram\.com$", "instagram"),
    (r"(^|\.)(t\.co|twitter\.com|x\.com)$", "twitter"),
    (r"(^|\.)(linkedin\.com|lnkd\.in)$", "linkedin"),
    (r"(^|\.)tiktok\.com$", "tiktok"),
    (r"(^|\.)(pinterest\.[a-z.]+|pin\.it)$", "pinterest"),
    (r"(^|\.)reddit\.com$", "reddit"),
    (r"(^|\.)(youtube\.com|youtu\.be)$", "youtube"),
    (r"(^|\.)vimeo\.com$", "vimeo"),
)
_SEARCH = {"google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "naver", "seznam"}
_SOCIAL = {"facebook", "instagram", "twitter", "linkedin", "tiktok", "pinterest", "reddit"}
_VIDEO = {"youtube", "vimeo"}


def referrer_source(host: str) -> tuple[str, str]:
    """(source, medium) of an untagged visit from its referrer host (lower-case, without www.)."""
    source = host
    for pattern, name in _REFERRERS:
        if re.search(pattern, host):
            source = name or re.search(r"(baidu|yandex|ecosia|naver|seznam)", host).group(1)  # type: ignore[union-attr]
            break
    if source in _SEARCH:
        return source, "organic"
    if source in _SOCIAL:
        return source, "social"
    if source in _VIDEO:
        return source, "video"
    return source, "referral"


def platform_channel(platform: str | None) -> str:
    """The usual channel of an ad platform (a campaign whose tagging matches no specific rule)."""
    if platform in ("google_ads", "microsoft_ads", "bing_ads"):
        return "Paid Search"
    social = ("meta_ads", "facebook_ads", "linkedin_ads", "tiktok_ads", "twitter_ads", "pinterest_ads", "snapchat_ads")
    if platform in social:
        return "Paid Social"
    if platform == "youtube_ads":
        return "Paid Video"
    if platform in ("tv", "radio", "print", "ooh"):
        return "Offline"
    return "Unassigned"


def url_decode(value: str | None) -> str | None:
    """A query-string value as the marts decode it ('+' is a space); None when missing or empty."""
    if value is None:
        return None
    return unquote_plus(value) or None


def like_regex(pattern: str) -> str:
    """A SQL LIKE pattern as an anchored regular expression (Python re and Rust regex syntax alike)."""
    parts = {"%": ".*", "_": "."}
    return "(?s)^" + "".join(parts.get(ch, re.escape(ch)) for ch in pattern) + "$"


def dbt_session_id(anonymous_id: str, sid: str | None, first_event_id: str) -> str:
    """The marts' session_id (int_events_sessionized): only needed to break ties exactly as they do."""
    key = hashlib.md5((anonymous_id + ("|" + sid if sid is not None else "")).encode()).hexdigest()
    return hashlib.md5((key + "|" + (first_event_id if sid is None else "")).encode()).hexdigest()


def conversion_id(goal_id: str, counting: str, event_id: str, session_id: str) -> str:
    """The marts' conversion_id: md5(goal | event) for every_event goals, md5(goal | session) otherwise."""
    return hashlib.md5(f"{goal_id}|{event_id if counting == 'every_event' else session_id}".encode()).hexdigest()


def read_seed(params: Params, name: str) -> list[dict[str, str | None]]:
    """A seed CSV as rows; empty cells are None."""
    with (Path(params.seeds_dir) / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        return [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(fh)]


def match_rules(params: Params) -> list[dict[str, object]]:
    """Goals and funnel stages as one rule list: kind ('goal' / 'stage'), rule_id, stage_order, match_type, value."""
    rules: list[dict[str, object]] = [
        {"kind": "goal", "rule_id": g["goal_id"], "stage_order": 0, "match_type": g["match_type"], "value": v}
        for g in read_seed(params, "conversion_goals")
        if (v := g["match_value"]) is not None
    ]
    rules += [
        {
            "kind": "stage",
            "rule_id": s["funnel_id"],
            "stage_order": int(str(s["stage_order"])),
            "match_type": s["match_type"],
            "value": s["match_value"],
        }
        for s in read_seed(params, "funnel_stages")
    ]
    return rules


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def classify_channel(rules: list[dict[str, str | None]], source: tuple[str, str, str, str, str]) -> str:
    """The first channel rule (by rule_order) whose regexes all match (source, medium, campaign, referrer, click id
    type), each lower-cased with '' for missing; an empty regex matches anything."""
    for rule in rules:
        regexes = (
            rule["source_regex"],
            rule["medium_regex"],
            rule["campaign_regex"],
            rule["referrer_regex"],
            rule["click_id_type_regex"],
        )
        if all(not rx or _compiled(rx).search(value) for rx, value in zip(regexes, source, strict=True)):
            return str(rule["channel"])
    return "Unassigned"


def channel_rules(params: Params) -> list[dict[str, str | None]]:
    return sorted(read_seed(params, "channel_rules"), key=lambda r: int(str(r["rule_order"])))


def fx_ranges(params: Params) -> list[tuple[str, date, date, float]]:
    """(currency, valid_from, valid_to, rate to the reporting currency) as int_fx_rates_ranged builds them."""
    by_currency: dict[str, list[tuple[date, float]]] = {}
    for row in read_seed(params, "fx_rates"):
        by_currency.setdefault(str(row["currency"]).upper(), []).append(
            (date.fromisoformat(str(row["date"])), float(str(row["rate"])))
        )
    ranged: dict[str, list[tuple[date, date, float]]] = {}
    for cur, points in by_currency.items():
        points.sort()
        ranged[cur] = [
            (date(1900, 1, 1) if i == 0 else d, points[i + 1][0] if i + 1 < len(points) else date(9999, 12, 31), r)
            for i, (d, r) in enumerate(points)
        ]
    rep = params.reporting_currency
    out = [(rep, date(1900, 1, 1), date(9999, 12, 31), 1.0)]
    for cur, ranges in ranged.items():
        if cur == rep:
            continue
        for f, t, r in ranges:
            for rf, rt, rr in ranged.get(rep, []):
                if f < rt and t > rf:
                    out.append((cur, max(f, rf), min(t, rt), r / rr))
    return out
