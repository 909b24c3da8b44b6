"""The statistics macros of macros/kpi_stats.sql, rendered with plain Jinja and run in DuckDB.

The macros only use their arguments (no dbt context), so they can be rendered outside dbt. Expected values are
textbook ones: two-sided p of z = 1.96 is 0.05, of z = 2.576 is 0.01; Phi(1.6449) = 0.95.
"""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import pytest

MACROS = Path(__file__).resolve().parents[2] / "macros" / "kpi_stats.sql"


@pytest.fixture(scope="module")
def macros():  # the module of macros, e.g. macros.kpi_normal_cdf("z")
    return jinja2.Environment().from_string(MACROS.read_text()).module


_CON = duckdb.connect()


def _value(expression: object) -> float | None:
    return _CON.execute(f"select {expression}").fetchone()[0]


@pytest.mark.parametrize(
    ("z", "expected_p"),
    [(1.96, 0.05), (-1.96, 0.05), (2.576, 0.01), (3.291, 0.001), (1.6449, 0.10), (0.0, 1.0)],
)
def test_two_sided_p_value_known_values(macros, z: float, expected_p: float) -> None:
    assert _value(macros.kpi_two_sided_p_value(repr(z))) == pytest.approx(expected_p, abs=1e-4)


@pytest.mark.parametrize(
    ("z", "expected"), [(0.0, 0.5), (1.6449, 0.95), (-1.6449, 0.05), (1.96, 0.975), (-3.0, 0.00135)]
)
def test_normal_cdf_known_values(macros, z: float, expected: float) -> None:
    assert _value(macros.kpi_normal_cdf(repr(z))) == pytest.approx(expected, abs=1e-4)


def test_normal_cdf_matches_erf_within_abramowitz_stegun_error(macros) -> None:
    # A&S 7.1.26 promises |error| < 1.5e-7 on erf, so < 1e-7 on Phi.
    for i in range(-40, 41):
        z = i / 10
        exact = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        assert _value(macros.kpi_normal_cdf(repr(z))) == pytest.approx(exact, abs=1e-7)


def test_two_proportion_z_by_hand(macros) -> None:
    # 30 of 1000 against 200 of 4000: p1 = 0.03, p0 = 0.05, pooled 230 / 5000 = 0.046,
    # se = sqrt(0.046 x 0.954 x (1/1000 + 1/4000)) = sqrt(0.043884 x 0.00125) = 0.0074064, z = -0.02 / se = -2.7004
    assert _value(macros.kpi_two_proportion_z("30", "1000", "200", "4000")) == pytest.approx(-2.7004, abs=1e-4)
    # no variance (nothing converted in either window) and empty windows give NULL, not an error
    assert _value(macros.kpi_two_proportion_z("0", "1000", "0", "4000")) is None
    assert _value(macros.kpi_two_proportion_z("0", "0", "5", "4000")) is None


def test_adjusted_two_proportion_z_by_hand(macros) -> None:
    # The tracking match rate: 15 of 30 feed orders matched on the day against 120 of 120 before. The pooled test
    # has too few expected failures (0.1 x 30 = 3 < 5) and gives NULL; Agresti-Caffo adds 1 success and 1 failure:
    # p1 = 16 / 32 = 0.5, p0 = 121 / 122 = 0.991803, var = 0.5 x 0.5 / 32 + 0.991803 x 0.008197 / 122
    # = 0.0078125 + 0.0000666 = 0.0078791, z = (0.5 - 0.991803) / 0.0887645 = -5.5405
    assert _value(macros.kpi_two_proportion_z("15", "30", "120", "120")) is None
    assert _value(macros.kpi_adjusted_two_proportion_z("15", "30", "120", "120")) == pytest.approx(-5.5405, abs=1e-3)
    # one order of 30 unmatched: p1 = 30 / 32 = 0.9375, var = 0.9375 x 0.0625 / 32 + 0.0000666 = 0.0018977,
    # z = (0.9375 - 0.991803) / 0.0435625 = -1.2466: no alert
    assert _value(macros.kpi_adjusted_two_proportion_z("29", "30", "120", "120")) == pytest.approx(-1.2466, abs=1e-3)
    # a group smaller than min_expected is not tested
    assert _value(macros.kpi_adjusted_two_proportion_z("3", "4", "120", "120")) is None


def test_poisson_z_by_hand(macros) -> None:
    # 50 in 7 days against 400 in 28: N = 450, q = 7 / 35 = 0.2, expected 90, sd sqrt(450 x 0.2 x 0.8) = 8.4853,
    # z = (50 - 90) / 8.4853 = -4.7140
    assert _value(macros.kpi_poisson_z("50", "7", "400", "28")) == pytest.approx(-4.7140, abs=1e-4)
    # same daily rate: z = 0
    assert _value(macros.kpi_poisson_z("70", "7", "280", "28")) == pytest.approx(0.0, abs=1e-12)
    assert _value(macros.kpi_poisson_z("0", "7", "0", "28")) is None


def test_small_expected_counts_are_not_tested(macros) -> None:
    # 4 leads today against 1 on the 4 same weekdays before: N = 5, q = 1/5, N q = 1 < 5 -> no test (NULL)
    assert _value(macros.kpi_poisson_z("4", "1", "1", "4")) is None
    # N q = 25 x 0.2 = 5 -> tested: z = (10 - 5) / sqrt(25 x 0.2 x 0.8) = 5 / 2 = 2.5
    assert _value(macros.kpi_poisson_z("10", "1", "15", "4")) == pytest.approx(2.5, abs=1e-12)
    # 2 of 10 against 3 of 40: pooled 5 / 50 = 0.1, 0.1 x min(10, 40) = 1 < 5 -> no test
    assert _value(macros.kpi_two_proportion_z("2", "10", "3", "40")) is None
    # the threshold is a parameter (var alert_min_expected_count in fct_kpi_alerts)
    assert _value(macros.kpi_two_proportion_z("2", "10", "3", "40", 1)) is not None


def test_rate_ratio_z_by_hand(macros) -> None:
    # sessions per feed order: 10 sessions / 50 orders against 2000 / 1000 (2 per order). With 0.5 added to each
    # count: ln((10.5 / 50.5) / (2000.5 / 1000.5)) = ln(0.207921 / 1.999500) = -2.26343,
    # se = sqrt(1/10.5 + 1/50.5 + 1/2000.5 + 1/1000.5) = sqrt(0.095238 + 0.019802 + 0.000500 + 0.000999) = 0.341378,
    # z = -6.6305
    assert _value(macros.kpi_rate_ratio_z("10", "50", "2000", "1000")) == pytest.approx(-6.6305, abs=1e-3)
    # no sessions at all still gives a finite z (a total tracking loss): ln((0.5 / 30.5) / 1.9995) = -4.8038 over
    # se = sqrt(1/0.5 + 1/30.5 + 1/2000.5 + 1/1000.5) = 1.4263 -> -3.368; too few orders gives no test
    assert _value(macros.kpi_rate_ratio_z("0", "30", "2000", "1000")) == pytest.approx(-3.368, abs=1e-3)
    assert _value(macros.kpi_rate_ratio_z("10", "4", "2000", "1000")) is None


@pytest.mark.parametrize(
    ("kpi_type", "x", "n", "ref", "ref_days", "expected"),
    [
        # orders 20 against the median of the same weekdays, 50: (20 - 50) / sqrt(50) = -4.2426
        ("count", 20, 1, 50, 4, -4.2426),
        # 3 converting of 100 sessions against p = 0.10: (3 - 10) / sqrt(100 x 0.1 x 0.9) = -7 / 3
        ("rate", 3, 100, 0.10, 28, -2.3333),
        # 7 of 100: -3 / 3 = -1 (a 30 % fall, but within noise: the day stays in the baselines)
        ("rate", 7, 100, 0.10, 28, -1.0),
        # 10 sessions per 50 orders against 2.0 a day: ln((10.5 / 50.5) / 2) / sqrt(1/10.5 + 1/50.5) = -6.6743
        ("ratio", 10, 50, 2.0, 28, -6.6743),
        # too thin a reference or no variance: NULL, never excluded
        ("count", 20, 1, 50, 1, None),
        ("rate", 30, 30, 1.0, 28, None),
        ("ratio", 10, 50, 2.0, 6, None),
    ],
)
def test_screen_z_by_hand(macros, kpi_type, x, n, ref, ref_days, expected) -> None:
    got = _value(macros.kpi_screen_z(f"'{kpi_type}'", repr(x), repr(n), repr(ref), repr(ref_days)))
    assert got == (None if expected is None else pytest.approx(expected, abs=1e-3))


@pytest.mark.parametrize(
    ("change", "z", "excluded"),
    [
        # orders 780 against a reference of 1000: -22 %, z = -220 / sqrt(1000) = -6.96: far and significant
        (-0.22, -6.96, True),
        # 880 against 1000: -12 %, z = -120 / 31.62 = -3.79: nearer than 20 % but beyond 3 standard errors
        (-0.12, -3.79, True),
        # 920 against 1000: -8 %, z = -2.53: less than half of the 20 % minimum change: kept
        (-0.08, -2.53, False),
        # leads 352 against 400: -12 %, z = -48 / 20 = -2.4: under 3 standard errors and under 20 %: kept
        (-0.12, -2.4, False),
        # a rise is screened the same way: 1 150 against 1 000, +15 %, z = +4.74
        (0.15, 4.74, True),
        # 25 against 20: +25 % but z = 5 / 4.47 = 1.12: within noise, kept
        (0.25, 1.12, False),
        # no z (thin reference): never excluded
        (-0.5, None, False),
    ],
)
def test_baseline_exclusion_by_hand(macros, change: float, z: float | None, excluded: bool) -> None:
    rule = macros.kpi_is_excluded_from_baseline(repr(change), "NULL" if z is None else repr(z), "0.20", "2.0", "3.0")
    assert _value(rule) is excluded
