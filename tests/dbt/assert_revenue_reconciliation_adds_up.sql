-- fct_revenue_reconciliation holds together: on every '(all)' row the feed's orders split exactly into matched,
-- credited through the customer and untracked, the match rate lies in [0, 1], and the platform columns are the sum
-- of that day's platform rows. Returns the days that break a rule; passes when empty.
with

reconciliation as (
    select * from {{ ref('fct_revenue_reconciliation') }}
),

platform_sums as (
    select
        date,
        sum(spend) as spend,
        sum(platform_conversions) as platform_conversions,
        sum(attributed_purchases) as attributed_purchases,
        sum(attributed_revenue) as attributed_revenue
    from reconciliation
    where platform <> '(all)'
    group by date
),

final as (
    select reconciliation.*
    from reconciliation
    left join platform_sums
        on reconciliation.date = platform_sums.date
    where
        reconciliation.platform = '(all)'
        and (
            reconciliation.orders_matched_to_tracked_purchase + reconciliation.orders_credited_via_customer
            + reconciliation.orders_untracked <> reconciliation.orders_in_feed
            or reconciliation.match_rate not between 0 and 1
            or reconciliation.tracked_purchases_without_feed_order > reconciliation.tracked_purchases
            or abs(reconciliation.spend - coalesce(platform_sums.spend, 0)) > 1e-6
            or abs(coalesce(reconciliation.platform_conversions, 0) - coalesce(platform_sums.platform_conversions, 0))
            > 1e-6
            or abs(reconciliation.attributed_purchases - coalesce(platform_sums.attributed_purchases, 0)) > 1e-6
            or abs(reconciliation.attributed_revenue - coalesce(platform_sums.attributed_revenue, 0)) > 1e-6
        )
)

select * from final
