"""The bad-input cases only the stack can find out (Flink's planner, runs that do not
exist, the cluster's slots): each refused with advice, and nothing created anywhere:
registry rows, Kafka topics, Iceberg tables, Flink jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.tables.catalog import open_catalog
from kappanb.workbench import Workbench
from tests.commands.bad_input_cases import CASES, Case
from tests.commands.test_bad_input import registry_rows, run_line
from tests.magics.conftest import fresh_workbench

pytestmark = [pytest.mark.integration, pytest.mark.faults]

STACK = [c for c in CASES if c.stack]


@pytest.fixture(scope="module")
def workbench(stack: EmbeddedStack) -> Iterator[Workbench]:
    """A topic `bad.pay.v1` (SQL table bad_pay) with a few events, job `bad_counts` with
    two versions, neither ever run, and a topic `bad.gone.v1` deleted from Kafka since."""
    wb = fresh_workbench(stack)
    wb.topic("bad.gone.v1", "a STRING", table="bad_gone")
    _delete_topic(stack.endpoints().bootstrap_servers, "bad.gone.v1")
    wb.topic("bad.pay.v1", "payments", event_time="event_time", table="bad_pay")
    wb.produce("bad.pay.v1", list(PaymentsGenerator(seed=8).events(50)))
    counts = "SELECT merchant_id, COUNT(*) AS n FROM bad_pay GROUP BY merchant_id"
    wb.job("bad_counts", counts)
    wb.job("bad_counts", counts.replace("GROUP BY", "WHERE amount_cents > 0 GROUP BY"))
    yield wb


def _delete_topic(bootstrap: str, name: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([name])[name].result(timeout=30)
    deadline = time.monotonic() + 30
    while name in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.2)


def everything(wb: Workbench) -> dict[str, Any]:
    """What a command could create: registry rows, topics, tables, Flink jobs."""
    endpoints = wb.stack.endpoints()
    admin = AdminClient({"bootstrap.servers": endpoints.bootstrap_servers})
    return {
        "registry": registry_rows(wb.registry.path),
        "topics": set(admin.list_topics(timeout=10).topics),
        "tables": set(open_catalog(endpoints.catalog).list_tables("default")),
        "flink jobs": {j["jid"] for j in FlinkRest(endpoints.flink_rest_url).jobs()},
    }


@pytest.mark.parametrize("case", STACK, ids=[c.line for c in STACK])
def test_bad_input_found_by_the_stack_is_refused_and_creates_nothing(
    workbench: Workbench, case: Case
) -> None:
    before = everything(workbench)
    with pytest.raises(case.error) as refused:
        run_line(workbench, case)
    assert type(refused.value) is case.error
    message = str(refused.value)
    assert case.says in message
    assert "Traceback" not in message and "at org.apache" not in message
    assert everything(workbench) == before
