"""Fixtures of the source adapter tests (helpers to load and query are in sourcetest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from northstar.config import Settings

SALT = "test-salt"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A fresh, empty warehouse in the test's temp dir."""
    return Settings(warehouse_dir=tmp_path / "wh", landing_dir=tmp_path / "landing", pii_salt=SALT)
