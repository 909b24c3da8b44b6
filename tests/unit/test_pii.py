"""northstar/ingest/pii.py: e-mails and IPs found by pattern, masked with the loader's one hash. Outputs written out.

The hashes below are sha256("salt" || value), value lower-cased for e-mails (checked against hashlib once more in
test_hash_is_the_columns_hash); they are what raw.events.email_hash / ip_hash hold for the same value and salt.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import pytest

from northstar.ingest import pii

SALT = "salt"
BOB = "<email:c16aca3053b13cc1262b492b296fc7cc24c93e77305729a8966d7426b6be8da3>"  # bob@corp.com
ANN = "<email:a969ef7977546a5e909c5ac0e0cb0d1e007e4abe2b6cf970f2922a8008b89135>"  # ann@example.org
IP_1234 = "<ip:63c9490119d110b7d3806c2e447108a85046a9072c5bca243587b95b9ddf02e8>"  # 1.2.3.4
IP_11_2_3_45 = "<ip:76939bec8add01c2b7c6338604cffe624d793657c580518859f5239b93fbd3f9>"  # 11.2.3.45
IP_192 = "<ip:f518963741bb9519118a1dcc0321d396229a5b16f2ff667f6de6654d7ffab4c0>"  # 192.168.0.10
V6_SHORT = "<ip:360dc92656648698887bf84aadebdd25d5619befc2bad9cc2831dabd2ef16675>"  # 2001:db8::1
V6_FULL = "<ip:b7ecb4469d318c4094002b3f8dba806fe8605508e3fe761c915bfae51861daf0>"  # 2001:0db8:85a3:...:7334
V6_LOOPBACK = "<ip:8c68daff38e02881954da88bbc69e06376984c5473f5753a6374dc2208351246>"  # ::1
V6_ZONE = "<ip:b1bf044a96ab2a52fd2d14d9cb19bb97e74c9b9155bb568d0765fa96ed778e40>"  # fe80::1%eth0
V6_MAPPED = "<ip:cf7132cd25cfde0bb7dd1b20fdbc6566a446a68db85608d646cd86138b3f150a>"  # ::ffff:10.0.0.1


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def mask(con: duckdb.DuckDBPyConnection, text: str | None) -> str | None:
    return con.execute(f"select {pii.mask_sql('x', SALT)} from (select ?::varchar as x)", [text]).fetchone()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bob@corp.com", BOB),
        # e-mails hash lower-cased (as the email column does); every occurrence is masked, neighbours kept
        (
            "mail Bob@Corp.com from 1.2.3.4 and 11.2.3.45, again bob@corp.com end",
            f"mail {BOB} from {IP_1234} and {IP_11_2_3_45}, again {BOB} end",
        ),
        (
            "v6 2001:db8::1 and 2001:0db8:85a3:0000:0000:8a2e:0370:7334 and ::1 and fe80::1%eth0 and ::ffff:10.0.0.1",
            f"v6 {V6_SHORT} and {V6_FULL} and {V6_LOOPBACK} and {V6_ZONE} and {V6_MAPPED}",
        ),
        ('{"user":"ann@example.org","ip_seen":"192.168.0.10"}', f'{{"user":"{ANN}","ip_seen":"{IP_192}"}}'),
        # not addresses: times, MAC addresses, 3-part versions, an octet over 255
        (
            "times 10:05:00, mac 00:1a:2b:3c:4d:5e, version 4.2.0, 256.1.1.1, 1.2.3",
            "times 10:05:00, mac 00:1a:2b:3c:4d:5e, version 4.2.0, 256.1.1.1, 1.2.3",
        ),
        ("no pii here", "no pii here"),
        ("", ""),
        (None, None),
    ],
)
def test_mask_replaces_every_email_and_ip_by_its_hash(con: duckdb.DuckDBPyConnection, text: str, expected: str) -> None:
    assert mask(con, text) == expected


def test_hash_is_the_columns_hash(con: duckdb.DuckDBPyConnection) -> None:
    for value, kind, token in (("Bob@Corp.com", "email", BOB), ("1.2.3.4", "ip", IP_1234)):
        stored = con.execute(f"select {pii.hash_sql(kind, '?', SALT)}", [value]).fetchone()[0]
        normalised = value.lower() if kind == "email" else value
        assert stored == hashlib.sha256((SALT + normalised).encode()).hexdigest()
        assert token == f"<{kind}:{stored}>"


def test_masked_json_stays_valid_json(con: duckdb.DuckDBPyConnection) -> None:
    value = '{"contact": ["bob@corp.com", {"seen_from": "1.2.3.4"}], "n": 2}'
    out = con.execute(f"select {pii.mask_json_sql('x', SALT)} from (select ?::json as x)", [value]).fetchone()[0]
    assert json.loads(out) == {"contact": [BOB, {"seen_from": IP_1234}], "n": 2}


def test_redact_keys_masks_email_and_ip_values_whatever_they_hold(con: duckdb.DuckDBPyConnection) -> None:
    record = '{"Email":"not \\" an address","ip":12345,"x":1,"email" : null,"ip_hash":"kept"}'
    out = con.execute(f"select {pii.redact_keys_sql('?')}", [record]).fetchone()[0]
    assert out == '{"Email":"<redacted>","ip":"<redacted>","x":1,"email" : null,"ip_hash":"kept"}'
