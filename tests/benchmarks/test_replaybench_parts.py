"""Units of the replay benchmark: profile categories, thread roles, the perf tool's summary."""

from __future__ import annotations

from benchmarks.replaybench.profile import category, cpu_groups, thread_group
from benchmarks.replaybench.stages import _perf_tool_summary
from benchmarks.replaybench.workloads import WORKLOADS, hand_written_sql


def test_a_sample_belongs_to_its_innermost_known_frame() -> None:
    json_under_hashmap = [
        "java.util.HashMap$TreeNode.find",
        "org.apache.flink.formats.json.JsonParserRowDataDeserializationSchema.deserialize",
        "org.apache.flink.kafka.shaded.org.apache.kafka.clients.consumer.KafkaConsumer.poll",
    ]
    assert category(json_under_hashmap) == "JSON decoding"
    assert category(json_under_hashmap[2:]) == "Kafka consumer (fetch, decompress)"
    assert category(["StreamExecCalc$12.processElement"]).startswith("SQL operators")
    assert category(["org.apache.flink.metrics.SimpleCounter.inc"]).startswith("Flink runtime")
    assert category(["java.lang.Thread.run"]).startswith("JVM and libraries")


def test_thread_roles_drop_instance_numbers() -> None:
    assert (
        thread_group("Source: bench_20261121210148[1] -> Calc[2] (1/2)#0")
        == "Source: bench -> Calc"
    )
    assert thread_group("GC Thread#1") == "GC Thread"


def test_threads_that_came_and_went_get_the_rest_of_the_process_cpu() -> None:
    groups = cpu_groups({"GC Thread#0": 1.0, "C2 CompilerThre": 2.0},
                        {"GC Thread#0": 1.5, "C2 CompilerThre": 5.0}, process_s=10.0)  # fmt: skip
    assert groups == {
        "threads that came and went (the job's tasks)": 6.5,
        "JIT compiler": 3.0,
        "garbage collection": 0.5,
    }


def test_the_perf_tool_summary_gives_messages_and_rate() -> None:
    out = (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
        "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
        "2026-11-21 21:01:00:000, 2026-11-21 21:01:03:000, 870.1, 290.0, 5000000, "
        "1666666.7, 300, 2700, 322.3, 1851851.9\n"
    )
    assert _perf_tool_summary(out) == (5_000_000, 1666666.7)


def test_the_hand_written_script_is_complete_and_names_no_kappanb_module() -> None:
    script = hand_written_sql(
        WORKLOADS["daily_merchants"], topic="t.v1", source="src", bootstrap="127.0.0.1:9092",
        catalog="kappanb", catalog_uri="jdbc:sqlite:/x.db", warehouse_uri="file:///w",
        table="hand_daily", job_name="hand daily", parallelism=2, checkpoint_interval="10 s",
    )  # fmt: skip
    assert "PRIMARY KEY (pay_day) NOT ENFORCED" in script
    assert "'write.upsert.enabled' = 'true'" in script
    assert "SET 'parallelism.default' = '2';" in script
    assert "FROM src GROUP BY CAST(event_time AS DATE);" in script
