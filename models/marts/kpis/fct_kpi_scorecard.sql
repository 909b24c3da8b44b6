{#-
    Monthly KPI scorecard (MARTS.md): one row per month, KPI id, scope and scope value.
    Rows: every KPI id at scope all every month (target NULL when kpi_targets has none, so the north star is
    always there), plus each channel / campaign scope that kpi_targets names.
    Money KPIs that depend on attribution (revenue, gross_margin, cpa, roas, roi, prr) use
    var('attribution_model'), counted in the month of kpi_date (an order's feed day); counts and rates (sessions,
    leads, conversion_rate ...) are session based, orders and AOV come from the orders feed (fct_kpi_daily).
    Additive KPIs (counts, money) are compared with the target pro-rated to the days of the month that have
    data (target_to_date), so a month in progress is not "off track" just for being short.
-#}

{%- set kpis = [
    'sessions', 'visitors', 'engagement_rate', 'conversion_rate', 'micro_conversion_rate', 'goal_score', 'leads',
    'orders', 'revenue', 'gross_margin', 'aov', 'spend', 'impressions', 'clicks', 'ctr', 'cpc', 'cpm', 'cpa', 'cpl',
    'cac', 'roas', 'roi', 'prr', 'clv', 'close_rate'] -%}
{%- set additive = ['sessions', 'visitors', 'goal_score', 'leads', 'orders', 'revenue', 'gross_margin', 'spend',
    'impressions', 'clicks'] -%}
{%- set lower_is_better = ['spend', 'cpa', 'cpl', 'cpc', 'cpm', 'cac'] -%}
{%- set model = var('attribution_model') -%}

with

kpi_daily as (
    select * from {{ ref('fct_kpi_daily') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

attributed as (
    select * from {{ ref('fct_attributed_conversions') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

leads as (
    select * from {{ ref('int_leads_lifecycle') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

{%- set scopes = [('all', "'all'"), ('channel', 'channel'), ('campaign', 'campaign_key')] %}

daily_base as (
    {%- for scope, value in scopes %}
        select
            cast({{ dbt.date_trunc('month', 'date') }} as date) as month,
            '{{ scope }}' as scope,
            {{ value }} as scope_value,
            {{ exact_sum('spend') }} as spend,
            sum(impressions) as impressions,
            sum(clicks) as clicks,
            sum(sessions) as sessions,
            sum(engaged_sessions) as engaged_sessions,
            sum(converting_sessions) as converting_sessions,
            sum(micro_converting_sessions) as micro_converting_sessions,
            {{ exact_sum('goal_score') }} as goal_score,
            sum(leads) as leads,
            sum(orders) as orders,
            {{ exact_sum('revenue') }} as session_revenue
        from kpi_daily
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

visitor_base as (
    {%- for scope, value in scopes %}
        select
            cast({{ dbt.date_trunc('month', 'session_date') }} as date) as month,
            '{{ scope }}' as scope,
            {{ value }} as scope_value,
            count(distinct visitor_id) as visitors
        from sessions
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

attribution_base as (
    {%- for scope, value in scopes %}
        select
            cast({{ dbt.date_trunc('month', 'kpi_date') }} as date) as month,
            '{{ scope }}' as scope,
            {{ value }} as scope_value,
            {{ exact_sum('credit') }} as attributed_conversions,
            {{ exact_sum('attributed_revenue') }} as attributed_revenue,
            {{ exact_sum('attributed_gross_margin') }} as attributed_gross_margin
        from attributed
        where model = '{{ model }}'
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

customer_base as (
    {%- for scope, value in scopes[:2] %}
        select
            cast({{ dbt.date_trunc('month', 'first_order_at') }} as date) as month,
            '{{ scope }}' as scope,
            {{ value | replace('channel', 'acquisition_channel') }} as scope_value,
            count(*) as new_customers,
            {{ exact_avg('clv_predicted') }} as clv
        from customers
        where first_order_at is not null
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

lead_base as (
    {%- for scope, value in scopes %}
        select
            cast({{ dbt.date_trunc('month', 'created_date') }} as date) as month,
            '{{ scope }}' as scope,
            {{ value }} as scope_value,
            count(*) as crm_leads,
            count(case when reached_won then 1 end) as won_leads
        from leads
        where created_date is not null
        group by 1, 2, 3
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- days of each month the warehouse has data for (any scope): additive targets are pro-rated to them
coverage as (
    select
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month,
        count(distinct date) as days_with_data
    from kpi_daily
    group by 1
),

base as (
    select
        daily_base.*,
        coverage.days_with_data,
        coalesce(visitor_base.visitors, 0) as visitors,
        coalesce(attribution_base.attributed_conversions, 0) as attributed_conversions,
        coalesce(attribution_base.attributed_revenue, 0) as attributed_revenue,
        coalesce(attribution_base.attributed_gross_margin, 0) as attributed_gross_margin,
        customer_base.new_customers,
        customer_base.clv,
        lead_base.crm_leads,
        lead_base.won_leads,
        -- flight to date: everything up to the end of this month
        sum(daily_base.spend) over (
            partition by daily_base.scope, daily_base.scope_value order by daily_base.month
        ) as spend_to_date,
        sum(coalesce(attribution_base.attributed_gross_margin, 0)) over (
            partition by daily_base.scope, daily_base.scope_value order by daily_base.month
        ) as attributed_gross_margin_to_date,
        extract(day from {{ dbt.last_day('daily_base.month', 'month') }}) as days_in_month
    from daily_base
    inner join coverage
        on daily_base.month = coverage.month
    left join visitor_base
        on
            daily_base.month = visitor_base.month
            and daily_base.scope = visitor_base.scope
            and daily_base.scope_value = visitor_base.scope_value
    left join attribution_base
        on
            daily_base.month = attribution_base.month
            and daily_base.scope = attribution_base.scope
            and daily_base.scope_value = attribution_base.scope_value
    left join customer_base
        on
            daily_base.month = customer_base.month
            and daily_base.scope = customer_base.scope
            and daily_base.scope_value = customer_base.scope_value
    left join lead_base
        on
            daily_base.month = lead_base.month
            and daily_base.scope = lead_base.scope
            and daily_base.scope_value = lead_base.scope_value
),

kpi_values as (
    select
        month,
        scope,
        scope_value,
        days_with_data,
        days_in_month,
        cast(sessions as double) as sessions,
        cast(visitors as double) as visitors,
        {{ kpi_ratio('engagement_rate') }} as engagement_rate,
        {{ kpi_ratio('conversion_rate') }} as conversion_rate,
        {{ kpi_ratio('micro_conversion_rate') }} as micro_conversion_rate,
        cast(goal_score as double) as goal_score,
        cast(leads as double) as leads,
        cast(orders as double) as orders,
        cast(attributed_revenue as double) as revenue,
        cast(attributed_gross_margin as double) as gross_margin,
        {{ kpi_ratio('aov', revenue='session_revenue') }} as aov,
        cast(spend as double) as spend,
        cast(impressions as double) as impressions,
        cast(clicks as double) as clicks,
        {{ kpi_ratio('ctr') }} as ctr,
        {{ kpi_ratio('cpc') }} as cpc,
        {{ kpi_ratio('cpm') }} as cpm,
        {{ kpi_ratio('cpa', macro_conversions='attributed_conversions') }} as cpa,
        {{ kpi_ratio('cpl') }} as cpl,
        {{ kpi_ratio('cac') }} as cac,
        {{ kpi_ratio('roas', revenue='attributed_revenue') }} as roas,
        {{ kpi_ratio('roi', gross_margin='attributed_gross_margin') }} as roi,
        {{ kpi_ratio('roi', gross_margin='attributed_gross_margin_to_date', spend='spend_to_date') }} as prr,
        cast(clv as double) as clv,
        {{ kpi_ratio('close_rate', leads='crm_leads') }} as close_rate
    from base
),

kpi_long as (
    {%- for kpi in kpis %}
        select
            month,
            '{{ kpi }}' as kpi,
            scope,
            scope_value,
            days_with_data,
            days_in_month,
            cast({{ kpi }} as double) as actual
        from kpi_values
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

north_star as (
    select coalesce(max(case when is_north_star then kpi end), 'gross_margin') as kpi
    from targets
),

matching_targets as (
    select
        kpi_long.month,
        kpi_long.kpi,
        kpi_long.scope,
        kpi_long.scope_value,
        targets.target,
        targets.direction,
        row_number() over (
            partition by kpi_long.month, kpi_long.kpi, kpi_long.scope, kpi_long.scope_value
            order by
                case when targets.month is null or targets.month = '' then 1 else 0 end,
                case when targets.target is null then 1 else 0 end
        ) as priority
    from kpi_long
    inner join targets
        on
            kpi_long.kpi = targets.kpi
            and kpi_long.scope = targets.scope
            and (kpi_long.scope = 'all' or kpi_long.scope_value = targets.scope_value)
            and (targets.month is null or targets.month = '' or targets.month = {{ year_month_text('kpi_long.month') }})
),

scored as (
    select
        kpi_long.month,
        kpi_long.kpi,
        kpi_long.scope,
        kpi_long.scope_value,
        kpi_long.actual,
        matching_targets.target,
        coalesce(
            matching_targets.direction,
            case
                when kpi_long.kpi in ('{{ lower_is_better | join("', '") }}') then 'lower_is_better'
                else 'higher_is_better'
            end
        ) as direction,
        kpi_long.kpi in ('{{ additive | join("', '") }}') as is_additive,
        kpi_long.days_with_data,
        kpi_long.days_in_month,
        kpi_long.kpi = north_star.kpi as is_north_star
    from kpi_long
    cross join north_star
    left join matching_targets
        on
            kpi_long.month = matching_targets.month
            and kpi_long.kpi = matching_targets.kpi
            and kpi_long.scope = matching_targets.scope
            and kpi_long.scope_value = matching_targets.scope_value
            and matching_targets.priority = 1
    -- scope all: every KPI; channel / campaign scopes: only those with a target row
    where kpi_long.scope = 'all' or matching_targets.kpi is not null
),

attained as (
    select
        *,
        case
            when is_additive then target * days_with_data / days_in_month
            else target
        end as target_to_date
    from scored
),

final as (
    select
        cast(month as date) as month,
        cast(kpi as string) as kpi,
        cast(scope as string) as scope,
        cast(scope_value as string) as scope_value,
        cast(actual as double) as actual,
        cast(target as double) as target,
        cast(target_to_date as double) as target_to_date,
        cast(
            case
                when direction = 'lower_is_better' then {{ safe_divide('target_to_date', 'actual') }}
                else {{ safe_divide('actual', 'target_to_date') }}
            end as double
        ) as attainment,
        cast(
            case
                when target_to_date is null or actual is null then null
                when direction = 'lower_is_better' then actual <= target_to_date
                else actual >= target_to_date
            end as boolean
        ) as on_track,
        cast(is_north_star as boolean) as is_north_star,
        cast(direction as string) as direction,
        cast(days_with_data as bigint) as days_with_data,
        cast(days_in_month as bigint) as days_in_month,
        cast(
            case
                when kpi in ('revenue', 'gross_margin', 'cpa', 'roas', 'roi', 'prr') then '{{ model }}'
            end as string
        ) as attribution_model
    from attained
)

select * from final
