{#- The ratio KPIs of MARTS.md, defined once. Every mart that reports a ratio KPI calls this with its own
    column names where they differ (e.g. the scorecard's attributed revenue for ROAS), so a formula can only
    change here. Zero or NULL denominators give NULL (safe_divide). -#}
{% macro kpi_ratio(
    kpi,
    spend='spend',
    clicks='clicks',
    impressions='impressions',
    sessions='sessions',
    engaged_sessions='engaged_sessions',
    converting_sessions='converting_sessions',
    micro_converting_sessions='micro_converting_sessions',
    revenue='revenue',
    orders='orders',
    macro_conversions='macro_conversions',
    leads='leads',
    new_customers='new_customers',
    gross_margin='gross_margin',
    won_leads='won_leads'
) -%}
    {%- if kpi == 'ctr' -%} {{ safe_divide(clicks, impressions) }}
    {%- elif kpi == 'cpc' -%} {{ safe_divide(spend, clicks) }}
    {%- elif kpi == 'cpm' -%} {{ safe_divide('1000.0 * ' ~ spend, impressions) }}
    {%- elif kpi == 'engagement_rate' -%} {{ safe_divide(engaged_sessions, sessions) }}
    {%- elif kpi == 'conversion_rate' -%} {{ safe_divide(converting_sessions, sessions) }}
    {%- elif kpi == 'micro_conversion_rate' -%} {{ safe_divide(micro_converting_sessions, sessions) }}
    {%- elif kpi == 'aov' -%} {{ safe_divide(revenue, orders) }}
    {%- elif kpi == 'cpa' -%} {{ safe_divide(spend, macro_conversions) }}
    {%- elif kpi == 'cpl' -%} {{ safe_divide(spend, leads) }}
    {%- elif kpi == 'cac' -%} {{ safe_divide(spend, new_customers) }}
    {%- elif kpi == 'roas' -%} {{ safe_divide(revenue, spend) }}
    {%- elif kpi == 'roi' -%} {{ safe_divide(gross_margin ~ ' - ' ~ spend, spend) }}
    {%- elif kpi == 'close_rate' -%} {{ safe_divide(won_leads, leads) }}
    {%- else -%} {{ exceptions.raise_compiler_error("kpi_ratio: no formula for KPI '" ~ kpi ~ "'") }}
    {%- endif -%}
{%- endmacro %}
