{#-
    data_through: the last reporting day the warehouse has data for, one row. A day counts once tracked sessions
    or ad spend (above 0) for it have landed; an order of the feed alone does not make a day (a purchase just past the last
    midnight is stamped on a day whose sessions are not loaded yet). The KPI-dated marts (fct_kpi_daily,
    fct_attributed_conversions, fct_revenue_reconciliation) hold no row after it: such an order waits in the
    feed and counts on its own day once that day's data lands, so a mart never shows a day or month that has
    not started in the data. publish reports the same day (max fct_kpi_daily.date), and the alerts' daily series
    end on it.
-#}

with

session_days as (
    select max(session_date) as last_day from {{ ref('int_sessions_classified') }}
),

spend_days as (
    -- a day a tracking outage emptied still has its spend; a zero-spend row alone is no data
    select max(spend_date) as last_day
    from {{ ref('int_spend_daily') }}
    where spend > 0
),

final as (
    select cast(greatest(session_days.last_day, spend_days.last_day) as date) as data_through
    from session_days
    cross join spend_days
)

select * from final
