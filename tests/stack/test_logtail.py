from __future__ import annotations

from pathlib import Path

from kappanb.stack.logtail import failure_excerpt, last_lines, relevant_lines
from kappanb.stack.process import START_MARKER

_EARLIER_START = f"""{START_MARKER} kafka at Sat Dec  5 01:16:08 2026 ---
[2026-12-05 01:16:09,001] ERROR an old failure, fixed since (kafka.Kafka$)
"""

_FAILED_START = (
    f"{START_MARKER} kafka at Sat Dec  5 01:16:26 2026 ---\n"
    "[2026-12-05 01:16:27,000] INFO KafkaConfig values: \n"
    + "".join(f"\tsetting.number.{i} = {i}\n" for i in range(300))
    + " (org.apache.kafka.common.config.AbstractConfig)\n"
    "[2026-12-05 01:16:29,997] ERROR [BrokerServer id=1] Fatal error during broker startup."
    " Prepare to shutdown (kafka.server.BrokerServer)\n"
    "org.apache.kafka.common.KafkaException: Failed to acquire lock on file .lock in /d.\n"
    + "".join(f"\tat kafka.log.LogManager.frame{i}(LogManager.scala:{i})\n" for i in range(14))
    + "[2026-12-05 01:16:30,174] ERROR Exiting Kafka due to fatal exception during startup."
    " (kafka.Kafka$)\n"
    "org.apache.kafka.common.KafkaException: Failed to acquire lock on file .lock in /d.\n"
    + "".join(f"[2026-12-05 01:16:30,5{i:02}] INFO shutting down part {i} (x)\n" for i in range(80))
)


def test_a_failed_start_is_explained_by_its_errors_not_its_last_lines() -> None:
    lines = relevant_lines(_EARLIER_START + _FAILED_START)
    assert lines == [
        "[2026-12-05 01:16:29,997] ERROR [BrokerServer id=1] Fatal error during broker "
        "startup. Prepare to shutdown (kafka.server.BrokerServer)",
        "org.apache.kafka.common.KafkaException: Failed to acquire lock on file .lock in /d.",
        "[2026-12-05 01:16:30,174] ERROR Exiting Kafka due to fatal exception during startup."
        " (kafka.Kafka$)",
    ]


def test_at_most_the_last_lines_asked_for_and_the_plain_tail_when_nothing_stands_out() -> None:
    errors = "".join(f"Error: problem {i}\n" for i in range(40))
    assert relevant_lines(errors, lines=15) == [f"Error: problem {i}" for i in range(25, 40)]
    routine = "".join(f"2026-12-05 01:16:30,000 INFO  step {i}\n" for i in range(40))
    assert relevant_lines(routine, lines=3) == [
        f"2026-12-05 01:16:30,000 INFO  step {i}" for i in (37, 38, 39)
    ]


def test_the_jvm_s_own_complaint_is_kept() -> None:
    text = (
        f"{START_MARKER} kafka at now ---\nInvalid initial heap size: -Xmslots\n"
        "Error: Could not create the Java Virtual Machine.\n"
    )
    assert relevant_lines(text) == [
        "Invalid initial heap size: -Xmslots",
        "Error: Could not create the Java Virtual Machine.",
    ]


def test_failure_excerpt_ends_with_the_log_s_path(tmp_path: Path) -> None:
    log = tmp_path / "kafka.log"
    log.write_text(_EARLIER_START + _FAILED_START)
    excerpt = failure_excerpt(log)
    assert excerpt.splitlines()[-1] == f"full log: {log}"
    assert len(excerpt.splitlines()) == 4 and "an old failure" not in excerpt
    assert failure_excerpt(tmp_path / "absent.log").startswith("  (the log is empty)")
    assert last_lines(log, 2).splitlines() == [
        "[2026-12-05 01:16:30,578] INFO shutting down part 78 (x)",
        "[2026-12-05 01:16:30,579] INFO shutting down part 79 (x)",
    ]
