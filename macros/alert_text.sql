{#- Text helpers of fct_kpi_alerts' messages. -#}

{#- A relative change as a person writes it: "−84 %", "+38 %" (a true minus sign, a space before %). -#}
{% macro alert_signed_pct(change) -%}
    (case when ({{ change }}) < 0 then '−' else '+' end || printf('%.0f %%', 100 * abs({{ change }})))
{%- endmacro %}

{#- A KPI's value for a message by its type: rates in % ("3.1 %"), ratios with one decimal, counts whole. -#}
{% macro alert_value(kpi_type, value) -%}
    (case {{ kpi_type }}
        when 'rate' then printf('%.1f %%', 100 * ({{ value }}))
        when 'ratio' then printf('%.1f', {{ value }})
        else printf('%.0f', {{ value }})
    end)
{%- endmacro %}
