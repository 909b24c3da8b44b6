"""PII in the loader: the one hashing of e-mails and IPs, and masking of the ones found by pattern in free text.

Everything is SQL for DuckDB (the loader works set-based, never row by row in Python):

- `hash_sql`: the hash stored for an e-mail or IP column, sha256(salt || lower(email)) / sha256(salt || ip).
- `mask_sql`: a text with every e-mail address, IPv4 and IPv6 address replaced by `<email:HASH>` / `<ip:HASH>`,
  HASH being that same hash, so a masked value still joins to `email_hash` / `ip_hash`. Used on unknown columns
  (`extra`), `properties` and quarantined records before they reach raw.*.
- `redact_keys_sql`: in a JSON record's text, the value of every "email" / "ip" key replaced by "<redacted>"
  (a fixed mask: the value of a rejected row may not even be an address, so the pattern would miss it).

Patterns are RE2 (DuckDB's regex engine). They err on the side of masking: a version string such as 1.2.3.4
is masked like an IP, which costs nothing but legibility.
"""

from __future__ import annotations

from northstar.sources.sql import lit

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
IPV4 = rf"\b(?:{_OCTET}\.){{3}}{_OCTET}\b"
_H = r"[0-9A-Fa-f]{1,4}"
_V4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
# Full, embedded-IPv4 and "::"-compressed forms, most specific first (RE2 takes the first alternative that matches
# at a position). Forms without "::" need all 8 groups, so times (10:05:00) and MAC addresses never match.
IPV6 = "|".join(
    (
        r"\bfe80:(?::[0-9A-Fa-f]{0,4}){0,4}%[0-9A-Za-z]+",  # link-local with a zone index
        rf"\b(?:{_H}:){{7}}{_H}\b",
        rf"\b(?:{_H}:){{1,4}}:{_V4}\b",
        rf"::(?:ffff(?::0{{1,4}})?:)?{_V4}\b",
        rf"\b(?:{_H}:){{1,6}}(?::{_H}){{1,6}}\b",
        rf"\b(?:{_H}:){{1,7}}:",
        rf":(?::{_H}){{1,7}}\b",
    )
)
# E-mail first: at the same position it is the longer reading (a local part may start like an IPv6 group).
PATTERN = f"{EMAIL}|{IPV6}|{IPV4}"

# A JSON key "email" or "ip" (any case) and its value: a string (escapes allowed) or a number (null stays null).
_KEY_VALUE = r'("(?:email|ip)"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|-?[0-9][^,}\]\s]*)'


def hash_sql(kind: str, value: str, salt: str) -> str:
    """SQL: the stored hash of an e-mail (`kind` 'email', compared lower-case) or an IP ('ip') held in `value`."""
    normalised = f"lower({value})" if kind == "email" else value
    return f"sha256({lit(salt)} || {normalised})"


def mask_sql(text: str, salt: str) -> str:
    """SQL: `text` (a VARCHAR expression) with every e-mail and IP address replaced by its hash token.

    Text without any (nearly every value) costs one regex test. For the others the text is split around the
    matches and put back together with each match's token, so overlapping addresses cannot clash.
    """
    token = (
        f"case when contains(z[2], '@') then '<email:' || {hash_sql('email', 'z[2]', salt)} || '>'"
        f" else '<ip:' || {hash_sql('ip', 'z[2]', salt)} || '>' end"
    )
    pattern = lit(PATTERN)
    # (piece before the match, match) pairs; the last piece has no match after it
    pairs = f"list_zip(regexp_split_to_array({text}, {pattern}), regexp_extract_all({text}, {pattern}))"
    joined = f"array_to_string(list_transform({pairs}, lambda z: z[1] || coalesce({token}, '')), '')"
    return f"(case when regexp_matches({text}, {pattern}) then {joined} else {text} end)"


def mask_json_sql(value: str, salt: str) -> str:
    """SQL: a JSON value with the e-mails and IPs in its text masked (tokens hold no quote: it stays valid JSON)."""
    return f"cast({mask_sql(f'cast({value} as varchar)', salt)} as json)"


def redact_keys_sql(text: str) -> str:
    """SQL: a JSON record's text with the value of every "email" / "ip" key replaced by "<redacted>"."""
    return f"""regexp_replace({text}, {lit(_KEY_VALUE)}, '\\1"<redacted>"', 'gi')"""
