"""The command tests/binder/test_binder.py gives `binder/start` in place of JupyterLab.

Run by the fresh virtual environment's `python` with that environment's kappanb: it does
what the first notebook cell does (`kappanb up`, while start's own `up` is still going),
waits until the stack is healthy and start's background `up` has reported, then produces
one event to Kafka and reads it back, and asks Flink how many task slots it has. Prints
one JSON line of what it saw; the test asserts on it. Usage: stack_probe.py LOG_FILE
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kappanb

TIMEOUT = 300.0
START_OUTCOMES = ("binder/start: stack up", "binder/start: kappanb up failed")


def kappanb_cli() -> str:
    cli = shutil.which("kappanb")
    if cli is None:
        raise SystemExit("kappanb is not on PATH")
    return cli


def wait_healthy(cli: str, deadline: float) -> dict[str, Any]:
    """`kappanb status --json` until it exits 0 (healthy), or its last answer at the deadline."""
    while True:
        status = subprocess.run([cli, "status", "--json"], capture_output=True, text=True)
        if status.returncode == 0 or time.monotonic() > deadline:
            answer: dict[str, Any] = json.loads(status.stdout)
            answer["exit_code"] = status.returncode
            return answer
        time.sleep(2)


def wait_start_outcome(log: Path, deadline: float) -> str:
    """The line binder/start's background `up` ends its log with (it must be done before
    the test stops the stack, or a retry of it could start the stack again)."""
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.is_file() else []
        done = [line for line in lines if line.startswith(START_OUTCOMES)]
        if done:
            return done[-1]
        time.sleep(1)
    return ""


def kafka_round_trip(bootstrap: str) -> tuple[str, str | None]:
    """Produce one event to a new topic and read it back from offset 0."""
    topic, value = "binder.probe", uuid.uuid4().hex
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, value.encode())
    if producer.flush(30) != 0:
        return value, None
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "binder-probe", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    read, deadline = None, time.monotonic() + 60
    while read is None and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            read = (message.value() or b"").decode()
    consumer.close()
    return value, read


def main(log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    cli = kappanb_cli()
    seen: dict[str, Any] = {
        "python": sys.executable,
        "kappanb_cli": cli,
        "kappanb_module": kappanb.__file__,
    }
    first_cell = subprocess.run([cli, "up"], capture_output=True, text=True)
    seen["concurrent_up"] = {"exit_code": first_cell.returncode, "stderr": first_cell.stderr}
    status = wait_healthy(cli, deadline)
    seen["status_exit_code"] = status["exit_code"]
    seen["start_outcome"] = wait_start_outcome(log, deadline)
    if status["exit_code"] == 0:
        services = {s["name"]: s for s in status["services"]}
        seen["sent"], seen["read"] = kafka_round_trip(services["kafka"]["address"])
        rest = services["flink-jobmanager"]["address"]
        with urllib.request.urlopen(f"{rest}/overview", timeout=10) as answer:
            seen["flink_slots"] = json.load(answer)["slots-total"]
    print(json.dumps(seen))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
