{#- URL pieces for page_url / page_referrer. All return NULL (not '') when the piece is missing. -#}

{#- Host, lower-cased, without a leading www. -#}
{% macro url_host(url) -%}
    {{ return(adapter.dispatch('url_host', 'northstar')(url)) }}
{%- endmacro %}

{% macro default__url_host(url) -%}
    nullif(regexp_replace(lower(regexp_extract({{ url }}, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)', 1)), '^www[0-9]*\.', ''), '')
{%- endmacro %}

{#- Path without query string or fragment; '/' for a bare host. Works for relative URLs too. -#}
{% macro url_path(url) -%}
    {{ return(adapter.dispatch('url_path', 'northstar')(url)) }}
{%- endmacro %}

{% macro default__url_path(url) -%}
    case
        when {{ url }} is null then null
        else coalesce(nullif(regexp_extract({{ url }}, '^(?:[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*)?([^?#]*)', 1), ''), '/')
    end
{%- endmacro %}

{#- Value of one query-string parameter, URL-decoded; NULL when absent or empty. -#}
{% macro url_query_param(url, name) -%}
    {{ return(adapter.dispatch('url_query_param', 'northstar')(url, name)) }}
{%- endmacro %}

{% macro default__url_query_param(url, name) -%}
    nullif(regexp_extract({{ url }}, '[?&]{{ name }}=([^&#]*)', 1), '')
{%- endmacro %}

{% macro duckdb__url_query_param(url, name) -%}
    nullif(url_decode(replace(regexp_extract({{ url }}, '[?&]{{ name }}=([^&#]*)', 1), '+', ' ')), '')
{%- endmacro %}

{#- True when the query string carries the parameter at all. -#}
{% macro url_has_param(url, name) -%}
    {{ regex_matches(url, "'[?&]" ~ name ~ "='") }}
{%- endmacro %}

{#- Spark's url_decode fails on a malformed %-escape; try_url_decode gives NULL there, and the raw value is kept. -#}
{% macro spark__url_query_param(url, name) -%}
    {%- set value = "replace(regexp_extract(" ~ url ~ ", '[?&]" ~ name ~ "=([^&#]*)', 1), '+', ' ')" -%}
    nullif(coalesce(try_url_decode({{ value }}), {{ value }}), '')
{%- endmacro %}
