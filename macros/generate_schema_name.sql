{#- Use the configured schema as is (marts, staging, ...), not dbt's <target>_<schema>,
    so BI users find marts.fct_kpi_daily in every environment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
