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
    -- A group-by, not a window sorting every identified event: the user_id of the device's latest such event.
    select
        anonymous_id,
        {{ last_by('user_id', '(occurred_at_utc, event_id)') }} as visitor_id,
        max(occurred_at_utc) as last_identified_at_utc
    from identified
    group by anonymous_id
)

select * from final
