-- One row per event: names cleaned, traffic fields resolved from the columns or the page_url query string,
-- referrer reduced to a host. Nothing joined.
with

source as (
    select * from {{ source('web', 'events') }}
),

deduplicated as (
    -- The loader drops exact duplicates; an event_id repeated across loads is kept once (first load wins).
    select *
    from source
    qualify row_number() over (partition by event_id order by loaded_at, load_id, row_number) = 1
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
        lower(coalesce(nullif(trim(utm_source), ''), {{ url_query_param('page_url', 'utm_source') }})) as utm_source,
        lower(coalesce(nullif(trim(utm_medium), ''), {{ url_query_param('page_url', 'utm_medium') }})) as utm_medium,
        lower(coalesce(nullif(trim(utm_campaign), ''), {{ url_query_param('page_url', 'utm_campaign') }}))
            as utm_campaign,
        coalesce(nullif(trim(utm_content), ''), {{ url_query_param('page_url', 'utm_content') }}) as utm_content,
        coalesce(nullif(trim(utm_term), ''), {{ url_query_param('page_url', 'utm_term') }}) as utm_term,
        -- The click id's type is the name of the query parameter that carries it.
        case
            when {{ url_has_param('page_url', 'gclid') }} then 'gclid'
            when {{ url_has_param('page_url', 'msclkid') }} then 'msclkid'
            when {{ url_has_param('page_url', 'fbclid') }} then 'fbclid'
            when {{ url_has_param('page_url', 'ttclid') }} then 'ttclid'
            when {{ url_has_param('page_url', 'li_fat_id') }} then 'li_fat_id'
            when {{ url_has_param('page_url', 'gbraid') }} or {{ url_has_param('page_url', 'wbraid') }} then 'gclid'
            when {{ url_has_param('page_url', 'dclid') }} then 'dclid'
            when nullif(trim(click_id), '') is not null then 'unknown'
        end as click_id_type,
        lower(nullif(trim(device_category), '')) as device_category,
        upper(nullif(trim(country), '')) as country,
        nullif(trim(order_id), '') as order_id,
        revenue,
        upper(nullif(trim(currency), '')) as currency,
        coalesce(consent_analytics, true) as is_consented
    from deduplicated
),

final as (
    select
        event_id,
        occurred_at_utc,
        anonymous_id,
        user_id,
        source_session_id,
        event_name,
        page_url,
        page_referrer,
        page_host,
        page_path,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_id_type,
        device_category,
        country,
        order_id,
        revenue,
        currency,
        is_consented,
        -- The site's own host (a page of this site) is not a traffic source.
        case when referrer_host_raw = page_host then null else referrer_host_raw end as referrer_host
    from renamed
)

select * from final
