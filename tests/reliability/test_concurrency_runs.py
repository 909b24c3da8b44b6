"""BI readers during three consecutive `northstar run`s, with the build's faults between them (real dbt builds).

One scenario on tiny generated data (300 visitors, 3 days), run once for the module (builds are the slow part):
1. two BI-style readers start (separate processes opening the serving file read-only and querying in a loop, one
   keeping its connection, one reconnecting); they read from the first publish to the end;
2. run 1, on a fresh warehouse: the clean run every later state is compared with;
3. `northstar build` killed with kill -9 at seeded random moments, each followed at once by the next build, which
   must wait for the lock the dying dbt still holds, not fail; every killed build's dbt child must die with it.
   While the first build runs a second writer (`northstar load`) is started: it waits, then loads nothing new;
4. a build on a full disk (RLIMIT_FSIZE): one error line, no traceback, the serving file and Parquet unchanged;
5. run 2, with space again: the warehouse and the serving file equal run 1's;
6. `northstar publish` killed at random moments, each retried at once, and a publish on a full disk;
7. run 3: equal to run 1 again. The readers stop: every read worked and saw one whole publish.
dbt's data tests are left out of these builds (reliability_procs.NO_DBT_TESTS): they only read.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from datetime import date

import pytest
from reliability_procs import (
    NO_DBT_TESTS,
    alive,
    cli_env,
    dbt_child,
    digest,
    file_state,
    full_disk,
    kill9,
    no_traceback,
    one_line_error,
    run,
    start,
    start_readers,
    stop_readers,
    wait_for,
)

pytestmark = pytest.mark.slow

SEEDS = (1, 2, 3)
BUILT = ("raw", "marts")
SERVED = ("marts",)


@dataclass
class Scenario:
    runs: list = field(default_factory=list)  # the three `northstar run`s
    digests: list = field(default_factory=list)  # (warehouse, serving file) after each run
    kills: dict[str, int] = field(default_factory=dict)  # kill -9 that hit a running command, by step
    orphans: list = field(default_factory=list)  # dbt children alive 5 s after their parent was killed
    builds: list = field(default_factory=list)  # each build of the kill chain: dbt started? killed? its stderr
    publishes: list = field(default_factory=list)  # the publishes started right after a killed one
    second_writer: object = None
    full_disk_build: object = None
    full_disk_publish: object = None
    unchanged_after_full_disk: list = field(default_factory=list)
    readers: dict = field(default_factory=dict)
    after_publish_kills: tuple = ()  # the serving marts and the publish temporaries left after the retries


def _seconds(run_output: str, step: str) -> float:
    found = re.search(rf"{step} ([\d.]+) s", run_output)
    return float(found.group(1)) if found else 10.0


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    from northstar.sample.generate import generate

    root = tmp_path_factory.mktemp("runs")
    landing, wh = root / "landing", root / "wh"
    generate(landing, days=3, start=date(2026, 1, 1), visitors=300, seed=11, progress=False)
    env = cli_env(wh, landing, **NO_DBT_TESTS)
    serving = wh / "serving.duckdb"
    s = Scenario()

    def a_run() -> None:
        proc = run(env, "run", timeout=900)
        s.runs.append(proc)
        if proc.returncode == 0:
            s.digests.append((digest(wh / "northstar.duckdb", BUILT), digest(serving, SERVED)))

    readers = start_readers(serving, root / "readers")
    try:
        a_run()  # 1: the clean run
        assert s.runs[0].returncode == 0, s.runs[0].stdout[-3000:] + s.runs[0].stderr[-3000:]
        build_s = _seconds(s.runs[0].stdout, "build")

        # 3: builds killed at random moments, each retried at once; a second writer while the first runs.
        s.kills["build"] = 0
        proc = start(env, "build")
        for i, seed in enumerate(SEEDS):
            child = wait_for(lambda p=proc: dbt_child(p.pid), 120)  # past the lock wait: dbt is running
            if i == 0:
                second = start(env, "load", str(landing))
            time.sleep(random.Random(seed).uniform(0.05, 0.7) * build_s)
            hit = proc.poll() is None
            kill9(proc)
            s.kills["build"] += hit
            s.builds.append({"dbt_started": bool(child), "killed": hit, "stderr": proc.stderr_text})
            if hit and child and not wait_for(lambda c=child: not alive(c), 5):
                s.orphans.append(child)
            if i < len(SEEDS) - 1:
                proc = start(env, "build")  # at once, as an orchestrator's retry
        out, err = second.communicate(timeout=300)
        s.second_writer = (second.returncode, out, err)

        # 4: a full disk, started at once too (it waits for the last killed build's dbt first).
        before = file_state(wh)
        s.full_disk_build = run(env, "build", preexec_fn=full_disk(200_000))
        s.unchanged_after_full_disk.append(file_state(wh) == before)

        a_run()  # 5: with space again

        # 6: publishes killed at random moments, each retried at once; then a publish on a full disk.
        s.kills["publish"] = 0
        started = time.monotonic()
        s.publishes.append(run(env, "publish"))
        publish_s = time.monotonic() - started  # the whole command, its start included
        for seed in SEEDS:
            proc = start(env, "publish")
            time.sleep(random.Random(seed).uniform(0.05, 0.8) * publish_s)
            s.kills["publish"] += kill9(proc)
            s.publishes.append(run(env, "publish"))
        s.after_publish_kills = (digest(serving, SERVED), [p.name for p in wh.glob(".serving.duckdb.tmp-*")])
        before = file_state(wh)
        s.full_disk_publish = run(env, "publish", preexec_fn=full_disk(100_000))
        s.unchanged_after_full_disk.append(file_state(wh) == before)

        a_run()  # 7
    finally:
        s.readers = stop_readers(readers, root / "readers")
    print(f"faults injected: {s.kills}; reads: { {m: o['reads'] for m, o in s.readers.items()} }")
    return s


def test_three_consecutive_runs_succeed_and_equal_the_clean_run(scenario: Scenario) -> None:
    assert [r.returncode for r in scenario.runs] == [0, 0, 0], [r.stdout[-2000:] for r in scenario.runs]
    clean = scenario.digests[0]
    assert all(d == clean for d in scenario.digests[1:])  # raw and marts of the warehouse, marts served
    assert sum(clean[0]["raw.events"][:1]) > 0  # not an empty warehouse


def test_readers_saw_no_error_and_only_whole_publishes_during_the_runs(scenario: Scenario) -> None:
    for mode, out in scenario.readers.items():
        assert out["errors"] == [], (mode, out["errors"][:3])
        assert out["torn"] == 0, mode
        assert out["reads"] > 20, (mode, out["reads"])


def test_a_killed_build_s_dbt_child_dies_and_a_build_started_at_once_waits_for_the_lock(scenario: Scenario) -> None:
    assert scenario.kills["build"] >= 2, "the kills came after the builds had ended"
    assert scenario.orphans == []
    # Every build of the chain, each but the first started right after a kill -9, got past the lock (its dbt
    # started) and was still running when it was killed in turn: none failed on the dying dbt's lock.
    for build in scenario.builds:
        assert build["dbt_started"] and build["killed"], build
        assert "Conflicting lock" not in build["stderr"] and "locked by" not in build["stderr"], build
    # The full-disk build, started at once after the last kill, got past the lock to the disk.
    assert "locked by" not in scenario.full_disk_build.stdout + scenario.full_disk_build.stderr


def test_a_second_writer_during_a_build_waits_and_succeeds(scenario: Scenario) -> None:
    code, out, err = scenario.second_writer
    assert code == 0, out[-2000:] + err[-2000:]
    assert "Traceback" not in out + err
    assert len([ln for ln in err.splitlines() if ln.startswith("waiting up to")]) <= 1


def test_a_killed_publish_retried_at_once_succeeds(scenario: Scenario) -> None:
    assert scenario.kills["publish"] >= 2, "the kills came after the publishes had ended"
    for retry in scenario.publishes:
        assert retry.returncode == 0, retry.stdout[-2000:] + retry.stderr[-2000:]
    served, temporaries = scenario.after_publish_kills
    assert served == scenario.digests[0][1]  # what the clean run published
    assert temporaries == []  # the killed publishes' temporaries are cleaned up


def test_a_full_disk_during_build_and_publish_is_one_line_and_keeps_the_last_good_outputs(scenario: Scenario) -> None:
    build = scenario.full_disk_build
    assert build.returncode != 0
    no_traceback(build)
    assert "File too large" in build.stdout + build.stderr
    one_line_error(scenario.full_disk_publish, "publish failed", "File too large")
    assert scenario.unchanged_after_full_disk == [True, True]
