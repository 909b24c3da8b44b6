-- northstar bench baseline: the marts' core results straight from raw.* and the seed CSVs, in one DuckDB script.
-- What an analyst would write by hand instead of the dbt project: the same business rules (see models/), few
-- passes over the events, regexes run on distinct values only. Parameters (dollar-brace placeholders) are filled by
-- northstar/bench/baseline.py. The script ends in temp tables res_<result set>, one per result the bench compares.
--
-- raw.events holds each event_id once (the loader skips a repeated event_id), so events need no deduplication.

create or replace temp macro to_local(ts) as ${to_local};
create or replace temp macro url_host(u) as nullif(
    regexp_replace(lower(regexp_extract(u, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)', 1)), '^www[0-9]*\.', ''), ''
);
create or replace temp macro url_param(u, p) as case when contains(u, '?') then
    nullif(url_decode(replace(regexp_extract(u, '[?&]' || p || '=([^&#]*)', 1), '+', ' ')), '') end;
create or replace temp macro url_path(u) as
    case when u is not null then
        coalesce(nullif(regexp_extract(u, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)', 1), ''), '/')
    end;
create or replace temp macro to_money(amount, rate) as cast(amount as decimal(18, 4)) * cast(rate as decimal(18, 8));

-- Seeds ----------------------------------------------------------------------------------------------------------

create or replace temp table goals as
select goal_id, match_type, match_value, goal_type, cast(is_lead as boolean) as is_lead, counting
from read_csv('${seeds_dir}/conversion_goals.csv', header = true, all_varchar = true);

create or replace temp table stages as
select funnel_id, cast(stage_order as integer) as stage_order, stage_name, match_type, match_value
from read_csv('${seeds_dir}/funnel_stages.csv', header = true, all_varchar = true);

-- Goals and funnel stages are matched the same way: one rule list.
create or replace temp table rules as
select 'goal' as kind, goal_id as rule_id, 0 as stage_order, match_type, match_value from goals
union all
select 'stage', funnel_id, stage_order, match_type, match_value from stages;

create or replace temp table channel_rules as
select
    cast(rule_order as integer) as rule_order, channel, coalesce(source_regex, '') as source_re,
    coalesce(medium_regex, '') as medium_re, coalesce(campaign_regex, '') as campaign_re,
    coalesce(referrer_regex, '') as referrer_re, coalesce(click_id_type_regex, '') as click_re
from read_csv('${seeds_dir}/channel_rules.csv', header = true, all_varchar = true);

-- Rate to the reporting currency per validity range: the latest rate on or before a day, the earliest before that;
-- cross rates through the reporting currency's own rate; the reporting currency itself converts at 1.
create or replace temp table fx as
with seed as (
    select upper(currency) as currency, cast(date as date) as d, cast(rate as double) as rate
    from read_csv('${seeds_dir}/fx_rates.csv', header = true, all_varchar = true)
),
ranged as (
    select
        currency,
        case when row_number() over w = 1 then date '1900-01-01' else d end as valid_from,
        coalesce(lead(d) over w, date '9999-12-31') as valid_to,
        rate
    from seed
    window w as (partition by currency order by d)
),
rep as (select * from ranged where currency = '${currency}')
select
    c.currency,
    greatest(c.valid_from, rep.valid_from) as valid_from,
    least(c.valid_to, rep.valid_to) as valid_to,
    c.rate / rep.rate as rate
from ranged as c
inner join rep on c.valid_from < rep.valid_to and c.valid_to > rep.valid_from
where c.currency <> '${currency}'
union all
select '${currency}', date '1900-01-01', date '9999-12-31', 1.0;

-- Sessions -------------------------------------------------------------------------------------------------------
-- One device's events (one source session when the source sends session_id) in time order; a gap longer than the
-- timeout starts a session (not within a source session). A session is named by its first event's id.

create or replace temp table ev as
with base as (
    select
        event_id,
        occurred_at,
        anonymous_id,
        nullif(trim(session_id), '') as sid,
        nullif(trim(user_id), '') as user_id,
        lower(trim(event_name)) = 'page_view' as is_pv,
        coalesce(consent_analytics, true) as consented
    from raw.events
),
gaps as (
    select
        *,
        lag(occurred_at) over w as prev_at,
        row_number() over w as rn,
        sum(cast(is_pv as integer)) over (w rows between unbounded preceding and current row) as cum_pv
    from base
    window w as (partition by anonymous_id, sid order by occurred_at, event_id)
),
flagged as (
    select
        *,
        prev_at is null or (sid is null and epoch_us(occurred_at) - epoch_us(prev_at) > ${timeout_us}) as is_start
    from gaps
)
select
    event_id,
    occurred_at,
    anonymous_id,
    sid,
    user_id,
    is_pv,
    consented,
    last_value(case when is_start then event_id end ignore nulls) over w as session_fid,
    rn - last_value(case when is_start then rn end ignore nulls) over w + 1 as event_index,
    cum_pv - last_value(case when is_start then cum_pv - cast(is_pv as integer) end ignore nulls) over w as pv_index,
    last_value(case when is_start then occurred_at end ignore nulls) over w as session_start
from flagged
window w as (
    partition by anonymous_id, sid order by occurred_at, event_id rows between unbounded preceding and current row
);

create or replace temp table sess as
select
    session_fid,
    any_value(anonymous_id) as anonymous_id,
    any_value(sid) as sid,
    any_value(session_start) as started_utc,
    max(occurred_at) as ended_utc,
    count(*) filter (where is_pv) as page_views,
    bool_and(consented) as consented
from ev
group by session_fid;

-- Identity stitching: a device's visitor is the user_id it was last seen with (consented sessions only).
create or replace temp table ident as
select ev.anonymous_id, arg_max(ev.user_id, {'t': ev.occurred_at, 'e': ev.event_id}) as visitor_id
from ev
inner join sess on ev.session_fid = sess.session_fid
where ev.user_id is not null and sess.consented
group by ev.anonymous_id;

-- Traffic source of each session: its first event's utm tags (columns, else the page_url query string), else the
-- external referrer, else direct; the click id type from the page_url parameter name.
create or replace temp table first_touch as
with first_events as (
    select
        s.session_fid,
        lower(coalesce(nullif(trim(r.utm_source), ''), url_param(r.page_url, 'utm_source'))) as utm_source,
        lower(coalesce(nullif(trim(r.utm_medium), ''), url_param(r.page_url, 'utm_medium'))) as utm_medium,
        lower(coalesce(nullif(trim(r.utm_campaign), ''), url_param(r.page_url, 'utm_campaign'))) as utm_campaign,
        url_host(r.page_url) as page_host,
        url_host(r.page_referrer) as ref_host,
        case
            when not contains(r.page_url, '?') then
                case when nullif(trim(r.click_id), '') is not null then 'unknown' end
            when regexp_matches(r.page_url, '[?&]gclid=') then 'gclid'
            when regexp_matches(r.page_url, '[?&]msclkid=') then 'msclkid'
            when regexp_matches(r.page_url, '[?&]fbclid=') then 'fbclid'
            when regexp_matches(r.page_url, '[?&]ttclid=') then 'ttclid'
            when regexp_matches(r.page_url, '[?&]li_fat_id=') then 'li_fat_id'
            when regexp_matches(r.page_url, '[?&](gbraid|wbraid)=') then 'gclid'
            when regexp_matches(r.page_url, '[?&]dclid=') then 'dclid'
            when nullif(trim(r.click_id), '') is not null then 'unknown'
        end as click_id_type
    from sess as s
    inner join raw.events as r on r.event_id = s.session_fid
)
select
    session_fid,
    utm_source is not null or utm_medium is not null or utm_campaign is not null as is_tagged,
    utm_source,
    utm_medium,
    utm_campaign,
    case when ref_host = page_host then null else ref_host end as referrer,
    click_id_type
from first_events;

-- Referrer hosts to (source, medium), on the distinct hosts only.
create or replace temp table referrers as
with hosts as (select distinct referrer as host from first_touch where referrer is not null),
named as (
    select
        host,
        case
            when regexp_matches(host, '(^|\.)google\.[a-z.]+$') then 'google'
            when regexp_matches(host, '(^|\.)bing\.com$') then 'bing'
            when regexp_matches(host, '(^|\.)duckduckgo\.com$') then 'duckduckgo'
            when regexp_matches(host, '(^|\.)yahoo\.[a-z.]+$') then 'yahoo'
            when regexp_matches(host, '(^|\.)(baidu|yandex|ecosia|naver|seznam)\.[a-z.]+$')
                then regexp_extract(host, '(baidu|yandex|ecosia|naver|seznam)', 1)
            when regexp_matches(host, '(^|\.)(facebook\.com|fb\.com|fb\.me)$') then 'facebook'
            when regexp_matches(host, '(^|\.)instagram\.com$') then 'instagram'
            when regexp_matches(host, '(^|\.)(t\.co|twitter\.com|x\.com)$') then 'twitter'
            when regexp_matches(host, '(^|\.)(linkedin\.com|lnkd\.in)$') then 'linkedin'
            when regexp_matches(host, '(^|\.)tiktok\.com$') then 'tiktok'
            when regexp_matches(host, '(^|\.)(pinterest\.[a-z.]+|pin\.it)$') then 'pinterest'
            when regexp_matches(host, '(^|\.)reddit\.com$') then 'reddit'
            when regexp_matches(host, '(^|\.)(youtube\.com|youtu\.be)$') then 'youtube'
            when regexp_matches(host, '(^|\.)vimeo\.com$') then 'vimeo'
            else host
        end as source
    from hosts
)
select
    host,
    source,
    case
        when source in ('google', 'bing', 'duckduckgo', 'yahoo', 'baidu', 'yandex', 'ecosia', 'naver', 'seznam')
            then 'organic'
        when source in ('facebook', 'instagram', 'twitter', 'linkedin', 'tiktok', 'pinterest', 'reddit') then 'social'
        when source in ('youtube', 'vimeo') then 'video'
        else 'referral'
    end as medium
from named;

create or replace temp table traffic as
select
    t.session_fid,
    t.is_tagged,
    case
        when t.is_tagged then coalesce(t.utm_source, '(not set)')
        when t.referrer is not null then r.source
        else '(direct)'
    end as source,
    case
        when t.is_tagged then coalesce(t.utm_medium, '(not set)')
        when t.referrer is not null then r.medium
        else '(none)'
    end as medium,
    case when t.is_tagged then t.utm_campaign end as campaign,
    t.referrer,
    t.click_id_type
from first_touch as t
left join referrers as r on t.referrer = r.host;

-- Ad spend: the latest version of each row (platforms restate the last days), in the reporting currency.
create or replace temp table spend as
with latest as (
    select
        date as spend_date,
        lower(trim(platform)) as platform,
        lower(trim(platform)) || ':' || campaign_id as campaign_key,
        coalesce(adset_name, '') as adset_name,
        coalesce(ad_name, '') as ad_name,
        lower(nullif(trim(utm_source), '')) as utm_source,
        lower(nullif(trim(utm_medium), '')) as utm_medium,
        lower(nullif(trim(utm_campaign), '')) as utm_campaign,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        spend,
        upper(trim(currency)) as currency
    from raw.ad_spend
    qualify row_number() over (
        partition by
            date, lower(trim(platform)), account_id, campaign_id, coalesce(adset_name, ''), coalesce(ad_name, '')
        order by loaded_at desc, load_id desc, row_number desc
    ) = 1
)
select latest.* exclude (spend, currency), to_money(latest.spend, fx.rate) as spend
from latest
left join fx
    on fx.currency = coalesce(latest.currency, '${currency}')
    and latest.spend_date >= fx.valid_from and latest.spend_date < fx.valid_to;

-- Channels: the first channel rule whose regexes all match, evaluated on each distinct traffic source (sessions'
-- and campaigns' tagging).
create or replace temp table source_channels as
with sources as (
    select distinct
        coalesce(lower(source), '') as source,
        coalesce(lower(medium), '') as medium,
        coalesce(lower(campaign), '') as campaign,
        coalesce(lower(referrer), '') as referrer,
        coalesce(lower(click_id_type), '') as click_id_type
    from traffic
    union
    select distinct coalesce(utm_source, ''), coalesce(utm_medium, ''), coalesce(utm_campaign, ''), '', ''
    from spend
)
select s.source, s.medium, s.campaign, s.referrer, s.click_id_type, arg_min(r.channel, r.rule_order) as channel
from sources as s
inner join channel_rules as r
    on (r.source_re = '' or regexp_matches(s.source, r.source_re))
    and (r.medium_re = '' or regexp_matches(s.medium, r.medium_re))
    and (r.campaign_re = '' or regexp_matches(s.campaign, r.campaign_re))
    and (r.referrer_re = '' or regexp_matches(s.referrer, r.referrer_re))
    and (r.click_re = '' or regexp_matches(s.click_id_type, r.click_re))
group by all;

-- A campaign's channel: the rules applied to its latest utm tagging, else its platform's usual channel.
create or replace temp table campaign_channels as
with latest_tags as (
    select
        campaign_key,
        any_value(platform) as platform,
        -- the latest tagged row (as the marts pick it: tagged first, then date, adset and ad name descending)
        arg_max(
            {'s': utm_source, 'm': utm_medium, 'c': utm_campaign},
            {'tagged': utm_source is not null, 'd': spend_date, 'a': adset_name, 'n': ad_name}
        ) as tags
    from spend
    group by campaign_key
)
select
    t.campaign_key,
    case
        when c.channel is null or c.channel in ('Unassigned', 'Direct') then
            case
                when t.platform in ('google_ads', 'microsoft_ads', 'bing_ads') then 'Paid Search'
                when t.platform in ('meta_ads', 'facebook_ads', 'linkedin_ads', 'tiktok_ads', 'twitter_ads',
                                    'pinterest_ads', 'snapchat_ads') then 'Paid Social'
                when t.platform = 'youtube_ads' then 'Paid Video'
                when t.platform in ('tv', 'radio', 'print', 'ooh') then 'Offline'
                else 'Unassigned'
            end
        else c.channel
    end as channel
from latest_tags as t
left join source_channels as c
    on c.source = coalesce(t.tags.s, '') and c.medium = coalesce(t.tags.m, '') and c.campaign = coalesce(t.tags.c, '')
    and c.referrer = '' and c.click_id_type = '';

-- Goal and funnel-stage matches ---------------------------------------------------------------------------------
-- event: the event name; page: a page view whose path is LIKE the pattern; session_pageviews N: the N-th page view
-- (N <= 0: the first event); session_duration_s T: the first event T or more seconds after the session start.

create or replace temp table hits as
select e.event_id, r.kind, r.rule_id, r.stage_order
from raw.events as e
inner join rules as r on r.match_type = 'event' and lower(trim(e.event_name)) = lower(r.match_value)
union all
select e.event_id, r.kind, r.rule_id, r.stage_order
from (
    select event_id, url_path(page_url) as page_path from raw.events where lower(trim(event_name)) = 'page_view'
) as e
inner join rules as r on r.match_type = 'page' and e.page_path like r.match_value;

create or replace temp table matches as
select h.kind, h.rule_id, h.stage_order, e.session_fid, e.event_id, e.occurred_at, e.event_index
from hits as h
inner join ev as e on h.event_id = e.event_id
union all
select r.kind, r.rule_id, r.stage_order, e.session_fid, e.event_id, e.occurred_at, e.event_index
from ev as e
inner join rules as r
    on r.match_type = 'session_pageviews' and e.is_pv and e.pv_index = cast(r.match_value as integer)
union all
select r.kind, r.rule_id, r.stage_order, e.session_fid, e.event_id, e.occurred_at, e.event_index
from (select * from ev where event_index = 1) as e
inner join rules as r on r.match_type = 'session_pageviews' and cast(r.match_value as integer) <= 0
union all
select
    r.kind, r.rule_id, r.stage_order, e.session_fid,
    arg_min(e.event_id, e.event_index), arg_min(e.occurred_at, e.event_index), min(e.event_index)
from ev as e
inner join rules as r
    on r.match_type = 'session_duration_s'
    and (epoch_us(e.occurred_at) - epoch_us(e.session_start)) / 1000000.0 >= cast(r.match_value as double)
group by r.kind, r.rule_id, r.stage_order, e.session_fid;

-- Conversions: every_event goals on each match, once_per_session goals on a session's first match.
create or replace temp table conv as
with counted as (
    select m.rule_id as goal_id, m.session_fid, m.event_id, m.occurred_at
    from matches as m
    inner join goals as g on m.kind = 'goal' and m.rule_id = g.goal_id and g.counting = 'every_event'
    union all
    select m.rule_id, m.session_fid, arg_min(m.event_id, m.event_index), arg_min(m.occurred_at, m.event_index)
    from matches as m
    inner join goals as g on m.kind = 'goal' and m.rule_id = g.goal_id and g.counting <> 'every_event'
    group by m.rule_id, m.session_fid
),
order_events as (
    select event_id, nullif(trim(order_id), '') as order_id, revenue, upper(nullif(trim(currency), '')) as currency
    from raw.events
    where nullif(trim(order_id), '') is not null
),
orders as (
    select
        order_id,
        cast(to_local(o.ordered_at) as date) as order_date,
        lower(trim(status)) = 'completed' as is_completed,
        case
            when lower(trim(status)) = 'completed' then to_money(o.revenue, fx.rate)
            else cast(0 as decimal(18, 4))
        end as net_revenue
    from (
        select * from raw.orders
        qualify row_number() over (partition by order_id order by loaded_at desc, load_id desc, row_number desc) = 1
    ) as o
    left join fx
        on fx.currency = coalesce(upper(trim(o.currency)), '${currency}')
        and cast(to_local(o.ordered_at) as date) >= fx.valid_from
        and cast(to_local(o.ordered_at) as date) < fx.valid_to
),
-- Only the first event-goal conversion of an order carries it (a double-fired purchase counts once), ordered by
-- time then conversion_id as the marts do.
carriers as (
    select c.goal_id, c.event_id, oe.order_id, oe.revenue, oe.currency
    from counted as c
    inner join goals as g on c.goal_id = g.goal_id and g.match_type = 'event'
    inner join order_events as oe on c.event_id = oe.event_id
    inner join sess as s on c.session_fid = s.session_fid
    qualify row_number() over (
        partition by oe.order_id
        order by
            c.occurred_at,
            md5(c.goal_id || '|' || case
                when g.counting = 'every_event' then c.event_id
                else md5(
                    md5(s.anonymous_id || coalesce('|' || s.sid, ''))
                    || '|' || case when s.sid is null then s.session_fid else '' end
                )
            end)
    ) = 1
)
select
    c.goal_id, g.goal_type, g.is_lead, c.session_fid, c.occurred_at, o.order_date,
    k.order_id is not null and (o.order_id is null or o.is_completed) as is_order,
    case
        when k.order_id is null then null
        when o.order_id is not null then o.net_revenue
        else to_money(k.revenue, fx.rate)
    end as revenue
from counted as c
inner join goals as g on c.goal_id = g.goal_id
left join carriers as k on c.goal_id = k.goal_id and c.event_id = k.event_id
left join orders as o on k.order_id = o.order_id
left join fx
    on k.order_id is not null
    and fx.currency = coalesce(k.currency, '${currency}')
    and cast(to_local(c.occurred_at) as date) >= fx.valid_from
    and cast(to_local(c.occurred_at) as date) < fx.valid_to;

-- Sessions with visitor, channel and conversions ----------------------------------------------------------------

create or replace temp table sessions as
with per_session as (
    select
        session_fid, count(*) as conversions, count(*) filter (where goal_type = 'macro') as macro_conversions,
        count(*) filter (where goal_type = 'micro') as micro_conversions, count(*) filter (where is_lead) as leads,
        count(*) filter (where is_order) as orders, sum(coalesce(revenue, 0)) as revenue
    from conv
    group by session_fid
)
select
    s.session_fid,
    case
        when not s.consented then 'anon-' || md5(s.session_fid)
        else coalesce(i.visitor_id, s.anonymous_id)
    end as visitor_id,
    to_local(s.started_utc) as started_at,
    cast(to_local(s.started_utc) as date) as session_date,
    coalesce(ch.channel, 'Unassigned') as channel,
    s.page_views,
    (epoch_us(s.ended_utc) - epoch_us(s.started_utc)) / 1000000.0 >= ${engaged_min_duration_s}
        or s.page_views >= ${engaged_min_pageviews}
        or coalesce(c.conversions, 0) > 0 as is_engaged,
    coalesce(c.macro_conversions, 0) as macro_conversions, coalesce(c.micro_conversions, 0) as micro_conversions,
    coalesce(c.leads, 0) as leads, coalesce(c.orders, 0) as orders, coalesce(c.revenue, 0) as revenue
from sess as s
inner join traffic as t on s.session_fid = t.session_fid
left join ident as i on s.anonymous_id = i.anonymous_id
left join source_channels as ch
    on ch.source = coalesce(lower(t.source), '')
    and ch.medium = coalesce(lower(t.medium), '')
    and ch.campaign = coalesce(lower(t.campaign), '')
    and ch.referrer = coalesce(lower(t.referrer), '')
    and ch.click_id_type = coalesce(lower(t.click_id_type), '')
left join per_session as c on s.session_fid = c.session_fid;

-- Results --------------------------------------------------------------------------------------------------------

create or replace temp table res_sessions as
select
    session_date, channel, count(*) as sessions, count(distinct visitor_id) as visitors, sum(page_views) as page_views
from sessions
group by all;

create or replace temp table res_conversions as
select
    cast(to_local(occurred_at) as date) as conversion_date, goal_id, count(*) as conversions,
    count(*) filter (where is_order) as orders, cast(sum(coalesce(revenue, 0)) as double) as revenue
from conv
group by all;

create or replace temp table res_kpi_daily as
with by_sessions as (
    select
        session_date as date, channel, count(*) as sessions, count(*) filter (where is_engaged) as engaged_sessions,
        count(*) filter (where macro_conversions > 0) as converting_sessions,
        sum(macro_conversions) as macro_conversions, sum(micro_conversions) as micro_conversions,
        sum(leads) as leads, sum(orders) as orders, cast(sum(revenue) as double) as revenue
    from sessions
    group by all
),
by_spend as (
    select
        s.spend_date as date, c.channel,
        cast(sum(s.spend) as double) as spend, sum(s.impressions) as impressions, sum(s.clicks) as clicks
    from spend as s
    inner join campaign_channels as c on s.campaign_key = c.campaign_key
    group by all
)
select
    coalesce(a.date, b.date) as date,
    coalesce(a.channel, b.channel) as channel,
    coalesce(a.sessions, 0) as sessions, coalesce(a.engaged_sessions, 0) as engaged_sessions,
    coalesce(a.converting_sessions, 0) as converting_sessions, coalesce(a.macro_conversions, 0) as macro_conversions,
    coalesce(a.micro_conversions, 0) as micro_conversions, coalesce(a.leads, 0) as leads,
    coalesce(a.orders, 0) as orders, coalesce(a.revenue, 0) as revenue, coalesce(b.spend, 0) as spend,
    coalesce(b.impressions, 0) as impressions, coalesce(b.clicks, 0) as clicks
from by_sessions as a
full outer join by_spend as b on a.date = b.date and a.channel = b.channel;

-- Funnels: open = the session has the stage at all; closed = every earlier stage first, in order (the same event
-- may complete two stages). Walking a session's matches in event order, the closed funnel advances one stage each
-- time the next stage shows up: list_reduce does that walk. Sessions are then counted per (day, channel, funnel,
-- closed stage reached, set of open stages as a bit mask) before being spread over the stages.
create or replace temp table res_funnel as
with per_session as (
    select
        session_fid,
        rule_id as funnel_id,
        list_reduce(
            list(stage_order order by event_index, stage_order),
            lambda reached, stage: case when stage = reached + 1 then stage else reached end,
            0
        ) as closed_reached,
        bit_or(cast(1 as bigint) << stage_order) as open_stages
    from matches
    where kind = 'stage'
    group by session_fid, rule_id
),
buckets as (
    select s.session_date, s.channel, p.funnel_id, p.closed_reached, p.open_stages, count(*) as n
    from per_session as p
    inner join sessions as s on p.session_fid = s.session_fid
    group by all
),
counts as (
    select
        b.session_date,
        b.channel,
        b.funnel_id,
        st.stage_order,
        coalesce(sum(b.n) filter (where st.stage_order <= b.closed_reached), 0) as closed_sessions,
        coalesce(sum(b.n) filter (where (b.open_stages >> st.stage_order) & 1 = 1), 0) as open_sessions
    from buckets as b
    inner join stages as st on b.funnel_id = st.funnel_id
    group by all
)
select
    g.session_date,
    st.funnel_id,
    st.stage_order,
    g.channel,
    coalesce(c.closed_sessions, 0) as closed_sessions,
    coalesce(c.open_sessions, 0) as open_sessions
from (select distinct session_date, channel from sessions) as g
cross join stages as st
left join counts as c
    on g.session_date = c.session_date and g.channel = c.channel
    and st.funnel_id = c.funnel_id and st.stage_order = c.stage_order;

-- Attribution of macro conversions: the converting session plus the visitor's sessions that started within the
-- lookback before the conversion (and not after the converting session). Last touch = the converting session;
-- linear = 1/n each. Counted in the month of the converting session's day. A conversion whose order the feed
-- stamps after the last day with sessions or spend waits for that day, as in the marts.
create or replace temp table res_attribution as
with data_through as (
    select greatest(
        (select max(session_date) from sessions), (select max(spend_date) from spend where spend > 0)
    ) as day
),
macro as (
    select
        s.visitor_id,
        c.session_fid,
        s.started_at as session_started_at,
        date_trunc('month', s.session_date) as month,
        s.channel,
        to_local(c.occurred_at) as occurred_at,
        coalesce(c.revenue, 0) as revenue,
        row_number() over () as conversion_no
    from conv as c
    inner join sessions as s on c.session_fid = s.session_fid
    where c.goal_type = 'macro' and (c.order_date is null or c.order_date <= (select day from data_through))
),
touches as (
    select m.conversion_no, m.month, m.revenue, t.channel
    from macro as m
    inner join sessions as t
        on t.visitor_id = m.visitor_id
        and (
            t.session_fid = m.session_fid
            or (
                t.started_at <= m.session_started_at
                and t.started_at >= m.occurred_at - interval (${lookback_days}) day
            )
        )
),
linear as (
    select
        month,
        channel,
        1.0 / count(*) over (partition by conversion_no) as credit,
        revenue
    from touches
)
select cast(month as date) as month, 'last_touch' as model, channel, cast(count(*) as double) as conversions,
    cast(sum(revenue) as double) as revenue
from macro
group by all
union all
select cast(month as date), 'linear', channel, sum(credit), cast(sum(credit * revenue) as double)
from linear
group by all;
