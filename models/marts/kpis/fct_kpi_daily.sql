{#-
    Daily KPIs per channel and campaign (MARTS.md). Sessions and their conversions count on the day, channel and
    campaign of the session in which they happen (last touch). Orders, revenue and gross margin count every order
    of the orders feed on its own order day (the revenue truth: per day, revenue here sums to the feed's net
    revenue), with the channel and campaign it is credited to in int_orders_credited: the session that carries it,
    else the customer's last session in the lookback, else '(untracked)'. A feed order no tracked purchase carries
    is a purchase tracking missed: it counts in macro_conversions (untracked_purchases, so CPA counts it) but in no
    session count or rate. Spend joins on (date, channel, campaign_key). A day and key with only spend, only
    sessions or only orders still appears, the missing side 0, up to data_through (int_data_through: the last day
    with sessions or spend; an order stamped after it waits for its day). Ratios divide with safe_divide: a zero
    denominator gives NULL.
-#}

with

sessions as (
    select * from {{ ref('fct_sessions') }}
),

orders as (
    select * from {{ ref('int_orders_credited') }}
),

spend as (
    select * from {{ ref('int_spend_daily') }}
),

data_through as (
    select data_through from {{ ref('int_data_through') }}
),

session_days as (
    select
        session_date as kpi_date,
        channel,
        campaign_key,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count(case when is_engaged then 1 end) as engaged_sessions,
        count(case when macro_conversions > 0 then 1 end) as converting_sessions,
        count(case when micro_conversions > 0 then 1 end) as micro_converting_sessions,
        sum(macro_conversions) as macro_conversions,
        sum(micro_conversions) as micro_conversions,
        sum(leads) as leads,
        {{ exact_sum('goal_score') }} as goal_score
    from sessions
    group by 1, 2, 3
),

order_days as (
    select
        order_date as kpi_date,
        channel,
        campaign_key,
        count(case when is_completed then 1 end) as orders,
        {{ exact_sum('net_revenue') }} as revenue,
        {{ exact_sum('gross_margin') }} as gross_margin,
        -- any status, like a tracked purchase (a conversion even when refunded later)
        count(case when credited_via <> 'purchase_session' then 1 end) as untracked_purchases
    from orders
    group by 1, 2, 3
),

spend_days as (
    select
        spend_date as kpi_date,
        channel,
        campaign_key,
        {{ exact_sum('spend') }} as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from spend
    group by 1, 2, 3
),

keys as (
    select
        kpi_date,
        channel,
        campaign_key
    from session_days
    union
    select
        kpi_date,
        channel,
        campaign_key
    from order_days
    union
    select
        kpi_date,
        channel,
        campaign_key
    from spend_days
),

joined as (
    select
        keys.kpi_date,
        keys.channel,
        keys.campaign_key,
        coalesce(spend_days.spend, 0) as spend,
        coalesce(spend_days.impressions, 0) as impressions,
        coalesce(spend_days.clicks, 0) as clicks,
        coalesce(session_days.sessions, 0) as sessions,
        coalesce(session_days.visitors, 0) as visitors,
        coalesce(session_days.engaged_sessions, 0) as engaged_sessions,
        coalesce(session_days.converting_sessions, 0) as converting_sessions,
        coalesce(session_days.micro_converting_sessions, 0) as micro_converting_sessions,
        coalesce(session_days.macro_conversions, 0) + coalesce(order_days.untracked_purchases, 0) as macro_conversions,
        coalesce(order_days.untracked_purchases, 0) as untracked_purchases,
        coalesce(session_days.micro_conversions, 0) as micro_conversions,
        coalesce(session_days.leads, 0) as leads,
        coalesce(session_days.goal_score, 0) as goal_score,
        coalesce(order_days.orders, 0) as orders,
        coalesce(order_days.revenue, 0) as revenue,
        coalesce(order_days.gross_margin, 0) as gross_margin
    from keys
    left join session_days
        on
            keys.kpi_date = session_days.kpi_date
            and keys.channel = session_days.channel
            and keys.campaign_key = session_days.campaign_key
    left join order_days
        on
            keys.kpi_date = order_days.kpi_date
            and keys.channel = order_days.channel
            and keys.campaign_key = order_days.campaign_key
    left join spend_days
        on
            keys.kpi_date = spend_days.kpi_date
            and keys.channel = spend_days.channel
            and keys.campaign_key = spend_days.campaign_key
    -- nothing after the last day with data: a feed order stamped past it waits for its day (int_data_through)
    where keys.kpi_date <= (select data_through.data_through from data_through)
),

final as (
    select
        cast(kpi_date as date) as date,
        cast(channel as string) as channel,
        cast(campaign_key as string) as campaign_key,
        cast(spend as double) as spend,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast({{ kpi_ratio('ctr') }} as double) as ctr,
        cast({{ kpi_ratio('cpc') }} as double) as cpc,
        cast({{ kpi_ratio('cpm') }} as double) as cpm,
        cast(sessions as bigint) as sessions,
        cast(visitors as bigint) as visitors,
        cast(engaged_sessions as bigint) as engaged_sessions,
        cast({{ kpi_ratio('engagement_rate') }} as double) as engagement_rate,
        cast(converting_sessions as bigint) as converting_sessions,
        cast(micro_converting_sessions as bigint) as micro_converting_sessions,
        cast(macro_conversions as bigint) as macro_conversions,
        cast(untracked_purchases as bigint) as untracked_purchases,
        cast(micro_conversions as bigint) as micro_conversions,
        cast(leads as bigint) as leads,
        cast({{ kpi_ratio('conversion_rate') }} as double) as conversion_rate,
        cast({{ kpi_ratio('micro_conversion_rate') }} as double) as micro_conversion_rate,
        cast(goal_score as double) as goal_score,
        cast(orders as bigint) as orders,
        cast(revenue as double) as revenue,
        cast(gross_margin as double) as gross_margin,
        cast({{ kpi_ratio('aov') }} as double) as aov,
        cast({{ kpi_ratio('cpa') }} as double) as cpa,
        cast({{ kpi_ratio('cpl') }} as double) as cpl,
        cast({{ kpi_ratio('roas') }} as double) as roas,
        cast({{ kpi_ratio('roi') }} as double) as roi
    from joined
)

select * from final
