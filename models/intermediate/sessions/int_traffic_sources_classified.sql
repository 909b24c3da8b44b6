-- Channel of every distinct traffic source seen (sessions and ad spend): the first rule of seeds/channel_rules
-- (lowest rule_order) whose non-empty regex conditions all match the lower-cased values ('' when missing).
-- Classifying distinct sources instead of every session keeps the regex work tiny.
with

sessions as (
    select * from {{ ref('int_sessions_aggregated') }}
),

spend as (
    select * from {{ ref('stg_ads__ad_spend') }}
),

rules as (
    select * from {{ ref('channel_rules') }}
),

sources as (
    select distinct
        coalesce(lower(source), '') as source,
        coalesce(lower(medium), '') as medium,
        coalesce(lower(campaign), '') as campaign,
        coalesce(lower(referrer), '') as referrer,
        coalesce(lower(click_id_type), '') as click_id_type
    from sessions
    union
    -- Tagging alone (no referrer, no click id): how campaigns are classified.
    select distinct
        coalesce(lower(source), '') as source,
        coalesce(lower(medium), '') as medium,
        coalesce(lower(campaign), '') as campaign,
        '' as referrer,
        '' as click_id_type
    from sessions
    where is_tagged
    union
    select distinct
        coalesce(utm_source, '') as source,
        coalesce(utm_medium, '') as medium,
        coalesce(utm_campaign, '') as campaign,
        '' as referrer,
        '' as click_id_type
    from spend
),

matched as (
    select
        sources.source,
        sources.medium,
        sources.campaign,
        sources.referrer,
        sources.click_id_type,
        rules.rule_order,
        rules.channel,
        rules.is_paid
    from sources
    inner join rules
        on
            (coalesce(rules.source_regex, '') = '' or {{ regex_matches('sources.source', 'rules.source_regex') }})
            and (coalesce(rules.medium_regex, '') = '' or {{ regex_matches('sources.medium', 'rules.medium_regex') }})
            and (
                coalesce(rules.campaign_regex, '') = ''
                or {{ regex_matches('sources.campaign', 'rules.campaign_regex') }}
            )
            and (
                coalesce(rules.referrer_regex, '') = ''
                or {{ regex_matches('sources.referrer', 'rules.referrer_regex') }}
            )
            and (
                coalesce(rules.click_id_type_regex, '') = ''
                or {{ regex_matches('sources.click_id_type', 'rules.click_id_type_regex') }}
            )
),

final as (
    select
        source,
        medium,
        campaign,
        referrer,
        click_id_type,
        rule_order,
        channel,
        is_paid
    from matched
    qualify row_number() over (
        partition by source, medium, campaign, referrer, click_id_type order by rule_order
    ) = 1
)

select * from final
