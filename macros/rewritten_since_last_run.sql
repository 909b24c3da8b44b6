{#- On an incremental run of a session-keyed model: the upstream rows stamped with a newer _batch_at than any row
    of this model, i.e. the sessions int_events_sessionized rewrote since this model last ran. -#}
{% macro rewritten_since_last_run(batch_column='_batch_at') -%}
    {{ batch_column }} > (select coalesce(max(done._batch_at), cast('1900-01-01' as timestamp)) from {{ this }} as done)
{%- endmacro %}
