{#- Text helpers of fct_kpi_alerts' messages. printf is alert_printf (macros/cross_db_alerts.sql): DuckDB's printf,
    C's formatting on Spark too. -#}

{#- A relative change as a person writes it: "−84 %", "+38 %" (a true minus sign, a space before %). -#}
{% macro alert_signed_pct(change) -%}
    (case when ({{ change }}) < 0 then '−' else '+' end || {{ alert_printf('%.0f %%', ['100 * abs(' ~ change ~ ')']) }})
{%- endmacro %}

{#- A KPI's value for a message by its type: rates in % ("3.1 %"), ratios with one decimal, counts whole. -#}
{% macro alert_value(kpi_type, value) -%}
    (case {{ kpi_type }}
        when 'rate' then {{ alert_printf('%.1f %%', ['100 * (' ~ value ~ ')']) }}
        when 'ratio' then {{ alert_printf('%.1f', [value]) }}
        else {{ alert_printf('%.0f', [value]) }}
    end)
{%- endmacro %}

{#- " (q = 0.004, 4 whole-business tests that day)": the adjusted p and the false-discovery family it was adjusted
    in (fct_kpi_alerts: the whole business, scope all, and the channels are a family each per day). -#}
{% macro alert_family_note(relation) -%}
    {{ alert_printf(' (q = %.2g, %d %s test%s that day)', [
        relation ~ '.q_value',
        relation ~ '.tests_on_day',
        "case when " ~ relation ~ ".scope = 'all' then 'whole-business' else 'channel' end",
        "case when " ~ relation ~ ".tests_on_day = 1 then '' else 's' end",
    ]) }}
{%- endmacro %}
