"""The data-driven attribution models (issue 15) on a 3-channel toy, against values worked out on paper.

int_attribution_markov (with its chains, int_attribution_markov_transitions) and int_attribution_shapley are run
by dbt on a warehouse that holds only their input, intermediate.int_attribution_journeys, written by hand below.
Six journeys over channels A, B, C:

    J1  A -> B -> conversion        J4  B -> C -> (null)
    J2  A -> (null)                  J5  C -> conversion
    J3  B -> conversion              J6  A -> A -> C -> conversion   (the repeated A is one state)

Markov. Transitions counted from the paths (the repeat A -> A is collapsed):
    (start): A 3/6, B 2/6, C 1/6      A: B 1/3, (null) 1/3, C 1/3
    B: conversion 2/3, C 1/3          C: (null) 1/3, conversion 2/3
The chain has no cycle, so the conversion probabilities follow back from C:
    P(C) = 2/3;  P(B) = 2/3 + 1/3 * 2/3 = 8/9;  P(A) = 1/3 * 8/9 + 1/3 * 2/3 = 14/27
    P(start) = 3/6 * 14/27 + 2/6 * 8/9 + 1/6 * 2/3 = 7/27 + 8/27 + 3/27 = 2/3   (4 of the 6 journeys convert)
Removing a channel sends its visits to (null):
    without A: P = 2/6 * 8/9 + 1/6 * 2/3 = 11/27            removal effect 1 - (11/27) / (2/3) = 7/18
    without B: P(A) = 1/3 * 2/3 = 2/9; P = 3/6 * 2/9 + 1/6 * 2/3 = 2/9   removal effect 1 - (2/9) / (2/3) = 2/3
    without C: P(B) = 2/3; P(A) = 1/3 * 2/3 = 2/9; P = 3/6 * 2/9 + 2/6 * 2/3 = 1/3   removal effect 1/2
Shares: the removal effects 7/18, 12/18, 9/18 over their sum 28/18: A 1/4, B 3/7, C 9/28.

Shapley, exact. Channel sets: {A,B} converted, {A} not, {B} converted, {B,C} not, {C} converted, {A,C} converted.
The worth v(S) is the conversion rate of the journeys whose channels all lie in S:
    v({}) = 0, v(A) = 0/1 = 0, v(B) = 1/1 = 1, v(C) = 1/1 = 1,
    v(AB) = 2/3 (J1, J2, J3), v(AC) = 2/3 (J2, J5, J6), v(BC) = 2/3 (J3, J4, J5), v(ABC) = 4/6 = 2/3.
With n = 3 the weights of a coalition S without the channel are 1/3 (|S| = 0), 1/6 (|S| = 1), 1/3 (|S| = 2):
    phi(A) = 1/3 (0 - 0) + 1/6 (2/3 - 1) + 1/6 (2/3 - 1) + 1/3 (2/3 - 2/3) = -1/9
    phi(B) = 1/3 (1 - 0) + 1/6 (2/3 - 0) + 1/6 (2/3 - 1) + 1/3 (2/3 - 2/3) = 7/18
    phi(C) = 1/3 (1 - 0) + 1/6 (2/3 - 0) + 1/6 (2/3 - 1) + 1/3 (2/3 - 2/3) = 7/18
They sum to v(ABC) = 2/3. A adds nothing but non-converting journeys: its value is negative, its share 0;
B and C get 1/2 each.

Shapley, simplified (the exact limit set to 2 channels, below the toy's 3). R(T) is the conversion rate of the
journeys with exactly the channel set T: R(A) = 0, R(B) = 1, R(C) = 1, R(AB) = 1, R(AC) = 1, R(BC) = 0; each
set's rate is shared equally between its channels:
    phi(A) = 0 + 1/2 + 1/2 = 1;  phi(B) = 1 + 1/2 + 0 = 3/2;  phi(C) = 1 + 1/2 + 0 = 3/2
Shares over 4: A 1/4, B 3/8, C 3/8.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from northstar.build import DbtEvents, _run_streaming, dbt_args, dbt_subprocess_env
from northstar.config import Settings

pytestmark = pytest.mark.slow

JOURNEYS = {  # journey: (converted, channels in order)
    "J1": (True, ["A", "B"]),
    "J2": (False, ["A"]),
    "J3": (True, ["B"]),
    "J4": (False, ["B", "C"]),
    "J5": (True, ["C"]),
    "J6": (True, ["A", "A", "C"]),
}


LEARNING_MODELS = ["int_attribution_markov_transitions", "int_attribution_markov", "int_attribution_shapley"]
SHAPLEY_SQL = "select channel, method, shapley_value, share from intermediate.int_attribution_shapley"


def _learn(tmp_path: Path, **extra_vars: int) -> duckdb.DuckDBPyConnection:
    """Write the toy journeys, run the two learning models with dbt, return a connection to the result."""
    warehouse = tmp_path / "northstar.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_attribution_journeys (journey_id varchar, is_converted boolean,"
            " touch_position bigint, channel varchar, training_start date, training_end date)"
        )
        rows = [
            (journey, converted, position, channel, "2026-01-01", "2026-03-31")
            for journey, (converted, channels) in JOURNEYS.items()
            for position, channel in enumerate(channels, start=1)
        ]
        con.executemany("insert into intermediate.int_attribution_journeys values (?, ?, ?, ?, ?, ?)", rows)
    settings = Settings(warehouse_dir=tmp_path, landing_dir=tmp_path)
    cmd = dbt_args(settings, "run", "--select", *LEARNING_MODELS)
    cmd[cmd.index("--vars") + 1] = json.dumps({**settings.dbt_vars(), **extra_vars})
    events = DbtEvents()
    code = _run_streaming([*cmd, "--log-format", "json"], dbt_subprocess_env(settings), events, lambda event: None)
    assert code == 0, events.first_error(events.results(), code)
    return duckdb.connect(str(warehouse), read_only=True)


def _by_channel(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, tuple]:
    return {row[0]: row[1:] for row in con.execute(sql).fetchall()}


def test_markov_removal_effects_and_shapley_values_equal_the_hand_computation(tmp_path: Path) -> None:
    with _learn(tmp_path) as con:
        markov = _by_channel(
            con,
            "select channel, chain_conversion_probability, conversion_probability_without, removal_effect, share,"
            " unabsorbed_probability from intermediate.int_attribution_markov",
        )
        shapley = _by_channel(con, SHAPLEY_SQL)
    expected_markov = {  # P(conversion), P without the channel, removal effect, share
        "A": (2 / 3, 11 / 27, 7 / 18, 1 / 4),
        "B": (2 / 3, 2 / 9, 2 / 3, 3 / 7),
        "C": (2 / 3, 1 / 3, 1 / 2, 9 / 28),
    }
    assert markov.keys() == expected_markov.keys()
    for channel, values in expected_markov.items():
        assert markov[channel][:4] == pytest.approx(values, abs=1e-9), channel
        assert markov[channel][4] == 0  # no cycle: every walk has ended within the steps
    assert shapley == {
        "A": ("exact", pytest.approx(-1 / 9, abs=1e-9), 0.0),
        "B": ("exact", pytest.approx(7 / 18, abs=1e-9), pytest.approx(1 / 2, abs=1e-9)),
        "C": ("exact", pytest.approx(7 / 18, abs=1e-9), pytest.approx(1 / 2, abs=1e-9)),
    }


def test_shapley_beyond_the_exact_limit_uses_the_simplified_values(tmp_path: Path) -> None:
    with _learn(tmp_path, attribution_shapley_exact_max_channels=2) as con:
        shapley = _by_channel(con, SHAPLEY_SQL)
    assert shapley == {
        "A": ("simplified", pytest.approx(1.0, abs=1e-9), pytest.approx(1 / 4, abs=1e-9)),
        "B": ("simplified", pytest.approx(3 / 2, abs=1e-9), pytest.approx(3 / 8, abs=1e-9)),
        "C": ("simplified", pytest.approx(3 / 2, abs=1e-9), pytest.approx(3 / 8, abs=1e-9)),
    }
