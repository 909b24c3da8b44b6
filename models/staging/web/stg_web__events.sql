{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
    )
}}
-- One row per event: names cleaned, traffic fields resolved from the columns or the page_url query string,
-- referrer reduced to a host. Nothing joined. The full URLs stay in raw.events: nothing downstream reads them, and
-- they are the widest strings of an event.
--
-- A table, not a view: the URL and query-string regexes run once per event, when its load arrives, instead of in
-- every reader of a view. Incremental by load: a run appends the events of loads newer than the newest load already
-- staged (`northstar load` writes one load_id per file and never the same event_id twice, so appending is exact;
-- the unique test on event_id guards it).
with

source as (
    select * from {{ source('web', 'events') }}
    {% if is_incremental() %}
        where loaded_at > (select coalesce(max(staged.loaded_at), cast('1900-01-01' as timestamp)) from {{ this }} as staged)
    {% endif %}
),

renamed as (
    select
        event_id,
        occurred_at as occurred_at_utc,
        anonymous_id,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(session_id), '') as source_session_id,
        lower(trim(event_name)) as event_name,
        page_url,
        page_referrer,
        {{ url_host('page_url') }} as page_host,
        {{ url_path('page_url') }} as page_path,
        {{ url_host('page_referrer') }} as referrer_host_raw,
        -- Only about one page_url in eight has a query string: the parameter regexes below run on those alone.
        case when {{ dbt.position("'?'", 'page_url') }} > 0 then page_url end as query_url,
        utm_source as utm_source_column,
        utm_medium as utm_medium_column,
        utm_campaign as utm_campaign_column,
        utm_content as utm_content_column,
        utm_term as utm_term_column,
        click_id,
        device_category,
        country,
        order_id,
        revenue,
        currency,
        consent_analytics,
        loaded_at
    from source
),

final as (
    select
        event_id,
        occurred_at_utc,
        anonymous_id,
        user_id,
        source_session_id,
        event_name,
        page_path,
        lower(coalesce(nullif(trim(utm_source_column), ''), {{ url_query_param('query_url', 'utm_source') }}))
            as utm_source,
        lower(coalesce(nullif(trim(utm_medium_column), ''), {{ url_query_param('query_url', 'utm_medium') }}))
            as utm_medium,
        lower(coalesce(nullif(trim(utm_campaign_column), ''), {{ url_query_param('query_url', 'utm_campaign') }}))
            as utm_campaign,
        coalesce(nullif(trim(utm_content_column), ''), {{ url_query_param('query_url', 'utm_content') }})
            as utm_content,
        coalesce(nullif(trim(utm_term_column), ''), {{ url_query_param('query_url', 'utm_term') }}) as utm_term,
        -- The click id's type is the name of the query parameter that carries it.
        case
            when {{ url_has_param('query_url', 'gclid') }} then 'gclid'
            when {{ url_has_param('query_url', 'msclkid') }} then 'msclkid'
            when {{ url_has_param('query_url', 'fbclid') }} then 'fbclid'
            when {{ url_has_param('query_url', 'ttclid') }} then 'ttclid'
            when {{ url_has_param('query_url', 'li_fat_id') }} then 'li_fat_id'
            when {{ url_has_param('query_url', 'gbraid') }} or {{ url_has_param('query_url', 'wbraid') }} then 'gclid'
            when {{ url_has_param('query_url', 'dclid') }} then 'dclid'
            when nullif(trim(click_id), '') is not null then 'unknown'
        end as click_id_type,
        lower(nullif(trim(device_category), '')) as device_category,
        upper(nullif(trim(country), '')) as country,
        nullif(trim(order_id), '') as order_id,
        revenue,
        upper(nullif(trim(currency), '')) as currency,
        coalesce(consent_analytics, true) as is_consented,
        -- The site's own host (a page of this site) is not a traffic source.
        case when referrer_host_raw = page_host then null else referrer_host_raw end as referrer_host,
        loaded_at,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp) as _batch_at
    from renamed
)

select * from final
