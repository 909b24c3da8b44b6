"""Dagster code location for northstar: `dagster dev -m orchestration.definitions` (see `make dagster`)."""
