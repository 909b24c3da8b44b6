{#-
    The orders feed against tracking, and the ad platforms' own claims against northstar's attribution, per day
    (MARTS.md). Grain (date, platform):
      platform '(all)'      the feed against tracking: completed orders and net revenue in the feed (order day),
                            how many of them a tracked purchase carries (match_rate), how the others were credited
                            (int_orders_credited), tracked purchases (purchase day) and those with no order in the
                            feed, the revenue the purchase events carry; and the platform columns summed over every
                            ad platform, so over_claim_ratio there is the double counting of all platforms together
      platform = <platform> one ad platform (google_ads, meta_ads ...): spend, the conversions and conversion value it
                            reports in its spend rows (its own attribution, on its account's day) against the
                            purchases and revenue northstar's configured attribution model credits to its campaigns
                            (kpi_date: the order's feed day); feed and tracking columns NULL
    over_claim_ratio = platform_conversions / attributed_purchases: above 1, the platform claims more purchases than
    northstar credits it with. Purchases are conversions that carry an order (any status), as a platform's pixel
    counts them. Ratios divide with safe_divide (NULL on 0). No day after data_through (int_data_through), like
    fct_kpi_daily.
-#}

{%- set model = var('attribution_model') -%}

with

orders as (
    select * from {{ ref('int_orders_credited') }}
),

conversions as (
    select * from {{ ref('int_conversions_valued') }}
),

spend as (
    select * from {{ ref('int_spend_rows_restated') }}
),

attributed as (
    select * from {{ ref('fct_attributed_conversions') }}
),

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

feed_days as (
    select
        order_date as day,
        count(case when is_completed then 1 end) as orders_in_feed,
        {{ exact_sum('net_revenue') }} as feed_net_revenue,
        count(case when is_completed and credited_via = 'purchase_session' then 1 end)
            as orders_matched_to_tracked_purchase,
        count(case when is_completed and credited_via = 'customer_session' then 1 end) as orders_credited_via_customer,
        count(case when is_completed and credited_via = 'untracked' then 1 end) as orders_untracked
    from orders
    where is_in_feed
    group by 1
),

tracked_days as (
    -- tracked purchases: the one conversion per order_id that carries it, on the purchase event's day
    select
        {{ to_reporting_date('conversions.occurred_at_utc') }} as day,
        count(*) as tracked_purchases,
        count(case when orders.order_id is null then 1 end) as tracked_purchases_without_feed_order,
        {{ exact_sum('conversions.tracked_revenue') }} as tracked_revenue
    from conversions
    left join orders
        on
            conversions.order_id = orders.order_id
            and orders.is_in_feed
    where conversions.order_id is not null
    group by 1
),

claims as (
    select
        spend_date as day,
        platform,
        {{ exact_sum('spend') }} as spend,
        sum(platform_conversions) as platform_conversions,
        {{ exact_sum('platform_conversion_value') }} as platform_conversion_value
    from spend
    group by 1, 2
),

credits as (
    select
        attributed.kpi_date as day,
        campaigns.platform,
        {{ exact_sum('case when attributed.order_id is not null then attributed.credit else 0 end') }}
            as attributed_purchases,
        {{ exact_sum('attributed.attributed_revenue') }} as attributed_revenue
    from attributed
    inner join campaigns
        on attributed.campaign_key = campaigns.campaign_key
    where
        attributed.model = '{{ model }}'
        and campaigns.platform is not null
    group by 1, 2
),

platform_keys as (
    select
        day,
        platform
    from claims
    union
    select
        day,
        platform
    from credits
),

platform_days as (
    select
        platform_keys.day,
        platform_keys.platform,
        coalesce(claims.spend, 0) as spend,
        claims.platform_conversions,
        claims.platform_conversion_value,
        coalesce(credits.attributed_purchases, 0) as attributed_purchases,
        coalesce(credits.attributed_revenue, 0) as attributed_revenue
    from platform_keys
    left join claims
        on
            platform_keys.day = claims.day
            and platform_keys.platform = claims.platform
    left join credits
        on
            platform_keys.day = credits.day
            and platform_keys.platform = credits.platform
),

platforms_summed as (
    select
        day,
        {{ exact_sum('spend') }} as spend,
        sum(platform_conversions) as platform_conversions,
        {{ exact_sum('platform_conversion_value') }} as platform_conversion_value,
        {{ exact_sum('attributed_purchases') }} as attributed_purchases,
        {{ exact_sum('attributed_revenue') }} as attributed_revenue
    from platform_days
    group by 1
),

days as (
    select day from feed_days
    union
    select day from tracked_days
    union
    select day from platform_days
),

all_rows as (
    select
        days.day,
        '(all)' as platform,
        coalesce(feed_days.orders_in_feed, 0) as orders_in_feed,
        coalesce(feed_days.feed_net_revenue, 0) as feed_net_revenue,
        coalesce(feed_days.orders_matched_to_tracked_purchase, 0) as orders_matched_to_tracked_purchase,
        coalesce(feed_days.orders_credited_via_customer, 0) as orders_credited_via_customer,
        coalesce(feed_days.orders_untracked, 0) as orders_untracked,
        coalesce(tracked_days.tracked_purchases, 0) as tracked_purchases,
        coalesce(tracked_days.tracked_purchases_without_feed_order, 0) as tracked_purchases_without_feed_order,
        coalesce(tracked_days.tracked_revenue, 0) as tracked_revenue,
        coalesce(platforms_summed.spend, 0) as spend,
        platforms_summed.platform_conversions,
        platforms_summed.platform_conversion_value,
        coalesce(platforms_summed.attributed_purchases, 0) as attributed_purchases,
        coalesce(platforms_summed.attributed_revenue, 0) as attributed_revenue
    from days
    left join feed_days
        on days.day = feed_days.day
    left join tracked_days
        on days.day = tracked_days.day
    left join platforms_summed
        on days.day = platforms_summed.day
),

platform_rows as (
    select
        day,
        platform,
        cast(null as bigint) as orders_in_feed,
        cast(null as double) as feed_net_revenue,
        cast(null as bigint) as orders_matched_to_tracked_purchase,
        cast(null as bigint) as orders_credited_via_customer,
        cast(null as bigint) as orders_untracked,
        cast(null as bigint) as tracked_purchases,
        cast(null as bigint) as tracked_purchases_without_feed_order,
        cast(null as double) as tracked_revenue,
        spend,
        platform_conversions,
        platform_conversion_value,
        attributed_purchases,
        attributed_revenue
    from platform_days
),

unioned as (
    select * from all_rows
    union all
    select * from platform_rows
),

final as (
    select
        cast(day as date) as date,
        cast(platform as string) as platform,
        cast(orders_in_feed as bigint) as orders_in_feed,
        cast(feed_net_revenue as double) as feed_net_revenue,
        cast(orders_matched_to_tracked_purchase as bigint) as orders_matched_to_tracked_purchase,
        cast(orders_credited_via_customer as bigint) as orders_credited_via_customer,
        cast(orders_untracked as bigint) as orders_untracked,
        cast({{ safe_divide('orders_matched_to_tracked_purchase', 'orders_in_feed') }} as double) as match_rate,
        cast(tracked_purchases as bigint) as tracked_purchases,
        cast(tracked_purchases_without_feed_order as bigint) as tracked_purchases_without_feed_order,
        cast(tracked_revenue as double) as tracked_revenue,
        cast(spend as double) as spend,
        cast(platform_conversions as double) as platform_conversions,
        cast(platform_conversion_value as double) as platform_conversion_value,
        cast('{{ model }}' as string) as attribution_model,
        cast(attributed_purchases as double) as attributed_purchases,
        cast(attributed_revenue as double) as attributed_revenue,
        cast({{ safe_divide('platform_conversions', 'attributed_purchases') }} as double) as over_claim_ratio
    from unioned
    where day <= (select data_through.data_through from {{ ref('int_data_through') }} as data_through)
)

select * from final
