{#- Traffic source and medium of an untagged visit from its referrer host (already without www.):
    search engines -> (engine, organic), social sites -> (site, social), video sites -> (site, video),
    anything else -> (host, referral). Hosts are normalised so google.com, google.de and
    www.google.co.uk are all 'google'. -#}

{% macro referrer_source(host) -%}
    case
        when {{ host }} is null then null
        when {{ regex_matches(host, "'(^|\\.)google\\.[a-z.]+$'") }} then 'google'
        when {{ regex_matches(host, "'(^|\\.)bing\\.com$'") }} then 'bing'
        when {{ regex_matches(host, "'(^|\\.)duckduckgo\\.com$'") }} then 'duckduckgo'
        when {{ regex_matches(host, "'(^|\\.)yahoo\\.[a-z.]+$'") }} then 'yahoo'
        when {{ regex_matches(host, "'(^|\\.)(baidu|yandex|ecosia|naver|seznam)\\.[a-z.]+$'") }}
            then regexp_extract({{ host }}, '(baidu|yandex|ecosia|naver|seznam)', 1)
        when {{ regex_matches(host, "'(^|\\.)(facebook\\.com|fb\\.com|fb\\.me)$'") }} then 'facebook'
        when {{ regex_matches(host, "'(^|\\.)instagram\\.com$'") }} then 'instagram'
        when {{ regex_matches(host, "'(^|\\.)(t\\.co|twitter\\.com|x\\.com)$'") }} then 'twitter'
        when {{ regex_matches(host, "'(^|\\.)(linkedin\\.com|lnkd\\.in)$'") }} then 'linkedin'
        when {{ regex_matches(host, "'(^|\\.)tiktok\\.com$'") }} then 'tiktok'
        when {{ regex_matches(host, "'(^|\\.)(pinterest\\.[a-z.]+|pin\\.it)$'") }} then 'pinterest'
        when {{ regex_matches(host, "'(^|\\.)reddit\\.com$'") }} then 'reddit'
        when {{ regex_matches(host, "'(^|\\.)(youtube\\.com|youtu\\.be)$'") }} then 'youtube'
        when {{ regex_matches(host, "'(^|\\.)vimeo\\.com$'") }} then 'vimeo'
        else {{ host }}
    end
{%- endmacro %}

{% macro referrer_medium(normalised_source) -%}
    case
        when {{ normalised_source }} is null then null
        when {{ normalised_source }} in ('google', 'bing', 'duckduckgo', 'yahoo', 'baidu', 'yandex', 'ecosia', 'naver', 'seznam')
            then 'organic'
        when {{ normalised_source }} in ('facebook', 'instagram', 'twitter', 'linkedin', 'tiktok', 'pinterest', 'reddit')
            then 'social'
        when {{ normalised_source }} in ('youtube', 'vimeo') then 'video'
        else 'referral'
    end
{%- endmacro %}
