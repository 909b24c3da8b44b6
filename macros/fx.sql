{#- Currency conversion to var('reporting_currency') with the latest rate on or before the day.
    Use fx_join() in the FROM clause and to_reporting_currency() in the SELECT list:
        from orders
        {{ fx_join('orders.currency', 'orders.order_date', 'fx') }}
        select {{ to_reporting_currency('orders.revenue', 'fx') }} as revenue
    A missing currency means the reporting currency; an unknown currency gives NULL (tested in the marts). -#}
{% macro fx_join(currency_column, date_column, alias='fx') -%}
    left join {{ ref('int_fx_rates_ranged') }} as {{ alias }}
        on {{ alias }}.currency = coalesce({{ currency_column }}, upper('{{ var("reporting_currency") }}'))
        and {{ date_column }} >= {{ alias }}.valid_from
        and {{ date_column }} < {{ alias }}.valid_to
{%- endmacro %}

{% macro to_reporting_currency(amount_column, alias='fx') -%}
    (cast({{ amount_column }} as decimal(18, 4)) * cast({{ alias }}.rate_to_reporting as decimal(18, 8)))
{%- endmacro %}
