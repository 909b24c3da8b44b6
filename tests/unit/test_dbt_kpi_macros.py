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
