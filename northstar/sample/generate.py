"""`northstar generate`: deterministic synthetic landing files for an online shop that also collects B2B leads.

Output (one file per kind per day, the loader infers the kind from the prefix):
  events_YYYY-MM-DD.jsonl.gz   (or .parquet for large runs / --format parquet, .csv.gz for --format csv)
  ad_spend_YYYY-MM-DD.csv      (each export restates the previous 2 days)
  orders_YYYY-MM-DD.csv
  leads_YYYY-MM-DD.jsonl
  incidents.json               incidents the marts must detect + dirty-row counts per category and kind

The run is day by day: a visitor's session schedule is drawn up front (small numpy arrays), then each day's
sessions become events that are written and dropped, so memory stays bounded for 1M+ visitors.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from json.encoder import encode_basestring_ascii as _enc
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from northstar.sample.catalog import (
    BLOG,
    CATEGORIES,
    HOST,
    PRODUCTS,
    SOLUTIONS,
    SOURCE_INDEX,
    SOURCES,
    WHITEPAPERS,
    Source,
)
from northstar.sample.claims import PlatformClaims
from northstar.sample.fx import fx_rate

if TYPE_CHECKING:
    from northstar.sample.scenarios import Scenario

PARQUET_THRESHOLD = 200_000
PRE_WINDOW_DAYS = 21  # visitors whose journeys started before the window (their earlier sessions are not written)
EVENT_COLUMNS = (
    "event_id", "occurred_at", "anonymous_id", "user_id", "session_id", "event_name", "page_url", "page_referrer",
    "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "click_id", "device_category", "country",
    "order_id", "revenue", "currency", "consent_analytics", "email", "ip", "properties",
)  # fmt: skip
SPEND_COLUMNS = (
    "date", "platform", "account_id", "campaign_id", "campaign_name", "adset_name", "ad_name",
    "utm_source", "utm_medium", "utm_campaign", "impressions", "clicks", "spend", "currency",
    "platform_conversions", "platform_conversion_value",
)  # fmt: skip
ORDER_COLUMNS = ("order_id", "ordered_at", "user_id", "status", "revenue", "cost_of_goods", "currency")
LEAD_COLUMNS = ("lead_id", "changed_at", "user_id", "stage", "deal_value", "currency")

# Dirty-row categories and the kinds each is injected into (the loader must quarantine / skip them).
DIRTY_PLAN: dict[str, tuple[str, ...]] = {
    "malformed_json": ("events", "leads"),
    "missing_required": ("events", "ad_spend", "orders", "leads"),
    "bad_timestamp": ("events", "ad_spend", "orders", "leads"),
    "future_timestamp": ("events",),
    "negative_spend": ("ad_spend",),
    "unknown_currency": ("ad_spend", "orders"),
    "duplicate": ("events",),
    "non_utf8": ("events", "leads"),
    "invalid_status": ("orders",),
    "invalid_stage": ("leads",),
}
DIRTY_RATE = {"events": 0.0004, "ad_spend": 0.002, "orders": 0.001, "leads": 0.001}  # per category, per clean row

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "NL", "AU", "ES")
COUNTRY_P = (0.52, 0.12, 0.10, 0.06, 0.07, 0.04, 0.05, 0.04)
COUNTRY_CURRENCY = {"GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR"}
DEVICES = ("desktop", "mobile", "tablet")
OFFSETS = (timezone(timedelta(hours=2)), timezone(timedelta(hours=-5)), timezone(timedelta(hours=1)))
HOUR_WEIGHTS = (2, 1.5, 1, 1, 1, 1.2, 2, 3, 4, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8, 7.5, 7, 6.5, 6, 5, 4, 3)
_HOUR_CUM = list(np.cumsum(HOUR_WEIGHTS))
DAY_MS = 86_400_000
BREAK_EVEN_AOV_USD = 80.0


@dataclass
class GenerateResult:
    out_dir: Path
    files: list[Path]
    rows: dict[str, int]
    dirty_rows: dict[str, dict[str, int]]
    manifest_path: Path
    incidents: dict[str, object] = field(default_factory=dict)
    sessions: int = 0
    seconds: float = 0.0

    def summary(self):  # -> rich renderable
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        t = Table(title=f"northstar generate → {self.out_dir}", show_lines=False)
        t.add_column("kind")
        t.add_column("files", justify="right")
        t.add_column("rows", justify="right")
        t.add_column("dirty rows", justify="right")
        for kind in ("events", "ad_spend", "orders", "leads"):
            nfiles = sum(1 for f in self.files if f.name.startswith(kind + "_"))
            dirty = sum(v.get(kind, 0) for v in self.dirty_rows.values())
            t.add_row(kind, str(nfiles), f"{self.rows.get(kind, 0):,}", f"{dirty:,}")
        inc = self.incidents
        cb, ov, to = inc.get("checkout_breakage", {}), inc.get("campaign_overspend", {}), inc.get("tracking_outage", {})
        notes = Text(
            f"{self.sessions:,} sessions in {self.seconds:.1f}s; incidents to find "
            f"(written to {self.manifest_path.name}):\n"
            f"  checkout breakage {cb.get('start')} – {cb.get('end')}\n"
            f"  overspending campaign {ov.get('campaign_key')} from {ov.get('start')}\n"
            f"  tracking outage {to.get('date')}"
        )
        return Group(t, notes)


# ----------------------------------------------------------------------------------------------------------- helpers


def _fmt_ts(ms: int, style: int) -> str:
    """ISO-8601: style 0 = Z, 1..3 = with an offset, 4 = naive (means UTC), 5 = Z with milliseconds."""
    secs = ms / 1000
    if style == 0:
        return datetime.fromtimestamp(int(secs), UTC).isoformat()[:19] + "Z"
    if style == 5:
        return datetime.fromtimestamp(secs, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if style == 4:
        return datetime.fromtimestamp(int(secs), UTC).replace(tzinfo=None).isoformat()
    return datetime.fromtimestamp(int(secs), OFFSETS[style - 1]).isoformat()


def _utc_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _anon(v: int, dev: int, seed: int) -> str:
    h = (v * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFFFF
    return f"a{h:010x}{dev}"


def _user(v: int) -> str:
    return f"cust_{v + 1:07d}"


def _email(v: int) -> str:
    return f"shopper{v + 1}@mail.example"


def _ip(v: int) -> str:
    return f"{(v >> 16) % 200 + 11}.{(v >> 8) % 256}.{v % 256}.{(v * 7) % 253 + 1}"


def _gz_open(path: Path):
    raw = path.open("wb")
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=4), raw


@dataclass(frozen=True)
class Plan:
    """Incident dates derived from the run's window (the default 90 days from 2026-01-01 give fixed dates)."""

    breakage_start: int
    breakage_end: int
    overspend_start: int
    outage_day: int

    @classmethod
    def for_window(cls, start: date, days: int) -> Plan:
        b0 = int(days * 0.55)
        b1 = min(b0 + 6, days - 1)
        outage = max(b1 + 2, int(days * 0.75))
        if outage > days - 2:
            outage = max(b0 - 3, 0)
        # Overspend starts on the first of the month after ~a quarter of the window (Feb 1 by default).
        probe = start + timedelta(days=int(days * 0.25))
        first_next = (probe.replace(day=1) + timedelta(days=32)).replace(day=1)
        over = (first_next - start).days
        if over > days * 0.6:
            over = int(days * 0.3)
        return cls(b0, b1, over, outage)


# -------------------------------------------------------------------------------------------------------- the engine


class _Generator:
    def __init__(
        self, out_dir: Path, days: int, start: date, visitors: int, seed: int, fmt: str,
        scenario: Scenario | None = None,
    ) -> None:  # fmt: skip
        self.out, self.days, self.start, self.n, self.seed, self.fmt = out_dir, days, start, visitors, seed, fmt
        # A scenario (scenarios.py, `northstar evaluate-alerts`) replaces the demo's fixed incidents.
        self.scenario = scenario
        self.plan = Plan.for_window(start, days) if scenario is None else scenario.plan
        self.step_keep: dict[str, float] = {}  # the day's funnel-step multipliers (scenario incidents)
        self.start_ms = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
        self.files: list[Path] = []
        self.rows = {"events": 0, "ad_spend": 0, "orders": 0, "leads": 0}
        self.dirty: dict[str, dict[str, int]] = {c: {k: 0 for k in kinds} for c, kinds in DIRTY_PLAN.items()}
        self.sessions = 0
        self.order_seq = 0
        self.lead_seq = 0
        self.pending_leads: dict[int, list[tuple]] = defaultdict(list)
        # (source index, ad index, local day) -> sessions driven; feeds clicks of the spend rows
        self.driven: dict[tuple[int, int, int], int] = defaultdict(int)
        self.spend_cache: dict[tuple[int, int, int], tuple[int, int, float]] = {}
        self.claims = PlatformClaims(seed, start)  # what each ad platform claims (over-claiming, claims.py)
        self.la = ZoneInfo("America/Los_Angeles")
        self._draw_visitors()

    # -- visitors and their session schedule (vectorised) ---------------------------------------------------
    def _draw_visitors(self) -> None:
        rng = np.random.default_rng(self.seed)
        n, d = self.n, self.days
        # Journeys already under way when the window opens (warm start: no ramp-up of returning traffic).
        warm = PRE_WINDOW_DAYS
        day_w = np.ones(d + warm)
        for i in range(-warm, d):
            wd = (self.start + timedelta(days=i)).weekday()
            day_w[i + warm] = (0.82 if wd >= 5 else 1.0) * (1 + 0.1 * max(i, 0) / max(d, 1))
            if i >= self.plan.overspend_start:  # the push campaign brings extra new visitors
                day_w[i + warm] *= 1 + 0.35 * min(1.0, (i - self.plan.overspend_start + 1) / 21)
        first_day = rng.choice(d + warm, size=n, p=day_w / day_w.sum()) - warm
        extra = rng.geometric(0.38, size=n) - 1  # mean ~1.6 return sessions
        total = 1 + extra
        vid = np.repeat(np.arange(n, dtype=np.int64), total)
        starts = np.cumsum(total) - total
        seq = np.arange(len(vid)) - np.repeat(starts, total)
        gaps = np.ceil(rng.exponential(6.0, size=len(vid))).astype(np.int64)
        gaps[seq == 0] = 0
        cs = np.cumsum(gaps)
        offs = cs - np.repeat(cs[starts], total)
        sday = np.repeat(first_day, total) + offs
        keep = (sday >= 0) & (sday < d)
        vid, seq, sday = vid[keep], seq[keep], sday[keep]
        order = np.lexsort((seq, vid, sday))
        self.s_vid = vid[order].astype(np.int32)
        self.s_seq = seq[order].astype(np.int16)
        self.s_day = sday[order].astype(np.int32)
        self.day_bounds = np.searchsorted(self.s_day, np.arange(d + 1))
        # Visitor attributes
        self.v_country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P).astype(np.int8)
        self.v_dev1 = rng.choice(3, size=n, p=(0.5, 0.42, 0.08)).astype(np.int8)
        self.v_dev2 = np.where(rng.random(n) < 0.2, rng.choice(3, size=n, p=(0.45, 0.45, 0.10)), -1).astype(np.int8)
        self.v_app = rng.random(n) < 0.25  # mobile visitors who use the app (own session_id)
        self.v_consent = rng.random(n) >= 0.05
        self.v_intent = np.exp(rng.normal(-0.08, 0.4, size=n)).astype(np.float32)
        # mutable journey state
        self.v_known = rng.random(n) < 0.12  # existing customers: have an account already
        self.v_b2b = np.full(n, -1, dtype=np.int8)  # decided at first session
        self.v_low = np.zeros(n, dtype=bool)  # acquired by the overspend push: poor converters
        self.v_lead = np.zeros(n, dtype=bool)
        self.v_login_dev = np.full(n, -1, dtype=np.int8)  # device slot where the login cookie lives

    # -- traffic mix -----------------------------------------------------------------------------------------
    def _mix(self, di: int) -> tuple[list[float], list[float]]:
        day = self.start + timedelta(days=di)
        ramp = min(1.0, (di - self.plan.overspend_start + 1) / 21) if di >= self.plan.overspend_start else -1.0
        new_w, ret_w = [], []
        for s in SOURCES:
            wn, wr = s.w_new, s.w_ret
            if s.key == "tiktok_push":
                wn, wr = (12 + 30 * ramp, 2.0) if ramp >= 0 else (0.0, 0.0)
            elif s.key == "tv" and (di // 14) % 2 == 1:  # two-week flights on, two off
                wn, wr = 0.0, 0.0
            elif s.key == "email" and day.weekday() in (1, 3):  # newsletter sends Tue/Thu
                wr *= 2.2
            elif s.key == "radio" and day.weekday() >= 5:
                wn, wr = 0.0, 0.0
            new_w.append(wn)
            ret_w.append(wr)
        return list(np.cumsum(new_w)), list(np.cumsum(ret_w))

    # -- one day ---------------------------------------------------------------------------------------------
    def run_day(self, di: int) -> None:
        rng = random.Random(self.seed * 1_000_003 + di)
        day = self.start + timedelta(days=di)
        cum_new, cum_ret = self._mix(di)
        lo, hi = int(self.day_bounds[di]), int(self.day_bounds[di + 1])
        vids = self.s_vid[lo:hi].tolist()
        seqs = self.s_seq[lo:hi].tolist()
        events: list[list] = []
        orders: list[tuple] = []
        breakage = self.plan.breakage_start <= di <= self.plan.breakage_end
        day_ms = self.start_ms + di * DAY_MS
        effects = self.scenario.effects(di) if self.scenario is not None else None
        self.step_keep = dict(effects.step_keep) if effects else {}
        for v, sq in zip(vids, seqs, strict=True):
            src_i = rng.choices(range(len(SOURCES)), cum_weights=cum_ret if sq > 0 else cum_new)[0]
            if effects and not effects.keeps_session(rng, SOURCES[src_i].key):
                continue  # a session lost to a business or channel incident never happens
            self._session(rng, di, day_ms, v, sq, src_i, breakage, events, orders)
            self.sessions += 1
        if di == self.plan.outage_day:  # tracking outage: almost every event is lost; orders are not
            events = [e for e in events if rng.random() < 0.035]
        elif effects and effects.events_kept < 1:  # a scenario's tracking incident
            events = [e for e in events if rng.random() < effects.events_kept]
        events.sort(key=lambda e: (e[0], e[-1]))
        for i in range(len(events) - 1):  # a few events arrive out of order within the file
            if rng.random() < 0.003:
                events[i], events[i + 1] = events[i + 1], events[i]
        self._write_events(rng, di, day, events)
        self._write_orders(rng, di, day, orders)
        self._write_leads(rng, di, day)
        if di >= 1:
            self._write_spend(di - 1)

    def _session(
        self, rng: random.Random, di: int, day_ms: int, v: int, sq: int, src_i: int, breakage: bool,
        events: list[list], orders: list[tuple],
    ) -> None:  # fmt: skip
        src: Source = SOURCES[src_i]
        if sq == 0:
            self.v_b2b[v] = 1 if rng.random() < src.b2b else 0
            if src.key == "tiktok_push":
                self.v_low[v] = True
        elif self.v_b2b[v] < 0:  # journey began before the window
            self.v_b2b[v] = 1 if rng.random() < 0.15 else 0
        b2b = bool(self.v_b2b[v] == 1)
        # device: the second device (if any) is used for ~35 % of sessions
        dev_slot = 1 if (self.v_dev2[v] >= 0 and rng.random() < 0.35) else 0
        dev = int(self.v_dev2[v] if dev_slot else self.v_dev1[v])
        device = DEVICES[dev]
        app = device == "mobile" and bool(self.v_app[v]) and not src.offline and rng.random() < 0.6
        anon = _anon(v, dev_slot, self.seed)
        country = COUNTRIES[int(self.v_country[v])]
        consent = bool(self.v_consent[v])
        intent = float(self.v_intent[v]) * src.intent * (0.8 if self.v_low[v] else 1.0)
        start_ms = day_ms + int((rng.choices(range(24), cum_weights=_HOUR_CUM)[0] + rng.random()) * 3_600_000)
        style = rng.choices((0, 1, 2, 3, 4, 5), cum_weights=(78, 83, 88, 90, 96, 100))[0]
        if app:
            style = 5
        sid = f"s{rng.getrandbits(48):012x}" if app else None
        uid = _user(v) if (self.v_known[v] and self.v_login_dev[v] == dev_slot) else None
        props_base = {"platform": "app", "app_version": "4.2.0"} if app else None
        omit_consent = consent and rng.random() < 0.5
        ad_i = rng.randrange(len(src.ads)) if src.ads else 0
        # spend bookkeeping: sessions driven per campaign ad and account-local day
        if src.paid:
            local_di = di
            if src.timezone != "UTC":
                local = datetime.fromtimestamp(start_ms / 1000, self.la)
                local_di = (local.date() - self.start).days
            if local_di >= 0:
                self.driven[(src_i, ad_i, local_di)] += 1
            self.claims.click(v, src_i, ad_i, start_ms)
        t = start_ms
        prev_url: str | None = None
        state = {"uid": uid}
        seq_no = [0]

        def emit(name: str, path: str, *, ref: str | None = None, first: bool = False, **kw) -> None:
            nonlocal prev_url
            url = HOST + path
            utm = (None, None, None, None, None)
            click = None
            if first:
                q = []
                content = src.ads[ad_i][1] if src.ads else None
                term = rng.choice(src.terms) if src.terms else None
                if src.utm_source:
                    q += [f"utm_source={src.utm_source}", f"utm_medium={src.utm_medium}",
                          f"utm_campaign={src.utm_campaign}"]  # fmt: skip
                    if content:
                        q.append(f"utm_content={content}")
                    if term:
                        q.append("utm_term=" + term.replace(" ", "+"))
                if src.click_param:
                    click = f"{rng.getrandbits(80):020x}"
                    q.append(f"{src.click_param}={click}")
                if q:
                    url += ("&" if "?" in url else "?") + "&".join(q)
                if app or (src.utm_source and rng.random() < 0.3):  # sometimes the tag fills the columns
                    utm = (src.utm_source, src.utm_medium, src.utm_campaign, content, term)
                else:
                    click = None
                if ref is None and src.referrers and not app:
                    ref = rng.choice(src.referrers)
            elif ref is None and name == "page_view":
                ref = prev_url
            props = kw.pop("props", None)
            if props_base:
                props = {**props_base, **(props or {})}
            if first and src.vanity:
                props = {**(props or {}), "vanity_url": src.vanity}
            seq_no[0] += 1
            events.append([
                t, style, anon, state["uid"], sid, name, url, None if app else ref, *utm, click, device, country,
                kw.get("order_id"), kw.get("revenue"), kw.get("currency"),
                None if omit_consent else consent, kw.get("email"),
                _ip(v) if (name == "page_view" and first and rng.random() < 0.4) else None, props,
                (v, seq_no[0]),
            ])  # fmt: skip
            if name == "page_view":
                prev_url = url

        def step(mean_s: float = 40.0) -> None:
            nonlocal t
            t += int(min(rng.expovariate(1 / mean_s) + 3, 1500) * 1000)

        def page(path: str) -> None:
            step()
            emit("page_view", path)

        def identify(event: str) -> None:
            step(20)
            state["uid"] = _user(v)
            self.v_known[v] = True
            self.v_login_dev[v] = dev_slot
            emit(event, current[0], email=_email(v))

        # landing page
        kind = rng.choice(src.landing)
        if b2b and kind in ("product", "category", "cart"):
            kind = rng.choice(("solution", "home", "pricing"))
        landing = {
            "home": "/",
            "product": "/products/" + rng.choice(PRODUCTS),
            "category": "/category/" + rng.choice(CATEGORIES),
            "cart": "/cart",
            "solution": "/solutions/" + rng.choice(SOLUTIONS),
            "pricing": "/pricing",
            "blog": "/blog/" + rng.choice(BLOG),
            "whitepaper": "/whitepapers/" + rng.choice(WHITEPAPERS),
        }[kind]
        current = [landing]
        emit("page_view", landing, first=True)
        if rng.random() < 0.33 / max(0.6, min(intent, 1.6)) ** 0.5:  # bounce
            return
        if self.v_known[v] and state["uid"] is None and rng.random() < 0.55:
            identify("login")
        if rng.random() < 0.012:
            step()
            emit("newsletter_signup", current[0], email=_email(v))
        if rng.random() < 0.015:
            step()
            emit("chat_start", current[0])
            self._lead(rng, v, t, "chat_start", country)
        if b2b:
            self._b2b_session(rng, v, intent, page, step, emit, identify, current, country, lambda: t)
        else:
            self._b2c_session(rng, v, intent, breakage, page, step, emit, identify, current, country, orders,
                              lambda: t)  # fmt: skip

    def _b2c_session(self, rng, v, intent, breakage, page, step, emit, identify, current, country, orders, now):
        n_browse = 1 + int(rng.expovariate(1 / 4.0))
        viewed = current[0].startswith("/products/")
        for _ in range(n_browse):
            r = rng.random()
            path = (
                ("/products/" + rng.choice(PRODUCTS))
                if r < 0.6
                else ("/category/" + rng.choice(CATEGORIES) if r < 0.85 else "/blog/" + rng.choice(BLOG))
            )
            current[0] = path
            page(path)
            viewed = viewed or path.startswith("/products/")
        if not viewed:
            return
        if rng.random() < 0.05:
            step()
            emit("add_to_wishlist", current[0] if current[0].startswith("/products/") else "/products/" + PRODUCTS[0])
        if rng.random() >= min(0.9, 0.2 * intent) * self.step_keep.get("add_to_cart", 1.0):
            return
        product = current[0] if current[0].startswith("/products/") else "/products/" + rng.choice(PRODUCTS)
        step()
        emit("add_to_cart", product, props={"product": product.rsplit("/", 1)[1]})
        current[0] = "/cart"
        page("/cart")
        if rng.random() >= min(0.95, 0.58 * intent**0.5) * self.step_keep.get("checkout", 1.0):
            return
        current[0] = "/checkout"
        page("/checkout")
        step(15)
        emit("begin_checkout", "/checkout")
        if self.v_known[v] and rng.random() < 0.1:  # some customers log in at checkout
            identify("login")
        p_buy = 0.62 * (0.48 if breakage else 1.0) * self.step_keep.get("purchase", 1.0)
        if rng.random() >= p_buy:
            return
        if not self.v_known[v] and rng.random() < 0.7:
            identify("sign_up")
        cur = COUNTRY_CURRENCY.get(country, "USD")
        day = self.start + timedelta(days=(now() - self.start_ms) // DAY_MS)
        usd = rng.lognormvariate(math.log(BREAK_EVEN_AOV_USD) - 0.18, 0.6)
        amount = round(usd / fx_rate(cur, day), 2)
        self.order_seq += 1
        order_id = f"ORD-{self.seed % 100:02d}{self.order_seq:08d}"
        current[0] = "/thank-you"
        page("/thank-you")
        uid = _user(v) if self.v_login_dev[v] >= 0 and self.v_known[v] else None
        emit("purchase", "/thank-you", order_id=order_id, revenue=amount, currency=cur,
             email=_email(v) if rng.random() < 0.8 else None)  # fmt: skip
        r = rng.random()
        status = "refunded" if r < 0.05 else ("cancelled" if r < 0.07 else "completed")
        cogs = round(amount * rng.uniform(0.55, 0.65), 2)
        orders.append((order_id, now() + rng.randint(0, 4000), uid, status, amount, cogs, cur))
        self.claims.purchase(v, now(), usd, order_id)

    def _b2b_session(self, rng, v, intent, page, step, emit, identify, current, country, now):
        n = 1 + int(rng.expovariate(1 / 3.3))
        saw_pricing = current[0] == "/pricing"
        for _ in range(n):
            r = rng.random()
            if r < 0.45:
                path = "/solutions/" + rng.choice(SOLUTIONS)
            elif r < 0.65:
                path = "/pricing"
                saw_pricing = True
            elif r < 0.85:
                path = "/blog/" + rng.choice(BLOG)
            else:
                path = "/whitepapers/" + rng.choice(WHITEPAPERS)
            current[0] = path
            page(path)
        if rng.random() < 0.07 * intent:
            path = "/whitepapers/" + rng.choice(WHITEPAPERS)
            current[0] = path
            page(path)
            self._form(rng, v, "whitepaper_download", identify, country, now)
        if rng.random() < 0.03 * intent:
            current[0] = "/contact"
            page("/contact")
            self._form(rng, v, "contact_form_submit", identify, country, now)
        if rng.random() < (0.16 if saw_pricing else 0.05) * intent:
            if not saw_pricing:
                page("/pricing")
            current[0] = "/demo"
            page("/demo")
            self._form(rng, v, "demo_request", identify, country, now)
            page("/thank-you")

    def _form(self, rng, v, name, identify, country, now) -> None:
        # a form identifies the person: the CRM id becomes the user_id from here on
        identify(name)
        self._lead(rng, v, now(), name, country)

    # -- CRM leads ---------------------------------------------------------------------------------------------
    _PROGRESS = {  # p(mql), p(sql|mql), p(opportunity|sql), p(won|opportunity)
        "demo_request": (0.85, 0.6, 0.6, 0.4),
        "contact_form_submit": (0.6, 0.45, 0.5, 0.35),
        "whitepaper_download": (0.4, 0.3, 0.4, 0.3),
        "chat_start": (0.35, 0.3, 0.4, 0.3),
    }

    def _lead(self, rng: random.Random, v: int, ts: int, source_event: str, country: str) -> None:
        if self.v_lead[v]:
            return
        self.v_lead[v] = True
        self.v_known[v] = True
        if self.v_login_dev[v] < 0:
            self.v_login_dev[v] = 0
        self.lead_seq += 1
        lead_id = f"L-{self.seed % 100:02d}{self.lead_seq:07d}"
        uid = _user(v)
        cur = "EUR" if COUNTRY_CURRENCY.get(country) == "EUR" and rng.random() < 0.7 else "USD"
        deal = round(rng.lognormvariate(math.log(9000), 0.7), 2)
        t = ts + rng.randint(60, 1800) * 1000
        rows = [(lead_id, t, uid, "lead", None, None)]
        probs = self._PROGRESS[source_event]
        for stage, p in zip(("mql", "sql", "opportunity", "won"), probs, strict=True):
            t += int(rng.uniform(0.5, 6) * DAY_MS)
            if rng.random() < p:
                money = (deal, cur) if stage in ("opportunity", "won") else (None, None)
                rows.append((lead_id, t, uid, stage, *money))
            else:
                if rng.random() < 0.6:
                    rows.append((lead_id, t, uid, "lost", *((deal, cur) if stage == "won" else (None, None))))
                break
        for r in rows:
            di = (r[1] - self.start_ms) // DAY_MS
            if di < self.days:  # stage changes after the window have not happened yet
                self.pending_leads[di].append(r)

    # -- writers ---------------------------------------------------------------------------------------------
    def _n_dirty(self, rng: random.Random, kind: str, n_clean: int, di: int) -> dict[str, int]:
        out = {}
        forced_day = min(1, self.days - 1)
        for cat, kinds in DIRTY_PLAN.items():
            if kind not in kinds:
                continue
            if kind == "events" and self.fmt == "parquet" and cat in ("malformed_json", "non_utf8"):
                continue
            if kind == "events" and self.fmt == "csv" and cat == "malformed_json":
                continue
            k = 1 if di == forced_day else 0
            lam = DIRTY_RATE[kind] * n_clean
            if lam > 0:
                k += int(np.random.default_rng(rng.getrandbits(32)).poisson(lam))
            if k:
                out[cat] = k
        return out

    def _write_events(self, rng: random.Random, di: int, day: date, events: list[list]) -> None:
        rows = events  # converted in place: only one copy of the day's events is alive
        for i, e in enumerate(events):
            eid = f"{rng.getrandbits(128):032x}"
            eid = f"{eid[:8]}-{eid[8:12]}-{eid[12:16]}-{eid[16:20]}-{eid[20:]}"
            rows[i] = [eid, _fmt_ts(e[0], e[1]), *e[2:-1]]
        self.rows["events"] += len(rows)
        dirty = self._n_dirty(rng, "events", len(rows), di) if rows else {}
        extra: list[tuple[int, object]] = []  # (position, row or raw bytes)
        future_ms = self.start_ms + (self.days + 3650) * DAY_MS
        for cat, k in dirty.items():
            for _ in range(k):
                base = list(rng.choice(rows))
                base[0] = f"dirty-{rng.getrandbits(64):016x}"
                pos = rng.randrange(len(rows) + 1)
                if cat == "malformed_json":
                    line = self._json_line(EVENT_COLUMNS, base)
                    extra.append((pos, line[: max(10, len(line) - rng.randint(5, 40))]))
                elif cat == "missing_required":
                    base[2 if rng.random() < 0.6 else 5] = None  # anonymous_id or event_name
                    extra.append((pos, base))
                elif cat == "bad_timestamp":
                    base[1] = rng.choice(("2026-02-30T25:61:00Z", "yesterday", "13/45/2026 10:00"))
                    extra.append((pos, base))
                elif cat == "future_timestamp":
                    base[1] = _utc_iso(future_ms + rng.randint(0, DAY_MS))
                    extra.append((pos, base))
                elif cat == "duplicate":
                    extra.append((pos, list(rng.choice(rows))))  # same event_id, same bytes
                elif cat == "non_utf8":
                    base[6] = HOST + "/blog/caf\u00e9-r\u00e9cits-d-\u00e9t\u00e9"
                    extra.append((pos, ("latin-1", base)))
                self.dirty[cat]["events"] += 1
        extra.sort(key=lambda x: x[0])
        merged: list[object] = []
        j = 0
        for i, r in enumerate(rows):
            while j < len(extra) and extra[j][0] == i:
                merged.append(extra[j][1])
                j += 1
            merged.append(r)
        merged.extend(x[1] for x in extra[j:])
        if self.fmt == "parquet":
            self._write_events_parquet(day, merged)
        elif self.fmt == "csv":
            self._write_events_csv(day, merged)
        else:
            path = self.out / f"events_{day.isoformat()}.jsonl.gz"
            gz, raw = _gz_open(path)
            buf = []
            for r in merged:
                if isinstance(r, bytes):
                    buf.append(r + b"\n")
                elif isinstance(r, tuple):
                    buf.append(self._json_line(EVENT_COLUMNS, r[1], ascii_=False).encode("latin-1") + b"\n")
                else:
                    buf.append(self._json_line(EVENT_COLUMNS, r) + b"\n")
                if len(buf) >= 20000:
                    gz.write(b"".join(buf))
                    buf.clear()
            gz.write(b"".join(buf))
            gz.close()
            raw.close()
            self.files.append(path)

    @staticmethod
    def _json_line(cols, row, ascii_: bool = True):
        if not ascii_:
            d = {k: v for k, v in zip(cols, row, strict=True) if v is not None}
            return json.dumps(d, separators=(",", ":"), ensure_ascii=False)
        # hand-rolled json.dumps (same output, ~2x faster): this runs once per event
        parts = []
        for k, v in zip(cols, row, strict=True):
            if v is None:
                continue
            if isinstance(v, str):
                parts.append(f'"{k}":{_enc(v)}')
            elif v is True or v is False:
                parts.append(f'"{k}":{"true" if v else "false"}')
            elif isinstance(v, dict):
                parts.append(f'"{k}":{json.dumps(v, separators=(",", ":"))}')
            else:
                parts.append(f'"{k}":{v!r}')
        return ("{" + ",".join(parts) + "}").encode()

    def _write_events_csv(self, day: date, merged: list) -> None:
        path = self.out / f"events_{day.isoformat()}.csv.gz"
        gz, raw = _gz_open(path)
        sio = io.StringIO()
        w = csv.writer(sio, lineterminator="\n")
        w.writerow(EVENT_COLUMNS)
        gz.write(sio.getvalue().encode())
        for r in merged:
            latin = isinstance(r, tuple)
            row = r[1] if latin else r
            sio.seek(0)
            sio.truncate()
            vals = ["" if x is None else (json.dumps(x, separators=(",", ":")) if isinstance(x, dict) else
                    ("true" if x is True else "false" if x is False else x)) for x in row]  # fmt: skip
            w.writerow(vals)
            gz.write(sio.getvalue().encode("latin-1" if latin else "utf-8"))
        gz.close()
        raw.close()
        self.files.append(path)

    def _write_events_parquet(self, day: date, merged: list) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        cols = dict(zip(EVENT_COLUMNS, (list(c) for c in zip(*merged, strict=True)), strict=True))
        cols["properties"] = [None if x is None else json.dumps(x, separators=(",", ":")) for x in cols["properties"]]
        types = {"revenue": pa.float64(), "consent_analytics": pa.bool_()}
        table = pa.table({c: pa.array(v, type=types.get(c, pa.string())) for c, v in cols.items()})
        path = self.out / f"events_{day.isoformat()}.parquet"
        pq.write_table(table, path, compression="zstd")
        self.files.append(path)

    def _write_csv(self, path: Path, header: tuple[str, ...], rows: list[list]) -> None:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            w.writerows(["" if x is None else x for x in r] for r in rows)
        self.files.append(path)

    def _write_orders(self, rng: random.Random, di: int, day: date, orders: list[tuple]) -> None:
        orders.sort(key=lambda o: o[1])
        rows = [[o[0], _fmt_ts(o[1], 0 if i % 5 else 4), o[2], o[3], f"{o[4]:.2f}", f"{o[5]:.2f}", o[6]]
                for i, o in enumerate(orders)]  # fmt: skip
        self.rows["orders"] += len(rows)
        dirty = self._n_dirty(rng, "orders", len(rows), di) if rows else {}
        clean = list(rows)  # pick dirty bases from clean rows only: one defect per dirty row
        for cat, k in dirty.items():
            for _ in range(k):
                base = list(rng.choice(clean))
                base[0] = f"BAD-{rng.getrandbits(40):010x}"
                if cat == "missing_required":
                    base[4] = ""
                elif cat == "bad_timestamp":
                    base[1] = rng.choice(("31/02/2026 10:00", "not a date", "2026-13-01T00:00:00Z"))
                elif cat == "unknown_currency":
                    base[6] = "XXY"
                elif cat == "invalid_status":
                    base[3] = rng.choice(("on_hold", "shipped?", "COMPLETE-ish"))
                rows.insert(rng.randrange(len(rows) + 1), base)
                self.dirty[cat]["orders"] += 1
        self._write_csv(self.out / f"orders_{day.isoformat()}.csv", ORDER_COLUMNS, rows)

    def _write_leads(self, rng: random.Random, di: int, day: date) -> None:
        pend = sorted(self.pending_leads.pop(di, []), key=lambda r: (r[1], r[0]))
        rows = [[r[0], _fmt_ts(r[1], 0), r[2], r[3], r[4], r[5]] for r in pend]
        self.rows["leads"] += len(rows)
        lines = [self._json_line(LEAD_COLUMNS, r) for r in rows]
        dirty = self._n_dirty(rng, "leads", len(rows), di) if rows else {}
        for cat, k in dirty.items():
            for _ in range(k):
                base = list(rng.choice(rows))
                base[0] = f"L-BAD-{rng.getrandbits(32):08x}"
                if cat == "malformed_json":
                    line = self._json_line(LEAD_COLUMNS, base)
                    line = line[: len(line) - rng.randint(3, 12)]
                elif cat == "missing_required":
                    base[0] = None
                    line = self._json_line(LEAD_COLUMNS, base)
                elif cat == "bad_timestamp":
                    base[1] = rng.choice(("last tuesday", "2026-02-29T10:00:00Z", "0000-00-00 00:00:00"))
                    line = self._json_line(LEAD_COLUMNS, base)
                elif cat == "invalid_stage":
                    base[3] = rng.choice(("nurture", "closed-won!", "MQL?"))
                    line = self._json_line(LEAD_COLUMNS, base)
                else:  # non_utf8
                    base[2] = "M\u00fcller GmbH"
                    line = self._json_line(LEAD_COLUMNS, base, ascii_=False).encode("latin-1")
                lines.insert(rng.randrange(len(lines) + 1), line)
                self.dirty[cat]["leads"] += 1
        path = self.out / f"leads_{day.isoformat()}.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in lines))
        self.files.append(path)

    def _spend_final(self, key: tuple[int, int, int]) -> tuple[int, int, float] | None:
        if key in self.spend_cache:
            return self.spend_cache[key]
        src_i, ad_i, local_di = key
        src = SOURCES[src_i]
        sessions = self.driven.get(key, 0)
        if sessions == 0:
            return None
        r = random.Random(f"{self.seed}:{src.key}:{ad_i}:{local_di}")
        cpc = src.cpc
        if src.key == "tiktok_push":  # bids keep rising while results do not
            cpc *= 1 + 1.2 * min(1.0, (local_di - self.plan.overspend_start) / 35)
        if src.offline:
            val = (0, 0, round(sessions * cpc * r.uniform(0.85, 1.15), 2))
        else:
            clicks = max(1, round(sessions * r.uniform(1.0, 1.3)))
            impressions = max(clicks, round(clicks / (src.ctr * r.uniform(0.7, 1.3))))
            val = (impressions, clicks, round(clicks * cpc * r.uniform(0.85, 1.15), 2))
        self.spend_cache[key] = val
        return val

    def _write_spend(self, dj: int) -> None:
        """The export of day dj: rows for dj (first version) and restated rows for dj-1, dj-2."""
        day = self.start + timedelta(days=dj)
        rng = random.Random(self.seed * 7_000_003 + dj)
        rows: list[list] = []
        for back in (2, 1, 0):
            d = dj - back
            if d < 0:
                continue
            the_day = self.start + timedelta(days=d)
            factor_lo = {0: 0.9, 1: 0.97, 2: 1.0}[back]
            for src_i, src in enumerate(SOURCES):
                if not src.paid:
                    continue
                for ad_i, (adset, ad) in enumerate(src.ads):
                    val = self._spend_final((src_i, ad_i, d))
                    if val is None:
                        continue
                    f = factor_lo + (1.0 - factor_lo) * rng.random() if back < 2 else 1.0
                    impr, clicks, usd = val
                    if back < 2:
                        impr, clicks = round(impr * f), round(clicks * f)
                        usd = usd * f
                    amount = round(usd / fx_rate(src.currency, the_day), 2)
                    conversions, claimed_usd = self.claims.claimed(src_i, ad_i, d)
                    if back < 2:  # late conversions still arrive, as clicks and spend do
                        conversions, claimed_usd = round(conversions * f), claimed_usd * f
                    claimed = round(claimed_usd / fx_rate(src.currency, the_day), 2)
                    rows.append([
                        the_day.isoformat(), src.platform, src.account_id, src.campaign_id, src.campaign_name, adset,
                        ad, src.utm_source, src.utm_medium, src.utm_campaign,
                        None if src.offline else impr, None if src.offline else clicks, f"{amount:.2f}",
                        src.currency, None if src.offline else conversions, None if src.offline else f"{claimed:.2f}",
                    ])  # fmt: skip
        self.rows["ad_spend"] += len(rows)
        dirty = self._n_dirty(rng, "ad_spend", len(rows), dj) if rows else {}
        clean = list(rows)  # pick dirty bases from clean rows only: one defect per dirty row
        for cat, k in dirty.items():
            for _ in range(k):
                base = list(rng.choice(clean))
                if cat == "missing_required":
                    base[3] = None  # campaign_id
                elif cat == "bad_timestamp":
                    base[0] = rng.choice(("2026-02-31", "13/01/2026", "soon"))
                elif cat == "negative_spend":
                    base[12] = f"-{base[12]}"
                elif cat == "unknown_currency":
                    base[13] = "XXY"
                rows.insert(rng.randrange(len(rows) + 1), base)
                self.dirty[cat]["ad_spend"] += 1
        self._write_csv(self.out / f"ad_spend_{day.isoformat()}.csv", SPEND_COLUMNS, rows)
        for key in [k for k in self.driven if k[2] <= dj - 2]:  # final: no longer needed
            self.driven.pop(key)
            self.spend_cache.pop(key, None)
        self.claims.forget_before(dj - 1)

    # -- manifest --------------------------------------------------------------------------------------------
    def incidents(self) -> dict[str, object]:
        p = self.plan
        d = lambda i: (self.start + timedelta(days=i)).isoformat()  # noqa: E731
        push = SOURCES[SOURCE_INDEX["tiktok_push"]]
        over_start = self.start + timedelta(days=p.overspend_start)
        g = SOURCES[SOURCE_INDEX["google_brand"]]
        return {
            "checkout_breakage": {
                "start": d(p.breakage_start),
                "end": d(p.breakage_end),
                "funnel_step": "checkout → purchase",
                "events": "begin_checkout → purchase",
                "expected_effect": "purchase given begin_checkout drops to about half",
            },
            "campaign_overspend": {
                "platform": push.platform,
                "account_id": push.account_id,
                "campaign_id": push.campaign_id,
                "campaign_key": f"{push.platform}:{push.campaign_id}",
                "utm_source": push.utm_source,
                "utm_medium": push.utm_medium,
                "utm_campaign": push.utm_campaign,
                "start": over_start.isoformat(),
                "bad_month": over_start.strftime("%Y-%m"),
                "break_even_cpa_usd": round(BREAK_EVEN_AOV_USD * 0.4, 2),
                "expected_effect": "spend and CPC ramp up while the campaign converts poorly: monthly CPA far above "
                "break-even (recommendation: cut)",
            },
            "tracking_outage": {"date": d(p.outage_day), "expected_effect": "~3.5 % of normal events; orders intact"},
            "non_utc_account": {
                "platform": g.platform,
                "account_id": g.account_id,
                "timezone": g.timezone,
                "note": "ad_spend.date of this account is its local day",
            },
            "currencies": {"meta_ads": "EUR", "orders": ["USD", "EUR", "GBP"], "other_platforms": "USD"},
        }


def generate(
    out_dir: Path,
    *,
    days: int = 90,
    start: date = date(2026, 1, 1),
    visitors: int = 30_000,
    seed: int = 7,
    file_format: str | None = None,
    progress: bool = True,
    scenario: Scenario | None = None,
) -> GenerateResult:
    """Write `days` daily landing files of every kind into out_dir plus incidents.json; deterministic per seed."""
    import time

    from northstar.errors import UserError  # one clear line on the command line, no traceback

    if days < 1:
        raise UserError("--days must be at least 1")
    if visitors < 1:
        raise UserError("--visitors must be at least 1")
    fmt = (file_format or ("parquet" if visitors >= PARQUET_THRESHOLD else "jsonl")).lower()
    if fmt not in ("jsonl", "csv", "parquet"):
        raise UserError(f"--format {file_format!r} is not one of jsonl, csv, parquet")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    g = _Generator(out_dir, days, start, visitors, seed, fmt, scenario)
    if progress:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(
            TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TextColumn("days"), TimeElapsedColumn(),
            TextColumn("{task.fields[events]:,} events"),
        ) as bar:  # fmt: skip
            task = bar.add_task("days", total=days, events=0)
            for di in range(days):
                g.run_day(di)
                bar.update(task, advance=1, events=g.rows["events"])
    else:
        for di in range(days):
            g.run_day(di)
    g._write_spend(days - 1)
    incidents = g.incidents() if scenario is None else scenario.manifest(start)
    manifest = {
        **incidents,
        "params": {"start": start.isoformat(), "days": days, "visitors": visitors, "seed": seed, "format": fmt},
        "rows": g.rows,
        "sessions": g.sessions,
        "dirty_rows": g.dirty,
        "files": sorted(p.name for p in g.files),
    }
    manifest_path = out_dir / "incidents.json"
    manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return GenerateResult(
        out_dir=out_dir,
        files=sorted(g.files),
        rows=dict(g.rows),
        dirty_rows={c: dict(k) for c, k in g.dirty.items()},
        manifest_path=manifest_path,
        incidents=incidents,
        sessions=g.sessions,
        seconds=time.perf_counter() - t0,
    )
