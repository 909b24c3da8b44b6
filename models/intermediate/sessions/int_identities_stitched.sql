-- Identity stitching: one row per device (anonymous_id) seen with a user_id; visitor_id is the user_id the
-- device was last seen with. Devices never seen with a user_id are their own visitor (not listed here).
-- Only consented sessions take part: a session without consent keeps no identifiers.
with

events as (
    select * from {{ ref('int_events_sessionized') }}
),

identified as (
    select
        anonymous_id,
        user_id,
        occurred_at_utc,
        event_id
    from events
    where
        anonymous_id is not null
        and user_id is not null
),

final as (
    select
        anonymous_id,
        user_id as visitor_id,
        occurred_at_utc as last_identified_at_utc
    from identified
    qualify row_number() over (partition by anonymous_id order by occurred_at_utc desc, event_id desc) = 1
)

select * from final
