{#-
    MetricFlow's day time spine: one row per day from var('time_spine_start') to var('time_spine_end'), inclusive.
    MetricFlow joins metrics to it for metric_time (and cumulative / offset metrics). Generated in SQL,
    so it needs no source and builds in an empty warehouse; about 5,800 rows.
-#}

with

days as (
    {{ days_between("'" ~ var("time_spine_start", "2020-01-01") ~ "'", "'" ~ var("time_spine_end", "2035-12-31") ~ "'", "date_day") }}
),

final as (
    select date_day
    from days
)

select * from final
