"""Append-only (windowed) SQL and PyFlink jobs follow the same lifecycle as updating SQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from kappanb.flink.rest import FlinkRest
from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from tests.magics.conftest import Magic, fresh_workbench

pytestmark = pytest.mark.integration

TOPIC = "kinds.payments.v1"
HOURLY = """
SELECT window_start, COUNT(*) AS payments
FROM TABLE(TUMBLE(TABLE kinds_payments, DESCRIPTOR(event_time), INTERVAL '1' HOUR))
GROUP BY window_start, window_end
"""
SIZES = """
@udf(result_type=DataTypes.STRING())
def size(amount: int) -> str:
    return "large" if amount >= 10_000 else "small"

t_env.create_temporary_function("size", size)
result = t_env.sql_query(
    "SELECT size(amount_cents) AS size, COUNT(*) AS n FROM kinds_payments "
    "GROUP BY size(amount_cents)"
)
"""


@pytest.fixture(scope="module")
def events(stack: EmbeddedStack) -> list[dict[str, object]]:
    """Declared and produced once for the module, through the Python twin."""
    workbench = fresh_workbench(stack)
    workbench.topic(TOPIC, PAYMENTS_SCHEMA, event_time="event_time", watermark="10 s",
                    partitions=2, table="kinds_payments")  # fmt: skip
    produced = list(PaymentsGenerator(seed=5, out_of_order=0.1).events(6_000))
    workbench.produce(TOPIC, produced)
    return produced


def test_windowed_append_only_job_bounded_replay(
    kappa: Magic, events: list[dict[str, object]], stack: EmbeddedStack
) -> None:
    job_version = kappa("job hourly", HOURLY).job_version
    assert not job_version.updating and job_version.key == ()
    run = kappa("replay hourly --until latest")
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(run.run.flink_job_id, timeout=180) == "FINISHED"
    expected = Counter(
        datetime.fromisoformat(str(e["event_time"])).replace(minute=0, second=0, microsecond=0)
        for e in events
    )
    frame = fresh_workbench(stack).read("hourly").collect()
    got = dict(zip(frame["window_start"].to_list(), frame["payments"].to_list(), strict=True))
    assert got == dict(expected)  # every window once, disorder within the watermark kept


def test_python_job_with_a_udf_runs_on_the_cluster(
    kappa: Magic, events: list[dict[str, object]], stack: EmbeddedStack
) -> None:
    job_version = kappa("job sizes --python --note 'UDF'", SIZES).job_version
    assert (job_version.kind, job_version.updating, job_version.key) == ("python", True, ("size",))
    assert kappa("job sizes --python", SIZES + "\n\n").created is False
    run = kappa("replay sizes --until latest")
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(run.run.flink_job_id, timeout=180) == "FINISHED"
    large = sum(1 for e in events if int(str(e["amount_cents"])) >= 10_000)
    frame = fresh_workbench(stack).read("sizes").collect()
    assert dict(zip(frame["size"], frame["n"], strict=True)) == {
        "large": large,
        "small": len(events) - large,
    }


def test_python_job_errors_name_the_cell_line(kappa: Magic, events: object) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match=r"line 3 of the cell.*Column 'nope' not found"):
        kappa(
            "job broken --python",
            "x = 1\nresult = t_env.sql_query('SELECT nope FROM kinds_payments')",
        )
    with pytest.raises(UsageError, match="must assign its output Table to `result`"):
        kappa("job broken --python", "table = t_env.from_path('kinds_payments')")
    with pytest.raises(UsageError, match="does not parse"):
        kappa("job broken --python", "# kinds_payments\ndef (:")


def test_local_time_event_column_is_read_as_utc(kappa: Magic, stack: EmbeddedStack) -> None:
    workbench = fresh_workbench(stack)
    workbench.topic("ltz.events.v1", "id STRING, ts TIMESTAMP_LTZ(3)", event_time="ts",
                    table="ltz_events")  # fmt: skip
    rows = [{"id": f"e{i}", "ts": datetime(2026, 3, 1, i % 5, 30, tzinfo=UTC)} for i in range(50)]
    workbench.produce("ltz.events.v1", rows)
    kappa("job ltz_hours", "SELECT HOUR(CAST(ts AS TIMESTAMP(3))) AS h, COUNT(*) AS n "
          "FROM ltz_events GROUP BY HOUR(CAST(ts AS TIMESTAMP(3)))")  # fmt: skip
    run = kappa("replay ltz_hours --until latest")
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(run.run.flink_job_id, timeout=180) == "FINISHED"
    frame = workbench.read("ltz_hours").collect()
    assert dict(zip(frame["h"], frame["n"], strict=True)) == {h: 10 for h in range(5)}


SPLIT = """
EXECUTE STATEMENT SET BEGIN
  INSERT INTO split_counts
    SELECT 'captured' AS kind, COUNT(*) AS n FROM kinds_payments WHERE captured;
  INSERT INTO split_counts
    SELECT 'not captured' AS kind, COUNT(*) AS n FROM kinds_payments WHERE NOT captured;
END;
"""


def test_statement_set_writes_one_output_table(
    kappa: Magic, events: list[dict[str, object]], stack: EmbeddedStack
) -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="add --key"):
        kappa("job split_counts", SPLIT)  # two updating branches: no key to infer
    job_version = kappa("job split_counts --key kind", SPLIT).job_version
    assert job_version.updating and job_version.key == ("kind",)
    run = kappa("replay split_counts --until latest")
    rest = FlinkRest(stack.endpoints().flink_rest_url)
    assert rest.wait_for_state(run.run.flink_job_id, timeout=180) == "FINISHED"
    captured = sum(1 for e in events if e["captured"])
    frame = fresh_workbench(stack).read("split_counts").collect()
    assert dict(zip(frame["kind"], frame["n"], strict=True)) == {
        "captured": captured,
        "not captured": len(events) - captured,
    }


def test_sources_are_the_tables_the_plan_reads_not_words_that_look_like_them(
    kappa: Magic,
) -> None:
    kappa("topic aliasword.source.v1 --schema payments --table alias_source")
    kappa("topic aliasword.other.v1 --schema payments --table alias_other")
    job_version = kappa(
        "job alias_counts",
        "SELECT merchant_id, COUNT(*) AS alias_other  -- alias_other is also a table's name\n"
        "FROM alias_source GROUP BY merchant_id",
    ).job_version
    assert job_version.sources == ("aliasword.source.v1",)  # the alias is not a source
