"""What the synthetic business looks like: traffic sources, campaigns, pages.

Every tagged source follows the tagging conventions of the brief (the channel rules classify them);
paid and offline sources carry the ad platform, account and campaign their spend rows use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

HOST = "https://www.northstar-shop.example"

PRODUCTS = (
    "trail-runner-2",
    "city-sneaker",
    "merino-hoodie",
    "rain-shell-jacket",
    "daypack-22l",
    "insulated-bottle",
    "wool-socks-3pack",
    "running-tights",
    "fleece-midlayer",
    "hiking-boot-gtx",
    "packable-down-vest",
    "sun-cap",
    "travel-duffel-40l",
    "yoga-mat-pro",
    "headlamp-400",
    "camp-mug",
)
CATEGORIES = ("running", "hiking", "apparel", "bags", "accessories", "sale")
SOLUTIONS = ("corporate-gifting", "team-uniforms", "bulk-orders", "event-merch", "loyalty-rewards")
BLOG = (
    "how-to-choose-trail-shoes",
    "layering-guide",
    "10-day-hikes",
    "gift-ideas-for-teams",
    "care-for-merino",
    "sustainable-materials",
    "marathon-training-plan",
    "packing-list-weekend",
)
WHITEPAPERS = ("employee-gifting-roi", "merch-that-lasts", "b2b-procurement-checklist")
SEARCH_TERMS_SHOP = ("trail running shoes", "merino hoodie", "rain jacket men", "hiking boots", "daypack")
SEARCH_TERMS_B2B = ("corporate gifts", "custom team apparel", "bulk merch supplier", "employee gift ideas")
SEARCH_TERMS_BRAND = ("northstar shop", "northstar outdoor", "northstar-shop")
ORGANIC_SEARCH_REFERRERS = ("https://www.google.com/",) * 7 + ("https://www.bing.com/", "https://duckduckgo.com/")
ORGANIC_SOCIAL_REFERRERS = (
    "https://www.facebook.com/",
    "https://t.co/",
    "https://www.linkedin.com/",
    "https://www.instagram.com/",
    "https://l.facebook.com/",
)
REFERRAL_REFERRERS = (
    "https://www.outdoor-gear-review.example/best-trail-shoes-2026",
    "https://news.ycombinator.com/item?id=4100231",
    "https://www.reddit.com/r/ultralight/comments/abc123/",
    "https://blog.hikingclub.example/gear-list",
    "https://www.procurement-weekly.example/top-suppliers",
)


@dataclass(frozen=True)
class Source:
    """A way sessions arrive. Paid/offline sources map to one spend campaign."""

    key: str
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    referrers: tuple[str, ...] = ()
    click_param: str | None = None  # gclid, msclkid, fbclid, li_fat_id, ttclid
    terms: tuple[str, ...] = ()
    platform: str | None = None
    account_id: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    currency: str = "USD"
    timezone: str = "UTC"
    ads: tuple[tuple[str, str], ...] = ()  # (adset_name, ad_name)
    cpc: float = 0.0  # USD per click; offline: USD per visit driven
    ctr: float = 0.02
    intent: float = 1.0  # multiplier on shopping/lead propensity
    b2b: float = 0.15  # share of B2B personas among visitors this source acquires
    w_new: float = 0.0  # weight in the first-session mix
    w_ret: float = 0.0  # weight in the returning-session mix
    offline: bool = False
    vanity: str | None = None
    landing: tuple[str, ...] = field(default=("home",))

    @property
    def paid(self) -> bool:
        return self.platform is not None


GOOGLE = {"platform": "google_ads", "account_id": "123-456-7890", "timezone": "America/Los_Angeles"}
META = {"platform": "meta_ads", "account_id": "act_55500017", "currency": "EUR"}
TIKTOK = {"platform": "tiktok_ads", "account_id": "tt_7001"}

SOURCES: tuple[Source, ...] = (
    Source(
        "google_brand", "google", "cpc", "brand_search", ("https://www.google.com/",), "gclid", SEARCH_TERMS_BRAND,
        campaign_id="11001", campaign_name="Brand Search", ads=(("brand_exact", "rsa_brand_1"),),
        cpc=0.35, ctr=0.045, intent=1.5, w_new=5, w_ret=9, landing=("home",), **GOOGLE,
    ),
    Source(
        "google_shop", "google", "cpc", "generic_shop", ("https://www.google.com/",), "gclid", SEARCH_TERMS_SHOP,
        campaign_id="11002", campaign_name="Generic Shop Search",
        ads=(("shoes", "rsa_shoes_a"), ("shoes", "rsa_shoes_b"), ("apparel", "rsa_apparel")),
        cpc=0.7, ctr=0.03, intent=1.2, w_new=11, w_ret=5, landing=("product", "category"), **GOOGLE,
    ),
    Source(
        "google_b2b", "google", "cpc", "b2b_solutions", ("https://www.google.com/",), "gclid", SEARCH_TERMS_B2B,
        campaign_id="11003", campaign_name="B2B Solutions Search", ads=(("gifting", "rsa_gifting"),),
        cpc=2.2, ctr=0.025, intent=1.2, b2b=0.8, w_new=3, w_ret=1, landing=("solution", "pricing"), **GOOGLE,
    ),
    Source(
        "google_display", "google", "display", "remarketing_display", ("https://www.weather-news.example/",),
        campaign_id="11004", campaign_name="Display Remarketing", ads=(("site_visitors_30d", "banner_300x250"),),
        cpc=0.25, ctr=0.006, intent=0.9, w_new=2, w_ret=5, landing=("product", "home"), **GOOGLE,
    ),
    Source(
        "bing_shop", "bing", "cpc", "bing_generic_shop", ("https://www.bing.com/",), "msclkid", SEARCH_TERMS_SHOP,
        platform="microsoft_ads", account_id="ms_880120", campaign_id="bx-201", campaign_name="Bing Generic Shop",
        ads=(("shop", "eta_shop"),), cpc=0.6, ctr=0.035, intent=1.2, w_new=3, w_ret=2, landing=("product", "category"),
    ),
    Source(
        "fb_prospecting", "facebook", "paid_social", "fb_prospecting", ("https://m.facebook.com/",), "fbclid",
        campaign_id="23850001", campaign_name="FB Prospecting", ads=(("lookalike_1pct", "video_15s"),
        ("lookalike_1pct", "carousel_bestsellers"), ("interests_outdoor", "static_sale")),
        cpc=0.55, ctr=0.012, intent=0.9, w_new=8, w_ret=2, landing=("product", "category", "home"), **META,
    ),
    Source(
        "ig_retargeting", "instagram", "paid_social", "ig_retargeting", ("https://www.instagram.com/",), "fbclid",
        campaign_id="23850002", campaign_name="IG Retargeting", ads=(("cart_abandoners", "story_reminder"),),
        cpc=0.45, ctr=0.015, intent=1.3, w_new=1, w_ret=4, landing=("product", "cart"), **META,
    ),
    Source(
        "linkedin_abm", "linkedin", "paid_social", "li_abm_demo", ("https://www.linkedin.com/",), "li_fat_id",
        platform="linkedin_ads", account_id="li_501234", campaign_id="6601", campaign_name="LinkedIn ABM Demo",
        ads=(("hr_leaders", "sponsored_demo"), ("procurement", "doc_ad_checklist")),
        cpc=3.0, ctr=0.008, intent=1.3, b2b=0.9, w_new=2, w_ret=1, landing=("solution", "whitepaper"),
    ),
    Source(
        "tiktok_awareness", "tiktok", "paid_social", "tt_awareness", ("https://www.tiktok.com/",), "ttclid",
        campaign_id="1790001", campaign_name="TikTok Awareness", ads=(("gen_z_outdoor", "ugc_unboxing"),),
        cpc=0.3, ctr=0.01, intent=0.8, w_new=3, w_ret=1, landing=("product", "home"), **TIKTOK,
    ),
    # The overspend incident: switched on mid-run, spend ramps while it converts poorly.
    Source(
        "tiktok_push", "tiktok", "paid_social", "tt_growth_push", ("https://www.tiktok.com/",), "ttclid",
        campaign_id="1790002", campaign_name="TikTok Growth Push", ads=(("broad_18_34", "spark_ad_trend"),
        ("broad_18_34", "spark_ad_creator")), cpc=2.6, ctr=0.011, intent=0.8, b2b=0.0, landing=("product", "home"),
        **TIKTOK,
    ),
    Source(
        "tv", "tv", "offline", "tv_winter_2026", campaign_id="tv-2026-q1", campaign_name="TV Winter Flight",
        platform="tv", account_id="mediaplus_tv", ads=(("national", "spot_30s"),), cpc=0.9, intent=1.0,
        w_new=4, w_ret=1, offline=True, vanity="northstar-shop.example/tv",
    ),
    Source(
        "radio", "radio", "offline", "radio_morning_show", campaign_id="radio-2026-q1",
        campaign_name="Radio Morning Show", platform="radio", account_id="mediaplus_radio",
        ads=(("drive_time", "spot_20s"),), cpc=0.6, intent=0.9, w_new=1.5, w_ret=0.5, offline=True,
        vanity="northstar-shop.example/radio",
    ),
    Source(
        "print", "print", "offline", "print_outdoor_mag", campaign_id="print-2026-q1",
        campaign_name="Outdoor Magazine Ads", platform="print", account_id="mediaplus_print",
        ads=(("outdoor_monthly", "full_page"),), cpc=0.8, intent=1.0, b2b=0.2, w_new=1, w_ret=0.3, offline=True,
        vanity="northstar-shop.example/print",
    ),
    Source("email", "newsletter", "email", "weekly_newsletter", intent=1.4, w_new=0.5, w_ret=14,
           landing=("product", "blog", "category")),
    Source("affiliate_coupons", "couponfollow", "affiliate", "affiliate_program",
           ("https://www.couponfollow.example/northstar",), intent=1.5, w_new=2, w_ret=2, landing=("product", "cart")),
    Source("affiliate_review", "gearreviewer", "affiliate", "affiliate_program",
           ("https://www.gearreviewer.example/trail-shoes",), intent=1.2, w_new=1.5, w_ret=1, landing=("product",)),
    Source("organic_search", referrers=ORGANIC_SEARCH_REFERRERS, intent=1.0, b2b=0.2, w_new=22, w_ret=16,
           landing=("blog", "product", "home", "category", "solution")),
    Source("organic_social", referrers=ORGANIC_SOCIAL_REFERRERS, intent=0.7, w_new=6, w_ret=3,
           landing=("blog", "product", "home")),
    Source("referral", referrers=REFERRAL_REFERRERS, intent=1.1, b2b=0.3, w_new=5, w_ret=3,
           landing=("product", "blog", "solution")),
    Source("direct", intent=1.2, b2b=0.15, w_new=11, w_ret=30, landing=("home", "product", "cart")),
)  # fmt: skip

SOURCE_INDEX = {s.key: i for i, s in enumerate(SOURCES)}
