"""The bench's result sets in polars: raw tables read into DataFrames (DuckDB `.pl()`), everything else in polars.

The same business rules as the marts and as the pandas version (see northstar/bench/pandas_impl.py), written in
polars expressions. Rules that run on distinct values only (referrer hosts, channel rules, fx ranges) are plain
Python (northstar/bench/rules.py).
"""

from __future__ import annotations

import polars as pl

from northstar.bench import rules as R
from northstar.bench.pandas_impl import EVENT_COLUMNS
from northstar.bench.results import RESULT_SETS, Params, Results, normalise

c = pl.col


def _nullif_trim(expr: pl.Expr) -> pl.Expr:
    """nullif(trim(x), ''): DuckDB's trim removes spaces."""
    s = expr.str.strip_chars(" ")
    return pl.when(s != "").then(s)


def _local(expr: pl.Expr, params: Params) -> pl.Expr:
    if params.is_utc:
        return expr
    return expr.dt.replace_time_zone("UTC").dt.convert_time_zone(params.reporting_timezone).dt.replace_time_zone(None)


def _url_host(expr: pl.Expr) -> pl.Expr:
    host = expr.str.extract(R.URL_HOST, 1).str.to_lowercase().str.replace(R.WWW, "")
    return pl.when(host != "").then(host)


def _map_unique(df: pl.DataFrame, col: str, func, name: str, dtype=pl.String) -> pl.DataFrame:
    """df with a new column `name` = func(col), evaluated once per distinct non-null value."""
    values = df.get_column(col).drop_nulls().unique().to_list()
    lookup = pl.DataFrame({col: values, name: [func(v) for v in values]}, schema={col: pl.String, name: dtype})
    return df.join(lookup, on=col, how="left", nulls_equal=False)


def _fx(df: pl.DataFrame, currency: str, day: str, fx: pl.DataFrame, name: str = "rate") -> pl.DataFrame:
    """Adds the rate to the reporting currency of each row's currency on its day (as-of join on the ranges)."""
    out = (
        df.with_row_index("_row")
        .sort(day)
        .join_asof(
            fx,
            left_on=day,
            right_on="valid_from",
            by_left=currency,
            by_right="currency",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(pl.when(c(day) < c("valid_to")).then(c("fx_rate")).alias(name))
        .sort("_row")
    )
    return out.drop("_row", "valid_from", "valid_to", "fx_rate")


def _sessionize(ev: pl.DataFrame, params: Params) -> pl.DataFrame:
    start = c("is_start")
    return (
        ev.with_columns(
            sid=_nullif_trim(c("session_id")),
            event_name=c("event_name").str.strip_chars(" ").str.to_lowercase(),
            user_id=_nullif_trim(c("user_id")),
        )
        .with_columns(is_pv=c("event_name") == "page_view")
        .sort(["anonymous_id", "sid", "occurred_at", "event_id"], nulls_last=True)
        .with_columns(
            is_start=(
                c("anonymous_id").ne_missing(c("anonymous_id").shift())
                | c("sid").ne_missing(c("sid").shift())
                | (c("sid").is_null() & (c("occurred_at").diff() > pl.duration(minutes=params.session_timeout_minutes)))
            ).fill_null(True),
            pos=pl.int_range(pl.len()),
            cum_pv=c("is_pv").cast(pl.Int64).cum_sum(),
        )
        .with_columns(
            session_no=start.cast(pl.Int64).cum_sum() - 1,
            event_index=c("pos") - pl.when(start).then(c("pos")).forward_fill() + 1,
            pv_index=c("cum_pv") - pl.when(start).then(c("cum_pv") - c("is_pv").cast(pl.Int64)).forward_fill(),
            session_start=pl.when(start).then(c("occurred_at")).forward_fill(),
        )
    )


def _traffic(first: pl.DataFrame) -> pl.DataFrame:
    """Source, medium, campaign, referrer and click id type of each session from its first event."""
    for col in R.UTM:
        first = first.with_columns(c("page_url").str.extract(rf"[?&]{col}=([^&#]*)", 1).alias(f"_{col}"))
        first = _map_unique(first, f"_{col}", R.url_decode, f"_{col}_decoded")
        first = first.with_columns(
            pl.coalesce(_nullif_trim(c(col)), c(f"_{col}_decoded")).str.to_lowercase().alias(col)
        )
    click = pl.when(_nullif_trim(c("click_id")).is_not_null()).then(pl.lit("unknown"))
    for kind, names in reversed(R.CLICK_ID_TYPES):
        pattern = "|".join(rf"[?&]{p}=" for p in names)
        click = pl.when(c("page_url").str.contains(pattern).fill_null(False)).then(pl.lit(kind)).otherwise(click)
    first = first.with_columns(
        page_host=_url_host(c("page_url")), ref_host=_url_host(c("page_referrer")), click_id_type=click
    ).with_columns(
        referrer=pl.when(c("ref_host").ne_missing(c("page_host")) | c("page_host").is_null()).then(c("ref_host")),
        is_tagged=pl.any_horizontal([c(u).is_not_null() for u in R.UTM]),
    )
    ref_type = pl.Struct({"source": pl.String, "medium": pl.String})
    first = _map_unique(first, "referrer", _referrer_struct, "ref", ref_type)
    has_ref = c("referrer").is_not_null()
    return first.with_columns(
        source=pl.when(c("is_tagged"))
        .then(c("utm_source").fill_null("(not set)"))
        .when(has_ref)
        .then(c("ref").struct.field("source"))
        .otherwise(pl.lit("(direct)")),
        medium=pl.when(c("is_tagged"))
        .then(c("utm_medium").fill_null("(not set)"))
        .when(has_ref)
        .then(c("ref").struct.field("medium"))
        .otherwise(pl.lit("(none)")),
        campaign=pl.when(c("is_tagged")).then(c("utm_campaign")),
    )


def _referrer_struct(host: str) -> dict[str, str]:
    source, medium = R.referrer_source(host)
    return {"source": source, "medium": medium}


_SOURCE_COLS = ("source", "medium", "campaign", "referrer", "click_id_type")


def _channels(df: pl.DataFrame, params: Params) -> pl.DataFrame:
    """df with `channel`: the channel rules on its (source, medium, campaign, referrer, click id type)."""
    keys = [f"_k_{col}" for col in _SOURCE_COLS]
    df = df.with_columns(
        [
            c(col).cast(pl.String).fill_null("").str.to_lowercase().alias(k)
            for col, k in zip(_SOURCE_COLS, keys, strict=True)
        ]
    )
    distinct = df.select(keys).unique()
    rules = R.channel_rules(params)
    distinct = distinct.with_columns(
        channel=pl.Series([R.classify_channel(rules, t) for t in distinct.iter_rows()], dtype=pl.String)
    )
    return df.join(distinct, on=keys, how="left").drop(keys)


def _spend(con, params: Params, fx: pl.DataFrame) -> pl.DataFrame:
    key = ["date", "platform", "account_id", "campaign_id", "adset_name", "ad_name"]
    sp = (
        con.sql("select * exclude (extra) from raw.ad_spend")
        .pl()
        .with_columns(
            platform=c("platform").str.strip_chars(" ").str.to_lowercase(),
            adset_name=c("adset_name").fill_null(""),
            ad_name=c("ad_name").fill_null(""),
            currency=c("currency").str.strip_chars(" ").str.to_uppercase(),
            spend=c("spend").cast(pl.Float64),
            **{u: _nullif_trim(c(u)).str.to_lowercase() for u in R.UTM},
        )
        .sort(["loaded_at", "load_id", "row_number"])
        .unique(subset=key, keep="last", maintain_order=True)
        .with_columns(campaign_key=c("platform") + ":" + c("campaign_id"))
    )
    sp = _fx(sp, "currency", "date", fx).with_columns(spend=c("spend") * c("rate"))
    # A campaign's channel: the rules on its latest tagging (tagged rows first), else its platform's channel.
    latest = (
        sp.sort([c("utm_source").is_not_null(), "date", "adset_name", "ad_name"])
        .unique(subset="campaign_key", keep="last", maintain_order=True)
        .select(
            "campaign_key",
            "platform",
            source=c("utm_source"),
            medium=c("utm_medium"),
            campaign=c("utm_campaign"),
            referrer=pl.lit(None, pl.String),
            click_id_type=pl.lit(None, pl.String),
        )
    )
    latest = _map_unique(_channels(latest, params), "platform", R.platform_channel, "fallback")
    latest = latest.with_columns(
        channel=pl.when(c("channel").is_in(["Unassigned", "Direct"])).then(c("fallback")).otherwise(c("channel"))
    )
    return sp.join(latest.select("campaign_key", "channel"), on="campaign_key")


def _matches(ev: pl.DataFrame, params: Params) -> pl.DataFrame:
    """Every goal / funnel-stage match: kind, rule_id, stage_order and the matching event's session and index."""
    rules = pl.DataFrame(R.match_rules(params))
    cols = ("kind", "rule_id", "stage_order")
    event_cols = ["session_no", "event_index", "occurred_at", "event_id", "pos"]

    def tagged(frame: pl.DataFrame, rule: dict) -> pl.DataFrame:
        return frame.select(event_cols).with_columns(
            kind=pl.lit(rule["kind"]), rule_id=pl.lit(rule["rule_id"]), stage_order=pl.lit(rule["stage_order"])
        )

    by_event = rules.filter(c("match_type") == "event").select(*cols, event_name=c("value").str.to_lowercase())
    parts = [ev.select(*event_cols, "event_name").join(by_event, on="event_name").drop("event_name")]
    pv = ev.filter(c("is_pv")).with_columns(
        page_path=pl.when(c("page_url").is_not_null()).then(
            pl.coalesce(
                pl.when(c("page_url").str.extract(R.URL_PATH, 1) != "").then(c("page_url").str.extract(R.URL_PATH, 1)),
                pl.lit("/"),
            )
        )
    )
    seconds = (c("occurred_at") - c("session_start")).dt.total_microseconds() / 1_000_000
    for rule in rules.iter_rows(named=True):
        kind, value = rule["match_type"], rule["value"]
        if kind == "page":
            parts.append(tagged(pv.filter(c("page_path").str.contains(R.like_regex(value)).fill_null(False)), rule))
        elif kind == "session_pageviews":
            n = int(value)
            hit = (c("event_index") == 1) if n <= 0 else (c("is_pv") & (c("pv_index") == n))
            parts.append(tagged(ev.filter(hit), rule))
        elif kind == "session_duration_s":
            first = ev.filter(seconds >= float(value)).unique(subset="session_no", keep="first", maintain_order=True)
            parts.append(tagged(first, rule))
    schema = parts[0].schema
    return pl.concat([p.select(list(schema)).cast(dict(schema)) for p in parts]).sort(
        ["session_no", "event_index", "stage_order"]
    )


def _conversions(con, ev, sess, matches, params: Params, fx: pl.DataFrame) -> pl.DataFrame:
    goals = pl.DataFrame(R.read_seed(params, "conversion_goals")).with_columns(
        is_lead=c("is_lead").str.to_lowercase() == "true"
    )
    m = (
        matches.filter(c("kind") == "goal")
        .join(goals, left_on="rule_id", right_on="goal_id")
        .rename({"rule_id": "goal_id"})
    )
    every = c("counting") == "every_event"
    conv = pl.concat(
        [m.filter(every), m.filter(~every).unique(subset=["goal_id", "session_no"], keep="first", maintain_order=True)]
    ).sort(["session_no", "event_index"])
    events = ev.select(
        "pos",
        order_id=_nullif_trim(c("order_id")),
        event_revenue=c("revenue").cast(pl.Float64),
        event_currency=_nullif_trim(c("currency")).str.to_uppercase().fill_null(params.reporting_currency),
    )
    conv = conv.join(events, on="pos", how="left").with_columns(
        order_id=pl.when(c("match_type") == "event").then(c("order_id"))
    )
    # Orders: only the first event-goal conversion of an order carries it (time, then the marts' conversion_id).
    cand = conv.filter(c("order_id").is_not_null()).join(
        sess.select("session_no", "anonymous_id", "sid", "fid"), on="session_no"
    )
    cand = cand.with_columns(
        conversion_id=pl.Series(
            [
                R.conversion_id(
                    r["goal_id"], r["counting"], r["event_id"], R.dbt_session_id(r["anonymous_id"], r["sid"], r["fid"])
                )
                for r in cand.iter_rows(named=True)
            ],
            dtype=pl.String,
        )
    )
    carriers = (
        cand.sort(["order_id", "occurred_at", "conversion_id"])
        .unique(subset="order_id", keep="first", maintain_order=True)
        .select("pos", "goal_id", carries=pl.lit(True))
    )
    conv = conv.join(carriers, on=["pos", "goal_id"], how="left").with_columns(
        carries=c("carries").fill_null(False), local_at=_local(c("occurred_at"), params)
    )
    conv = conv.with_columns(order_id=pl.when(c("carries")).then(c("order_id")), day=c("local_at").dt.date())
    orders = (
        con.sql("select * exclude (extra) from raw.orders")
        .pl()
        .sort(["loaded_at", "load_id", "row_number"])
        .unique(subset="order_id", keep="last", maintain_order=True)
        .with_columns(
            completed=c("status").str.strip_chars(" ").str.to_lowercase() == "completed",
            day=_local(c("ordered_at"), params).dt.date(),
            currency=c("currency").str.strip_chars(" ").str.to_uppercase(),
        )
    )
    orders = _fx(orders, "currency", "day", fx).select(
        "order_id",
        "completed",
        net_revenue=pl.when(c("completed")).then(c("revenue").cast(pl.Float64) * c("rate")).otherwise(0.0),
        in_feed=pl.lit(True),
        order_day=c("day"),
    )
    conv = _fx(conv, "event_currency", "day", fx, "event_rate").join(orders, on="order_id", how="left")
    in_feed = c("in_feed").fill_null(False)
    return conv.with_columns(
        revenue=pl.when(~c("carries"))
        .then(None)
        .when(in_feed)
        .then(c("net_revenue"))
        .otherwise(c("event_revenue") * c("event_rate")),
        is_order=c("carries") & (~in_feed | c("completed").fill_null(False)),
    )


def compute(con, params: Params) -> Results:
    """All result sets from the warehouse's raw tables and the seed CSVs."""
    fx = pl.DataFrame(R.fx_ranges(params), schema=["currency", "valid_from", "valid_to", "fx_rate"], orient="row").sort(
        "valid_from"
    )
    ev = _sessionize(con.sql(f"select {EVENT_COLUMNS} from raw.events").pl(), params)

    first = ev.filter(c("is_start")).select(
        "session_no",
        "anonymous_id",
        "sid",
        "page_url",
        "page_referrer",
        "click_id",
        *R.UTM,
        fid=c("event_id"),
        started=c("occurred_at"),
    )
    aggregates = ev.group_by("session_no").agg(
        ended=c("occurred_at").max(), page_views=c("is_pv").sum(), consented=c("consent_analytics").all()
    )
    sess = _channels(_traffic(first).join(aggregates, on="session_no"), params)

    # Identity stitching: the user_id a device was last seen with, consented sessions only.
    known = (
        ev.filter(c("user_id").is_not_null())
        .join(sess.filter(c("consented")).select("session_no"), on="session_no")
        .sort(["anonymous_id", "occurred_at", "event_id"])
        .group_by("anonymous_id")
        .agg(stitched=c("user_id").last())
    )
    sess = sess.join(known, on="anonymous_id", how="left").with_columns(
        visitor_id=pl.when(c("consented"))
        .then(pl.coalesce(c("stitched"), c("anonymous_id")))
        .otherwise(pl.lit("anon-") + c("fid"))
    )

    matches = _matches(ev, params)
    conv = _conversions(con, ev, sess, matches, params, fx)
    per = conv.group_by("session_no").agg(
        conversions=pl.len(),
        macro=(c("goal_type") == "macro").sum(),
        micro=(c("goal_type") == "micro").sum(),
        leads=c("is_lead").sum(),
        orders=c("is_order").sum(),
        revenue=c("revenue").sum(),
    )
    duration = (c("ended") - c("started")).dt.total_microseconds() / 1_000_000
    sess = (
        sess.join(per, on="session_no", how="left")
        .with_columns([c(col).fill_null(0) for col in per.columns if col != "session_no"])
        .with_columns(started_at=_local(c("started"), params))
        .with_columns(
            session_date=c("started_at").dt.date(),
            is_engaged=(duration >= params.engaged_min_duration_s)
            | (c("page_views") >= params.engaged_min_pageviews)
            | (c("conversions") > 0),
        )
    )
    spend = _spend(con, params, fx)
    out = {
        "sessions": sess.group_by("session_date", "channel").agg(
            sessions=pl.len(), visitors=c("visitor_id").n_unique(), page_views=c("page_views").sum()
        ),
        "conversions": conv.group_by(conversion_date="day", goal_id="goal_id").agg(
            conversions=pl.len(), orders=c("is_order").sum(), revenue=c("revenue").fill_null(0).sum()
        ),
        "kpi_daily": _kpi_daily(sess, spend),
        "funnel": _funnel(sess, matches, params),
        "attribution": _attribution(sess, conv, _data_through(sess, spend), params),
    }
    return {name: normalise(df.select(RESULT_SETS[name].columns).rows()) for name, df in out.items()}


def _kpi_daily(sess: pl.DataFrame, spend: pl.DataFrame) -> pl.DataFrame:
    by_sessions = sess.group_by(date="session_date", channel="channel").agg(
        sessions=pl.len(),
        engaged_sessions=c("is_engaged").sum(),
        converting_sessions=(c("macro") > 0).sum(),
        macro_conversions=c("macro").sum(),
        micro_conversions=c("micro").sum(),
        leads=c("leads").sum(),
        orders=c("orders").sum(),
        revenue=c("revenue").sum(),
    )
    by_spend = spend.group_by("date", "channel").agg(
        spend=c("spend").sum(), impressions=c("impressions").sum(), clicks=c("clicks").sum()
    )
    joined = by_sessions.join(by_spend, on=["date", "channel"], how="full", coalesce=True)
    return joined.fill_null(0)


def _funnel(sess: pl.DataFrame, matches: pl.DataFrame, params: Params) -> pl.DataFrame:
    stages = pl.DataFrame(R.read_seed(params, "funnel_stages")).select(
        "funnel_id", stage_order=c("stage_order").cast(pl.Int64)
    )
    m = matches.filter(c("kind") == "stage").select(
        "session_no", "event_index", funnel_id="rule_id", stage_order=c("stage_order").cast(pl.Int64)
    )
    # Closed: stage k's first match at or after the event that completed stage k-1, stage by stage.
    keys = ["funnel_id", "session_no"]
    reached = m.filter(c("stage_order") == 1).group_by(keys).agg(c("event_index").min())
    closed = [reached.with_columns(stage_order=pl.lit(1, pl.Int64))]
    for k in range(2, int(stages.get_column("stage_order").max() or 1) + 1):  # type: ignore[arg-type]
        reached = (
            m.filter(c("stage_order") == k)
            .join(reached, on=keys, suffix="_prev")
            .filter(c("event_index") >= c("event_index_prev"))
            .group_by(keys)
            .agg(c("event_index").min())
        )
        closed.append(reached.with_columns(stage_order=pl.lit(k, pl.Int64)))
    day_channel = sess.select("session_no", "session_date", "channel")
    grain = ["session_date", "funnel_id", "stage_order", "channel"]
    closed_n = pl.concat(closed).join(day_channel, on="session_no").group_by(grain).agg(closed_sessions=pl.len())
    open_n = (
        m.unique(subset=["funnel_id", "stage_order", "session_no"])
        .join(day_channel, on="session_no")
        .group_by(grain)
        .agg(open_sessions=pl.len())
    )
    grid = day_channel.select("session_date", "channel").unique().join(stages, how="cross")
    return grid.join(closed_n, on=grain, how="left").join(open_n, on=grain, how="left").fill_null(0)


def _data_through(sess: pl.DataFrame, spend: pl.DataFrame):
    """The last day with sessions or spend above 0 (int_data_through)."""
    days = (sess["session_date"].max(), spend.filter(c("spend") > 0)["date"].max())
    return max(d for d in days if d is not None)


def _attribution(sess: pl.DataFrame, conv: pl.DataFrame, data_through, params: Params) -> pl.DataFrame:
    s = sess.select("session_no", "visitor_id", "started_at", "channel", month=c("session_date").dt.truncate("1mo"))
    # an order the feed stamps after the last day with sessions or spend waits for that day, as in the marts
    waiting = c("order_day").is_not_null() & (c("order_day") > data_through)
    macro = (
        conv.filter((c("goal_type") == "macro") & ~waiting)
        .select("session_no", "local_at", revenue=c("revenue").fill_null(0))
        .join(s, on="session_no")
        .with_row_index("conversion")
    )
    last = macro.group_by("month", "channel").agg(conversions=pl.len().cast(pl.Float64), revenue=c("revenue").sum())
    lookback = pl.duration(days=params.attribution_lookback_days)
    touches = (
        macro.select("conversion", "visitor_id", "session_no", "started_at", "local_at", "month", "revenue")
        .join(s.drop("month"), on="visitor_id", suffix="_touch")
        .filter(
            (c("session_no_touch") == c("session_no"))
            | ((c("started_at_touch") <= c("started_at")) & (c("started_at_touch") >= c("local_at") - lookback))
        )
        .with_columns(credit=1.0 / pl.len().over("conversion"))
    )
    linear = touches.group_by("month", "channel").agg(
        conversions=c("credit").sum(), revenue=(c("credit") * c("revenue")).sum()
    )
    return pl.concat(
        [last.with_columns(model=pl.lit("last_touch")), linear.with_columns(model=pl.lit("linear"))], how="diagonal"
    )
