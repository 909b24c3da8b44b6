{#- dbt's documented hook for a test's `where` config, extended with one placeholder:

    where: __newest_batch__   ->   _batch_at = (select max(_batch_at) from <the tested relation>)

    The event-level tables (millions of rows) are rewritten a batch at a time by incremental runs, every row of a
    batch stamped with the run's start in _batch_at. Their key tests check the newest batch: after a full refresh
    that is every row, after a daily run the rows that run wrote. delete+insert on the key has removed any older
    row with a key of the batch, so a duplicate can only sit inside the batch.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where | replace(
            '__newest_batch__', '_batch_at = (select max(_batch_at) from ' ~ relation ~ ')'
        ) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
