"""The bench's result sets in pandas: raw tables read into DataFrames (DuckDB `.df()`), everything else in pandas.

This is what a team would write instead of northstar: the same business rules as the marts (sessionization with
the timeout and the source session_id, utm tags from the columns or the page_url query string, referrer and
click-id classification, channel rules, goal and funnel matching, identity stitching and consent, orders-feed
revenue with fx, restated spend, last-touch and linear attribution), in vectorised pandas. Rules that run on
distinct values only (referrer hosts, channel rules, fx ranges) are plain Python (northstar/bench/rules.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from northstar.bench import rules as R
from northstar.bench.results import RESULT_SETS, Params, Results, normalise

EVENT_COLUMNS = (
    "event_id, occurred_at, anonymous_id, session_id, user_id, event_name, page_url, page_referrer, utm_source, "
    "utm_medium, utm_campaign, click_id, order_id, revenue, currency, consent_analytics"
)


def _nullif_trim(s: pd.Series) -> pd.Series:
    """nullif(trim(x), ''): DuckDB's trim removes spaces."""
    s = s.str.strip(" ")
    return s.mask(s == "")


def _map_unique(s: pd.Series, func) -> pd.Series:
    """func applied once per distinct non-null value."""
    codes, uniques = pd.factorize(s)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _local(ts: pd.Series, params: Params) -> pd.Series:
    if params.is_utc:
        return ts
    return ts.dt.tz_localize("UTC").dt.tz_convert(params.reporting_timezone).dt.tz_localize(None)


def _url_host(url: pd.Series) -> pd.Series:
    host = url.str.extract(R.URL_HOST, expand=False).str.lower().str.replace(R.WWW, "", regex=True)
    return host.mask(host == "")


def _fx(df: pd.DataFrame, currency: pd.Series, day: pd.Series, fx: pd.DataFrame) -> pd.Series:
    """Rate to the reporting currency of each row's currency (missing: the reporting currency) on its day."""
    keys = pd.DataFrame({"row": np.arange(len(df)), "currency": currency.to_numpy(), "day": day.to_numpy()})
    m = keys.merge(fx, on="currency")
    m = m[(m["day"] >= m["valid_from"]) & (m["day"] < m["valid_to"])]
    rate = np.full(len(df), np.nan)
    rate[m["row"].to_numpy()] = m["rate"].to_numpy()
    return pd.Series(rate, index=df.index)


def _sessionize(ev: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Sort by device (and source session), time, event_id; flag session starts; number events within sessions."""
    ev["sid"] = _nullif_trim(ev["session_id"])
    ev["sid_key"] = ev["sid"].fillna("")
    ev = ev.sort_values(["anonymous_id", "sid_key", "occurred_at", "event_id"], ignore_index=True)
    new_partition = ev["anonymous_id"].ne(ev["anonymous_id"].shift()) | ev["sid_key"].ne(ev["sid_key"].shift())
    gap = ev["occurred_at"].diff() > pd.Timedelta(minutes=params.session_timeout_minutes)
    is_start = (new_partition | (gap & ev["sid"].isna())).to_numpy()
    pos = np.arange(len(ev))
    start = np.maximum.accumulate(np.where(is_start, pos, 0))
    is_pv = ev["event_name"].to_numpy() == "page_view"
    cum_pv = np.cumsum(is_pv)
    ev["is_start"] = is_start
    ev["is_pv"] = is_pv
    ev["session_no"] = np.cumsum(is_start) - 1
    ev["event_index"] = pos - start + 1
    ev["pv_index"] = cum_pv - (cum_pv - is_pv)[start]
    ev["session_start"] = ev["occurred_at"].to_numpy()[start]
    return ev


def _traffic(first: pd.DataFrame) -> pd.DataFrame:
    """Source, medium, campaign, referrer and click id type of each session from its first event."""
    out = pd.DataFrame(index=first.index)
    for col in R.UTM:
        from_url = _map_unique(first["page_url"].str.extract(rf"[?&]{col}=([^&#]*)", expand=False), R.url_decode)
        out[col] = _nullif_trim(first[col]).astype(object).where(lambda s: s.notna(), from_url).str.lower()
    page_host, ref_host = _url_host(first["page_url"]), _url_host(first["page_referrer"])
    out["referrer"] = ref_host.mask(ref_host == page_host)
    conditions = [
        first["page_url"].str.contains("|".join(rf"[?&]{p}=" for p in ps), na=False) for _, ps in R.CLICK_ID_TYPES
    ]
    kinds = [t for t, _ in R.CLICK_ID_TYPES]
    click = np.select(conditions + [_nullif_trim(first["click_id"]).notna()], kinds + ["unknown"], default=None)
    out["click_id_type"] = pd.Series(click, index=first.index, dtype=object)
    tagged = out[list(R.UTM)].notna().any(axis=1)
    ref = _map_unique(out["referrer"], R.referrer_source)
    ref_source = ref.map(lambda v: v[0] if v else None)
    ref_medium = ref.map(lambda v: v[1] if v else None)
    has_ref = out["referrer"].notna()
    out["source"] = np.where(tagged, out["utm_source"].fillna("(not set)"), np.where(has_ref, ref_source, "(direct)"))
    out["medium"] = np.where(tagged, out["utm_medium"].fillna("(not set)"), np.where(has_ref, ref_medium, "(none)"))
    out["campaign"] = out["utm_campaign"].where(tagged)
    return out


def _channels(tuples: pd.DataFrame, params: Params) -> pd.Series:
    """Channel of each row's (source, medium, campaign, referrer, click id type), classified on distinct tuples."""
    cols = ["source", "medium", "campaign", "referrer", "click_id_type"]
    keyed = pd.DataFrame({c: tuples[c].astype(object).fillna("").astype(str).str.lower() for c in cols})
    distinct = keyed.drop_duplicates()
    channel_rules = R.channel_rules(params)
    distinct = distinct.assign(
        channel=[R.classify_channel(channel_rules, tuple(t)) for t in distinct.itertuples(index=False)]
    )
    return keyed.merge(distinct, on=cols, how="left")["channel"].set_axis(tuples.index)


def _spend(con, params: Params, fx: pd.DataFrame) -> pd.DataFrame:
    sp = con.execute("select * exclude (extra) from raw.ad_spend").df()
    sp["platform"] = sp["platform"].str.strip(" ").str.lower()
    sp["adset_name"] = sp["adset_name"].fillna("")
    sp["ad_name"] = sp["ad_name"].fillna("")
    key = ["date", "platform", "account_id", "campaign_id", "adset_name", "ad_name"]
    sp = sp.sort_values(["loaded_at", "load_id", "row_number"]).drop_duplicates(key, keep="last")
    sp["campaign_key"] = sp["platform"] + ":" + sp["campaign_id"]
    for col in R.UTM:
        sp[col] = _nullif_trim(sp[col]).str.lower()
    sp["spend"] = sp["spend"] * _fx(sp, sp["currency"].str.strip(" ").str.upper(), sp["date"], fx)
    # A campaign's channel: the rules on its latest tagging (tagged rows first), else its platform's channel.
    latest = sp.assign(tagged=sp["utm_source"].notna()).sort_values(["tagged", "date", "adset_name", "ad_name"])
    latest = latest.drop_duplicates("campaign_key", keep="last")
    tags = pd.DataFrame(
        {"source": latest["utm_source"], "medium": latest["utm_medium"], "campaign": latest["utm_campaign"]}
    ).assign(referrer=None, click_id_type=None)
    channel = _channels(tags, params)
    fallback = latest["platform"].map(R.platform_channel)
    latest["channel"] = channel.where(~channel.isin(["Unassigned", "Direct"]), fallback)
    return sp.merge(latest[["campaign_key", "channel"]], on="campaign_key")


def _matches(ev: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Every goal / funnel-stage match: kind, rule_id, stage_order and the matching event's row in ev."""
    cols = ["kind", "rule_id", "stage_order"]
    rules = pd.DataFrame(R.match_rules(params))
    parts = []
    by_event = rules[rules["match_type"] == "event"].assign(event_name=lambda r: r["value"].str.lower())
    parts.append(ev[["event_name"]].reset_index(names="row").merge(by_event, on="event_name")[["row", *cols]])
    pv = ev[ev["is_pv"]]
    path = pv["page_url"].str.extract(R.URL_PATH, expand=False)
    path = path.mask(path == "", "/").where(pv["page_url"].notna())
    for rule in rules[rules["match_type"] == "page"].itertuples():
        hit = path.str.match(R.like_regex(rule.value), na=False)
        parts.append(pd.DataFrame({"row": pv.index[hit.to_numpy()], **{c: getattr(rule, c) for c in cols}}))
    for rule in rules[rules["match_type"] == "session_pageviews"].itertuples():
        n = int(rule.value)
        hit = (ev["event_index"] == 1) if n <= 0 else (ev["is_pv"] & (ev["pv_index"] == n))
        parts.append(pd.DataFrame({"row": ev.index[hit.to_numpy()], **{c: getattr(rule, c) for c in cols}}))
    seconds = (ev["occurred_at"] - ev["session_start"]).dt.total_seconds()
    for rule in rules[rules["match_type"] == "session_duration_s"].itertuples():
        first = ev.loc[seconds >= float(rule.value), ["session_no"]].drop_duplicates()
        parts.append(pd.DataFrame({"row": first.index, **{c: getattr(rule, c) for c in cols}}))
    m = pd.concat(parts, ignore_index=True)
    m = m.join(ev[["session_no", "event_index", "occurred_at", "event_id"]], on="row")
    return m.sort_values(["session_no", "event_index", "stage_order"], ignore_index=True)


def _conversions(con, ev, sess, matches, params: Params, fx: pd.DataFrame) -> pd.DataFrame:
    goals = pd.DataFrame(R.read_seed(params, "conversion_goals"))
    goals["is_lead"] = goals["is_lead"].str.lower() == "true"
    m = matches[matches["kind"] == "goal"].merge(goals, left_on="rule_id", right_on="goal_id")
    once = m["counting"] != "every_event"
    conv = pd.concat([m[~once], m[once].drop_duplicates(["goal_id", "session_no"])]).sort_values(["session_no", "row"])
    conv = conv.reset_index(drop=True)
    # Orders: only the first event-goal conversion of an order carries it (time, then the marts' conversion_id).
    order_id = _nullif_trim(ev["order_id"]).to_numpy()[conv["row"].to_numpy()]
    conv["order_id"] = np.where(conv["match_type"] == "event", order_id, None)
    cand = conv[conv["order_id"].notna()].copy()
    s = sess.loc[cand["session_no"]]
    cand["conversion_id"] = [
        R.conversion_id(g, c, e, R.dbt_session_id(a, None if pd.isna(sid) else sid, f))
        for g, c, e, a, sid, f in zip(
            cand["goal_id"], cand["counting"], cand["event_id"], s["anonymous_id"], s["sid"], s["fid"], strict=True
        )
    ]
    carriers = cand.sort_values(["order_id", "occurred_at", "conversion_id"]).drop_duplicates("order_id").index
    conv["carries"] = conv.index.isin(carriers)
    conv["order_id"] = conv["order_id"].where(conv["carries"])
    orders = con.execute("select * exclude (extra) from raw.orders").df()
    orders = orders.sort_values(["loaded_at", "load_id", "row_number"]).drop_duplicates("order_id", keep="last")
    orders["completed"] = orders["status"].str.strip(" ").str.lower() == "completed"
    day = _local(orders["ordered_at"], params).dt.normalize()
    rate = _fx(orders, orders["currency"].str.strip(" ").str.upper(), day, fx)
    orders["net_revenue"] = np.where(orders["completed"], orders["revenue"] * rate, 0.0)
    orders["order_day"] = day
    conv = conv.merge(
        orders[["order_id", "completed", "net_revenue", "order_day"]], on="order_id", how="left", indicator=True
    )
    in_feed = conv.pop("_merge").eq("both").to_numpy()
    rows = conv["row"].to_numpy()
    currency = _nullif_trim(ev["currency"]).str.upper().fillna(params.reporting_currency).to_numpy()[rows]
    conv["local_at"] = _local(conv["occurred_at"], params)
    event_rate = _fx(conv, pd.Series(currency), conv["local_at"].dt.normalize(), fx)
    event_revenue = ev["revenue"].to_numpy()[rows] * event_rate
    conv["revenue"] = np.where(conv["carries"], np.where(in_feed, conv["net_revenue"], event_revenue), np.nan)
    conv["is_order"] = conv["carries"] & (~in_feed | conv["completed"].fillna(False).astype(bool))
    return conv


def compute(con, params: Params) -> Results:
    """All result sets from the warehouse's raw tables and the seed CSVs."""
    fx = pd.DataFrame(R.fx_ranges(params), columns=["currency", "valid_from", "valid_to", "rate"])
    fx["valid_from"] = pd.to_datetime(fx["valid_from"].astype(str)).astype("datetime64[us]")
    fx["valid_to"] = pd.to_datetime(fx["valid_to"].astype(str).str.replace("9999-12-31", "2262-04-11"))
    fx["valid_to"] = fx["valid_to"].astype("datetime64[us]")

    ev = con.execute(f"select {EVENT_COLUMNS} from raw.events").df()
    ev["event_name"] = ev["event_name"].str.strip(" ").str.lower()
    ev = _sessionize(ev, params)

    # Sessions: one row per session_no, from its first event and its events' aggregates.
    first = ev[ev["is_start"]].set_index("session_no")
    by_session = ev.groupby("session_no")
    sess = pd.DataFrame(
        {
            "fid": first["event_id"],
            "anonymous_id": first["anonymous_id"],
            "sid": first["sid"],
            "started": first["occurred_at"],
            "ended": by_session["occurred_at"].max(),
            "page_views": by_session["is_pv"].sum(),
            "consented": by_session["consent_analytics"].all(),
        }
    )
    sess = sess.join(_traffic(first))
    sess["channel"] = _channels(sess, params)

    # Identity stitching: the user_id a device was last seen with, consented sessions only.
    ev["user_id"] = _nullif_trim(ev["user_id"])
    known = ev[ev["user_id"].notna() & sess["consented"].to_numpy()[ev["session_no"].to_numpy()]]
    known = known.sort_values(["anonymous_id", "occurred_at", "event_id"]).drop_duplicates("anonymous_id", keep="last")
    stitched = sess["anonymous_id"].map(known.set_index("anonymous_id")["user_id"])
    sess["visitor_id"] = np.where(sess["consented"], stitched.fillna(sess["anonymous_id"]), "anon-" + sess["fid"])

    matches = _matches(ev, params)
    conv = _conversions(con, ev, sess, matches, params, fx)
    conv["macro"], conv["micro"] = conv["goal_type"] == "macro", conv["goal_type"] == "micro"
    per = conv.groupby("session_no").agg(
        conversions=("goal_id", "size"),
        macro=("macro", "sum"),
        micro=("micro", "sum"),
        leads=("is_lead", "sum"),
        orders=("is_order", "sum"),
        revenue=("revenue", "sum"),
    )
    sess = sess.join(per).fillna({c: 0 for c in per.columns})
    sess["started_at"] = _local(sess["started"], params)
    sess["session_date"] = sess["started_at"].dt.normalize()
    duration = (sess["ended"] - sess["started"]).dt.total_seconds()
    sess["is_engaged"] = (
        (duration >= params.engaged_min_duration_s)
        | (sess["page_views"] >= params.engaged_min_pageviews)
        | (sess["conversions"] > 0)
    )
    spend = _spend(con, params, fx)

    out = {
        "sessions": sess.groupby(["session_date", "channel"]).agg(
            sessions=("fid", "size"), visitors=("visitor_id", "nunique"), page_views=("page_views", "sum")
        ),
        "conversions": conv.assign(conversion_date=conv["local_at"].dt.normalize(), revenue=conv["revenue"].fillna(0))
        .groupby(["conversion_date", "goal_id"])
        .agg(conversions=("goal_id", "size"), orders=("is_order", "sum"), revenue=("revenue", "sum")),
        "kpi_daily": _kpi_daily(sess, spend),
        "funnel": _funnel(sess, matches, params),
        "attribution": _attribution(sess, conv, _data_through(sess, spend), params),
    }
    return {name: _rows(name, df) for name, df in out.items()}


def _kpi_daily(sess: pd.DataFrame, spend: pd.DataFrame) -> pd.DataFrame:
    by_sessions = (
        sess.assign(converting=sess["macro"] > 0)
        .groupby(["session_date", "channel"])
        .agg(
            sessions=("fid", "size"),
            engaged_sessions=("is_engaged", "sum"),
            converting_sessions=("converting", "sum"),
            macro_conversions=("macro", "sum"),
            micro_conversions=("micro", "sum"),
            leads=("leads", "sum"),
            orders=("orders", "sum"),
            revenue=("revenue", "sum"),
        )
    )
    by_spend = spend.groupby(["date", "channel"]).agg(
        spend=("spend", "sum"), impressions=("impressions", "sum"), clicks=("clicks", "sum")
    )
    by_sessions.index = by_sessions.index.set_names(["date", "channel"])
    return by_sessions.join(by_spend, how="outer").fillna(0)


def _funnel(sess: pd.DataFrame, matches: pd.DataFrame, params: Params) -> pd.DataFrame:
    stages = pd.DataFrame(R.read_seed(params, "funnel_stages"))
    stages["stage_order"] = stages["stage_order"].astype(int)
    m = matches.loc[matches["kind"] == "stage", ["rule_id", "stage_order", "session_no", "event_index"]]
    m = m.rename(columns={"rule_id": "funnel_id"})
    # Closed: stage k's first match at or after the event that completed stage k-1, stage by stage.
    reached = m[m["stage_order"] == 1].groupby(["funnel_id", "session_no"], as_index=False)["event_index"].min()
    closed = [reached.assign(stage_order=1)]
    for k in range(2, int(stages["stage_order"].max()) + 1):
        nxt = m[m["stage_order"] == k].merge(reached, on=["funnel_id", "session_no"], suffixes=("", "_prev"))
        nxt = nxt[nxt["event_index"] >= nxt["event_index_prev"]]
        reached = nxt.groupby(["funnel_id", "session_no"], as_index=False)["event_index"].min()
        closed.append(reached.assign(stage_order=k))
    keys = ["session_date", "funnel_id", "stage_order", "channel"]
    day_channel = sess[["session_date", "channel"]]
    closed_n = pd.concat(closed).join(day_channel, on="session_no").groupby(keys).size().rename("closed_sessions")
    opened = m.drop_duplicates(["funnel_id", "stage_order", "session_no"]).join(day_channel, on="session_no")
    open_n = opened.groupby(keys).size().rename("open_sessions")
    grid = day_channel.drop_duplicates().merge(stages[["funnel_id", "stage_order"]], how="cross").set_index(keys)
    return grid.join(closed_n).join(open_n).fillna(0)


def _data_through(sess: pd.DataFrame, spend: pd.DataFrame) -> pd.Timestamp:
    """The last day with sessions or spend above 0 (int_data_through)."""
    return pd.Series([sess["session_date"].max(), pd.to_datetime(spend.loc[spend["spend"] > 0, "date"]).max()]).max()


def _attribution(sess: pd.DataFrame, conv: pd.DataFrame, data_through: pd.Timestamp, params: Params) -> pd.DataFrame:
    s = sess[["visitor_id", "started_at", "session_date", "channel"]]
    # an order the feed stamps after the last day with sessions or spend waits for that day, as in the marts
    waiting = conv["order_day"].notna() & (conv["order_day"] > data_through)
    macro = conv.loc[(conv["goal_type"] == "macro") & ~waiting, ["session_no", "local_at", "revenue"]]
    macro = macro.join(s, on="session_no")
    macro = macro.assign(conversion=np.arange(len(macro)), revenue=macro["revenue"].fillna(0))
    macro["month"] = macro["session_date"].dt.to_period("M").dt.start_time
    last = macro.groupby(["month", "channel"]).agg(conversions=("conversion", "size"), revenue=("revenue", "sum"))
    t = macro[["conversion", "visitor_id", "session_no", "started_at", "local_at", "month", "revenue"]].merge(
        s.reset_index(names="touch_no"), on="visitor_id", suffixes=("", "_touch")
    )
    lookback = pd.Timedelta(days=params.attribution_lookback_days)
    keep = (t["touch_no"] == t["session_no"]) | (
        (t["started_at_touch"] <= t["started_at"]) & (t["started_at_touch"] >= t["local_at"] - lookback)
    )
    t = t[keep]
    t = t.assign(credit=1.0 / t.groupby("conversion")["conversion"].transform("size"))
    t["revenue"] = t["credit"] * t["revenue"]
    linear = t.groupby(["month", "channel"]).agg(conversions=("credit", "sum"), revenue=("revenue", "sum"))
    return pd.concat([last.assign(model="last_touch"), linear.assign(model="linear")]).set_index("model", append=True)


def _rows(name: str, df: pd.DataFrame) -> list:
    """The result set's rows: index levels and columns named as in RESULT_SETS, dates as dates."""
    flat = df.reset_index()[list(RESULT_SETS[name].columns)]
    for col in RESULT_SETS[name].keys:
        if pd.api.types.is_datetime64_any_dtype(flat[col]):
            flat[col] = flat[col].dt.date
    return normalise(list(flat.itertuples(index=False, name=None)))
