"""The code location loads outside pytest too: `dagster definitions validate` (what CI runs) and the webserver.

The webserver test starts `dagster-webserver` on a free localhost port, waits (bounded) for /server_info and
asks the GraphQL API for the asset nodes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from northstar.config import PROJECT_DIR

BIN = Path(sys.executable).parent
EXPECTED_KEYS = {"raw/events", "raw/ad_spend", "raw/orders", "raw/leads", "marts/fct_sessions", "serving/marts"}


def _env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((PROJECT_DIR / "orchestration" / "dagster.yaml").read_text())
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "NORTHSTAR_WAREHOUSE_DIR": str(tmp_path / "warehouse"),  # need not exist: dbt parse opens no database
        "NORTHSTAR_LANDING_DIR": str(tmp_path / "landing"),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]),
    }


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_DIR,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Validation successful" in output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, data: bytes | None = None) -> dict:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_webserver_serves_the_assets_on_localhost(tmp_path: Path) -> None:
    port = _free_port()
    log = (tmp_path / "webserver.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_DIR,
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"webserver exited: {(tmp_path / 'webserver.log').read_text()[-3000:]}")
            try:
                _get(f"{base}/server_info")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail("webserver did not answer /server_info within 180 s")
                time.sleep(1)

        query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
        keys: set[str] = set()
        while time.monotonic() < deadline:  # the code location may still be loading
            body = _get(f"{base}/graphql", query)
            keys = {"/".join(n["assetKey"]["path"]) for n in (body.get("data") or {}).get("assetNodes") or []}
            if keys:
                break
            time.sleep(1)
        assert keys >= EXPECTED_KEYS, sorted(keys)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
