"""The local registry's tests, run again on the cluster's registry (a Kafka log on the
session's broker, a topic per test): both keep the same rules."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from kappanb.registry.log import RegistryLog
from kappanb.registry.shared import LogRegistry
from kappanb.stack.endpoints import Endpoints
from tests.registry.test_removals import (  # noqa: F401 - collected here with this file's fixture
    test_a_refused_schedule_records_nothing,
    test_a_removal_a_week_away_is_not_claimed,
    test_a_removal_due_at_once_goes_through_claim_and_finish,
)
from tests.registry.test_store import (  # noqa: F401 - collected here with this file's fixture
    test_add_run_assigns_ids,
    test_add_version_numbering,
    test_put_topic_replaces,
    test_runs_filters,
    test_switches_are_serialised_and_a_stale_switch_is_refused,
    test_topics_round_trip,
    test_update_run,
    test_update_run_only_while_it_has_the_same_flink_job,
    test_versions_are_per_job,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def registry(endpoints: Endpoints, tmp_path: Path) -> LogRegistry:
    topic = f"_kappanb.registry.test-{uuid.uuid4().hex[:8]}"
    return LogRegistry(RegistryLog(endpoints.kafka, topic), tmp_path / "cache.sqlite")
