"""The landing contract of DATA_CONTRACT.md as data: columns, types and rules per kind.

The loader turns these specs into SQL (casts and per-row checks); tests and docs read them too.
The raw tables in schema.py must have one column per spec (PII columns as `<name>_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Column types the loader knows how to validate and cast.
TEXT = "text"
TIMESTAMP = "timestamp"
DATE = "date"
DECIMAL = "decimal"
INTEGER = "integer"
BOOLEAN = "boolean"
JSON = "json"
CURRENCY = "currency"
ENUM = "enum"
PII = "pii"


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    required: bool = False
    non_negative: bool = False  # negative_value:<column>
    no_future: bool = False  # future_timestamp:<column> when more than 1 day after the load time
    values: tuple[str, ...] = ()  # allowed values for ENUM (compared lowercase)
    default: str | None = None  # used when the value is missing (before validation)
    upper: bool = False  # normalise TEXT to upper case (country)
    # TEXT that people or tools fill in (URLs, tags, user ids): an e-mail or IP found in it is masked like in
    # `properties` (an e-mail in a newsletter link's query string, an e-mail used as the user id)
    free_text: bool = False

    @property
    def raw_name(self) -> str:
        """The column in the raw table: PII is stored only as a salted hash."""
        return f"{self.name}_hash" if self.type == PII else self.name


EVENTS = (
    Column("event_id", required=True),
    Column("occurred_at", TIMESTAMP, required=True, no_future=True),
    Column("anonymous_id", required=True),
    Column("user_id", free_text=True),
    Column("session_id"),
    Column("event_name", required=True),
    Column("page_url", free_text=True),
    Column("page_referrer", free_text=True),
    Column("utm_source", free_text=True),
    Column("utm_medium", free_text=True),
    Column("utm_campaign", free_text=True),
    Column("utm_content", free_text=True),
    Column("utm_term", free_text=True),
    Column("click_id"),
    Column("device_category", ENUM, values=("desktop", "mobile", "tablet")),
    Column("country", upper=True),
    Column("order_id"),
    Column("revenue", DECIMAL),
    Column("currency", CURRENCY),
    Column("consent_analytics", BOOLEAN, default="true"),
    Column("email", PII),
    Column("ip", PII),
    Column("properties", JSON),
)

AD_SPEND = (
    Column("date", DATE, required=True),
    Column("platform", required=True),
    Column("account_id", required=True),
    Column("campaign_id", required=True),
    Column("campaign_name"),
    Column("adset_name"),
    Column("ad_name"),
    Column("utm_source", free_text=True),
    Column("utm_medium", free_text=True),
    Column("utm_campaign", free_text=True),
    Column("impressions", INTEGER, non_negative=True),
    Column("clicks", INTEGER, non_negative=True),
    Column("spend", DECIMAL, required=True, non_negative=True),
    Column("currency", CURRENCY, required=True),
    Column("platform_conversions", DECIMAL, non_negative=True),
    Column("platform_conversion_value", DECIMAL, non_negative=True),
    Column("account_timezone"),
)

ORDERS = (
    Column("order_id", required=True),
    Column("ordered_at", TIMESTAMP, required=True),
    Column("user_id", free_text=True),
    Column("status", ENUM, required=True, values=("completed", "refunded", "cancelled")),
    Column("revenue", DECIMAL, required=True),
    Column("cost_of_goods", DECIMAL),
    Column("currency", CURRENCY, required=True),
)

LEADS = (
    Column("lead_id", required=True),
    Column("changed_at", TIMESTAMP, required=True),
    Column("user_id", free_text=True),
    Column("stage", ENUM, required=True, values=("lead", "mql", "sql", "opportunity", "won", "lost")),
    Column("deal_value", DECIMAL),
    Column("currency", CURRENCY),
)

CONTRACT: dict[str, tuple[Column, ...]] = {
    "events": EVENTS,
    "ad_spend": AD_SPEND,
    "orders": ORDERS,
    "leads": LEADS,
}

# How the loader recognises a row it already has.
# events: a repeated event_id is a duplicate (first occurrence wins), within the file or against raw.events.
# Other kinds are versioned by a business key: a row is a duplicate only when it equals the current version of its
# key (the previous row of that key in the same file, else the latest loaded row); the same key with different
# content is a restatement / status change and is loaded (staging keeps the latest by loaded_at, load_id, row_number).
DEDUP_KEY: dict[str, tuple[str, ...]] = {"events": ("event_id",)}
BUSINESS_KEY: dict[str, tuple[str, ...]] = {
    "ad_spend": ("date", "platform", "account_id", "campaign_id", "adset_name", "ad_name"),
    "orders": ("order_id",),
    "leads": ("lead_id", "stage", "changed_at"),
}

# Stable reason strings written to raw.quarantine.reason (tests and GX suites rely on them).
REASON_MALFORMED = "malformed_record"
REASON_ENCODING = "invalid_encoding"
REASON_UNKNOWN_CURRENCY = "unknown_currency"


def reason_missing(col: str) -> str:
    return f"missing_required:{col}"


def reason_bad_timestamp(col: str) -> str:
    return f"bad_timestamp:{col}"


def reason_future(col: str) -> str:
    return f"future_timestamp:{col}"


def reason_bad_number(col: str) -> str:
    return f"bad_number:{col}"


def reason_not_integer(col: str) -> str:
    """A number with a fraction in an integer column (12.5 impressions): never rounded."""
    return f"not_integer:{col}"


def reason_not_object(col: str) -> str:
    """Valid JSON that is not an object (an array, a number, a string) in a JSON object column."""
    return f"not_json_object:{col}"


def reason_refused(what: str) -> str:
    """A whole file refused (row_number null): unreadable, unknown_format, unknown_kind, not_this_source,
    wrong_kind, missing_columns, not_json_lines, mostly_quarantined or not_loadable (other reasons the message gives).
    """
    return f"file_refused:{what}"


def reason_negative(col: str) -> str:
    return f"negative_value:{col}"


def reason_invalid(col: str) -> str:
    return f"invalid_value:{col}"


# Active ISO-4217 currency codes (plus a few widely used fund / precious-metal codes).
_ISO_4217_TEXT = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
    KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN
    NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL
    SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES
    VND VUV WST XAF XAG XAU XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
"""
ISO_4217 = frozenset(_ISO_4217_TEXT.split())
