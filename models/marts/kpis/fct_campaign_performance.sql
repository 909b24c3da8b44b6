{#-
    Campaign x month performance with a verdict (MARTS.md). Last-touch KPIs come from fct_kpi_daily; the
    multi-touch numbers come from fct_attributed_conversions with var('attribution_model') (column
    attribution_model says which), plus every model's attributed conversions to show the model spread.

    Recommendation rule (thresholds are vars, evaluated in this order):
      1. attributed conversions < var('min_conversions_for_verdict')
           -> cut when even that minimum volume would cost more than cut_ratio x break-even
              (spend / min_conversions > var('recommendation_cut_ratio') x break-even CPA), else "not enough data"
      2. no spend                                    -> keep (costs nothing)
      3. no break-even CPA (no margin known)         -> not enough data
      4. CPA > var('recommendation_cut_ratio') x break-even CPA            -> cut
      5. CPA > break-even CPA, or CPA > target CPA                         -> fix
      6. CPA <= var('recommendation_scale_ratio') x min(break-even, target) -> scale
      7. otherwise                                                         -> keep
    CPA here = spend / attributed conversions (configured model). Break-even CPA = AOV x margin rate, generalised
    to the average margin a conversion of this campaign brings: attributed gross margin of orders plus the goal
    value of conversions without revenue (demo requests ...), per attributed conversion. For a campaign whose
    conversions are all purchases this is exactly gross margin / orders = AOV x margin rate. When the campaign
    has no conversion of its own, the whole site's value for the month is used.
-#}

{%- set currency = var('reporting_currency') -%}
{%- set min_conversions = var('min_conversions_for_verdict') -%}
{%- set cut_ratio = var('recommendation_cut_ratio') -%}
{%- set scale_ratio = var('recommendation_scale_ratio') -%}

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

campaigns as (
    select * from {{ ref('dim_campaigns') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

monthly_kpis as (
    select
        campaign_key,
        cast({{ dbt.date_trunc('month', 'date') }} as date) as month,
        -- ties on sessions go to the later channel name, so every engine picks the same one
        {{ last_by('channel', '(sessions, channel)') }} as main_channel,
        {{ exact_sum('spend') }} as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(sessions) as sessions,
        sum(engaged_sessions) as engaged_sessions,
        sum(converting_sessions) as converting_sessions,
        sum(macro_conversions) as macro_conversions,
        sum(micro_conversions) as micro_conversions,
        sum(leads) as leads,
        {{ exact_sum('goal_score') }} as goal_score,
        sum(orders) as orders,
        {{ exact_sum('revenue') }} as revenue,
        {{ exact_sum('gross_margin') }} as gross_margin
    from kpi_daily
    group by 1, 2
),

monthly_visitors as (
    select
        campaign_key,
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as month,
        count(distinct visitor_id) as visitors
    from sessions
    group by 1, 2
),

monthly_attribution as (
    select
        campaign_key,
        cast({{ dbt.date_trunc('month', 'kpi_date') }} as date) as month,
        {%- for model in attribution_models() %}
            {{ exact_sum("case when model = '" ~ model ~ "' then credit else 0 end") }}
                as attributed_conversions_{{ model }},
        {%- endfor %}
        {%- set when_configured = "case when model = '" ~ var("attribution_model") ~ "' then " %}
        {{ exact_sum(when_configured ~ 'credit else 0 end') }} as attributed_conversions,
        {{ exact_sum(when_configured ~ 'attributed_revenue else 0 end') }} as attributed_revenue,
        {{ exact_sum(when_configured ~ 'attributed_gross_margin else 0 end') }} as attributed_gross_margin,
        -- margin a conversion brings: gross margin of orders + goal value of conversions without revenue
        {{ exact_sum(when_configured ~ 'attributed_gross_margin + attributed_value - attributed_revenue else 0 end') }}
            as attributed_margin_value
    from attributed
    group by 1, 2
),

site_break_even as (
    select
        cast({{ dbt.date_trunc('month', 'kpi_date') }} as date) as month,
        {{ safe_divide(exact_sum('attributed_gross_margin + attributed_value - attributed_revenue'),
                       exact_sum('credit')) }} as site_break_even_cpa
    from attributed
    where model = '{{ var("attribution_model") }}'
    group by 1
),

campaign_months as (
    select
        campaign_key,
        month
    from monthly_kpis
    union
    select
        campaign_key,
        month
    from monthly_attribution
),

combined as (
    select
        campaign_months.campaign_key,
        campaign_months.month,
        coalesce(campaigns.channel, monthly_kpis.main_channel) as channel,
        campaigns.platform,
        campaigns.campaign_name,
        coalesce(campaigns.is_paid, false) as is_paid,
        coalesce(monthly_kpis.spend, 0) as spend,
        coalesce(monthly_kpis.impressions, 0) as impressions,
        coalesce(monthly_kpis.clicks, 0) as clicks,
        coalesce(monthly_kpis.sessions, 0) as sessions,
        coalesce(monthly_visitors.visitors, 0) as visitors,
        coalesce(monthly_kpis.engaged_sessions, 0) as engaged_sessions,
        coalesce(monthly_kpis.converting_sessions, 0) as converting_sessions,
        coalesce(monthly_kpis.macro_conversions, 0) as macro_conversions,
        coalesce(monthly_kpis.micro_conversions, 0) as micro_conversions,
        coalesce(monthly_kpis.leads, 0) as leads,
        coalesce(monthly_kpis.goal_score, 0) as goal_score,
        coalesce(monthly_kpis.orders, 0) as orders,
        coalesce(monthly_kpis.revenue, 0) as revenue,
        coalesce(monthly_kpis.gross_margin, 0) as gross_margin,
        {%- for model in attribution_models() %}
            coalesce(monthly_attribution.attributed_conversions_{{ model }}, 0) as attributed_conversions_{{ model }},
        {%- endfor %}
        coalesce(monthly_attribution.attributed_conversions, 0) as attributed_conversions,
        coalesce(monthly_attribution.attributed_revenue, 0) as attributed_revenue,
        coalesce(monthly_attribution.attributed_gross_margin, 0) as attributed_gross_margin,
        coalesce(
            {{ safe_divide('monthly_attribution.attributed_margin_value', 'monthly_attribution.attributed_conversions') }},
            site_break_even.site_break_even_cpa
        ) as break_even_cpa
    from campaign_months
    left join monthly_kpis
        on
            campaign_months.campaign_key = monthly_kpis.campaign_key
            and campaign_months.month = monthly_kpis.month
    left join monthly_visitors
        on
            campaign_months.campaign_key = monthly_visitors.campaign_key
            and campaign_months.month = monthly_visitors.month
    left join monthly_attribution
        on
            campaign_months.campaign_key = monthly_attribution.campaign_key
            and campaign_months.month = monthly_attribution.month
    left join campaigns
        on campaign_months.campaign_key = campaigns.campaign_key
    left join site_break_even
        on campaign_months.month = site_break_even.month
),

-- target CPA: campaign scope first, then channel, then all; a month-specific row before an every-month row
target_candidates as (
    select
        combined.campaign_key,
        combined.month,
        targets.target,
        row_number() over (
            partition by combined.campaign_key, combined.month
            order by
                case targets.scope when 'campaign' then 1 when 'channel' then 2 else 3 end,
                case when targets.month is null or targets.month = '' then 1 else 0 end
        ) as priority
    from combined
    inner join targets
        on
            targets.kpi = 'cpa'
            and targets.target is not null
            and (
                (targets.scope = 'campaign' and combined.campaign_key = targets.scope_value)
                or (targets.scope = 'channel' and combined.channel = targets.scope_value)
                or targets.scope = 'all'
            )
            and (
                targets.month is null or targets.month = ''
                or targets.month = {{ year_month_text('combined.month') }}
            )
),

with_ratios as (
    select
        combined.*,
        target_candidates.target as target_cpa,
        {{ safe_divide('combined.spend', 'combined.attributed_conversions') }} as attributed_cpa,
        {{ kpi_ratio('cpa', spend='combined.spend', macro_conversions='combined.macro_conversions') }} as cpa,
        least(
            {%- for model in attribution_models() %}
            combined.attributed_conversions_{{ model }}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as attributed_conversions_min,
        greatest(
            {%- for model in attribution_models() %}
            combined.attributed_conversions_{{ model }}{{ ',' if not loop.last }}
            {%- endfor %}
        ) as attributed_conversions_max,
        sum(combined.spend) over (partition by combined.campaign_key) as flight_spend,
        sum(combined.attributed_gross_margin) over (partition by combined.campaign_key) as flight_attributed_gross_margin
    from combined
    left join target_candidates
        on
            combined.campaign_key = target_candidates.campaign_key
            and combined.month = target_candidates.month
            and target_candidates.priority = 1
),

verdicts as (
    select
        *,
        case
            when
                attributed_conversions < {{ min_conversions }}
                and break_even_cpa > 0
                and spend > {{ cut_ratio }} * break_even_cpa * {{ min_conversions }}
                then 'cut'
            when attributed_conversions < {{ min_conversions }} then 'not enough data'
            when spend = 0 then 'keep'
            when break_even_cpa is null or break_even_cpa <= 0 then 'not enough data'
            when attributed_cpa > {{ cut_ratio }} * break_even_cpa then 'cut'
            when attributed_cpa > break_even_cpa then 'fix'
            when attributed_cpa > target_cpa then 'fix'
            when attributed_cpa <= {{ scale_ratio }} * least(break_even_cpa, coalesce(target_cpa, break_even_cpa))
                then 'scale'
            else 'keep'
        end as recommendation
    from with_ratios
),

explained as (
    select
        *,
        case
            when recommendation = 'cut' and attributed_conversions < {{ min_conversions }}
                then printf(
                    'Spent %.0f {{ currency }} for %.1f conversions: even %d conversions would cost %.0f {{ currency }}'
                    || ' each, %.1f× break-even %.0f {{ currency }}',
                    spend, attributed_conversions, {{ min_conversions }}, spend / {{ min_conversions }},
                    spend / {{ min_conversions }} / break_even_cpa, break_even_cpa
                )
            when recommendation = 'not enough data' and attributed_conversions < {{ min_conversions }}
                then printf(
                    '%.1f conversions is below the minimum of %d for a verdict',
                    attributed_conversions, {{ min_conversions }}
                )
            when recommendation = 'keep' and spend = 0
                then printf('No media spend: %.1f conversions at no media cost', attributed_conversions)
            when recommendation = 'not enough data'
                then printf(
                    'No margin or value known to compute a break-even CPA over %.1f conversions',
                    attributed_conversions
                )
            when recommendation in ('cut', 'fix') and attributed_cpa > break_even_cpa
                then printf(
                    'CPA %.0f {{ currency }} is %.1f× break-even %.0f {{ currency }} over %.0f conversions',
                    attributed_cpa, attributed_cpa / break_even_cpa, break_even_cpa, attributed_conversions
                )
            when recommendation = 'fix'
                then printf(
                    'CPA %.0f {{ currency }} is above target %.0f {{ currency }} (break-even %.0f {{ currency }})'
                    || ' over %.0f conversions',
                    attributed_cpa, target_cpa, break_even_cpa, attributed_conversions
                )
            when recommendation = 'scale'
                then printf(
                    'CPA %.0f {{ currency }} is %.1f× break-even %.0f {{ currency }}%s over %.0f conversions:'
                    || ' room to spend more',
                    attributed_cpa, attributed_cpa / break_even_cpa, break_even_cpa,
                    case when target_cpa is null then
                        '' else printf(
                        ' and under target %.0f {{ currency }}',
                        target_cpa
                    ) end,
                    attributed_conversions
                )
            else printf(
                'CPA %.0f {{ currency }} is within break-even %.0f {{ currency }}%s over %.0f conversions',
                attributed_cpa, break_even_cpa,
                case when target_cpa is null then '' else printf(' and target %.0f {{ currency }}', target_cpa) end,
                attributed_conversions
            )
        end as recommendation_reason
    from verdicts
),

final as (
    select
        cast(campaign_key as string) as campaign_key,
        cast(month as date) as month,
        cast(channel as string) as channel,
        cast(platform as string) as platform,
        cast(campaign_name as string) as campaign_name,
        cast(is_paid as boolean) as is_paid,
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
        cast(macro_conversions as bigint) as macro_conversions,
        cast(micro_conversions as bigint) as micro_conversions,
        cast(leads as bigint) as leads,
        cast({{ kpi_ratio('conversion_rate') }} as double) as conversion_rate,
        cast(goal_score as double) as goal_score,
        cast(orders as bigint) as orders,
        cast(revenue as double) as revenue,
        cast(gross_margin as double) as gross_margin,
        cast({{ kpi_ratio('aov') }} as double) as aov,
        cast({{ safe_divide('gross_margin', 'revenue') }} as double) as margin_rate,
        cast(cpa as double) as cpa,
        cast({{ kpi_ratio('cpl') }} as double) as cpl,
        cast({{ kpi_ratio('roas') }} as double) as roas,
        cast({{ kpi_ratio('roi') }} as double) as roi,
        cast('{{ var("attribution_model") }}' as string) as attribution_model,
        cast(attributed_conversions as double) as attributed_conversions,
        cast(attributed_revenue as double) as attributed_revenue,
        cast(attributed_gross_margin as double) as attributed_gross_margin,
        cast(attributed_cpa as double) as attributed_cpa,
        cast({{ kpi_ratio('roas', revenue='attributed_revenue') }} as double) as attributed_roas,
        cast({{ kpi_ratio('roi', gross_margin='attributed_gross_margin') }} as double) as attributed_roi,
        {%- for model in attribution_models() %}
            cast(attributed_conversions_{{ model }} as double) as attributed_conversions_{{ model }},
        {%- endfor %}
        cast(attributed_conversions_min as double) as attributed_conversions_min,
        cast(attributed_conversions_max as double) as attributed_conversions_max,
        cast(
            {{ safe_divide('attributed_conversions_max - attributed_conversions_min', 'attributed_conversions_max') }}
            as double
        ) as attribution_spread,
        cast(target_cpa as double) as target_cpa,
        cast(break_even_cpa as double) as break_even_cpa,
        cast(flight_spend as double) as flight_spend,
        cast(flight_attributed_gross_margin as double) as flight_attributed_gross_margin,
        cast({{ kpi_ratio('roi', gross_margin='flight_attributed_gross_margin', spend='flight_spend') }} as double) as prr,
        cast(recommendation as string) as recommendation,
        cast(recommendation_reason as string) as recommendation_reason
    from explained
)

select * from final
