{#- Fallback channel of an ad platform, used when a campaign's utm tags are missing or match no specific rule. -#}
{% macro platform_channel(platform) -%}
    case
        when {{ platform }} in ('google_ads', 'microsoft_ads', 'bing_ads') then 'Paid Search'
        when {{ platform }} in ('meta_ads', 'facebook_ads', 'linkedin_ads', 'tiktok_ads', 'twitter_ads', 'pinterest_ads',
                                'snapchat_ads') then 'Paid Social'
        when {{ platform }} in ('youtube_ads') then 'Paid Video'
        when {{ platform }} in ('tv', 'radio', 'print', 'ooh') then 'Offline'
        else 'Unassigned'
    end
{%- endmacro %}
