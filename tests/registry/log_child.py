"""Another machine's kappanb, for the shared registry's tests: one process, one cache.

    python -m tests.registry.log_child BROKERS TOPIC CACHE COMMAND [ARGS...]

``write``: declares a topic, defines a version, records a run and its first switch.
``read``: prints what it sees (JSON). ``race JOB COMMAND GO_FILE``: waits for GO_FILE,
then asks for the job's lock; prints ``won`` (and holds it until stdin closes) or
``busy <refusal>``. ``hold JOB COMMAND LEASE_SECONDS``: holds the lock until killed.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from kappanb.exceptions import JobBusyError
from kappanb.kafka.connection import KafkaConnection
from kappanb.registry.log import RegistryLog
from kappanb.registry.records import TopicSpec
from kappanb.registry.shared import LogRegistry
from tests.registry.test_store import _draft, _run


def seen(registry: LogRegistry) -> dict[str, Any]:
    """What a registry shows, as plain data (the same in every process)."""
    return {
        "topics": [t.name for t in registry.topics()],
        "versions": [[v.job, v.version, v.digest, v.created_at] for v in registry.versions()],
        "runs": [[r.id, r.job, r.version, r.state] for r in registry.runs()],
        "switches": [[s.id, s.to_version, s.kind, s.at] for s in registry.switches("j")],
    }


def main(brokers: str, topic: str, cache: str, command: str, *args: str) -> None:
    lease = float(args[2]) if command == "hold" else 30.0
    registry = LogRegistry(RegistryLog(KafkaConnection.plain(brokers), topic), Path(cache), lease)
    if command == "write":
        registry.put_topic(TopicSpec("child.pay", "child_pay", ()))
        job_version, _ = registry.add_version(_draft("j", "child"))
        run = registry.add_run(replace(_run("j", job_version.version), flink_job_id="f1"))
        registry.switch(
            "j", job_version.version, run.table, kind="first live run", expect_from=None
        )
        print(json.dumps(seen(registry)), flush=True)
    elif command == "read":
        print(json.dumps(seen(registry)), flush=True)
    elif command == "race":
        job, what, go = args
        while not Path(go).exists():
            time.sleep(0.005)
        try:
            with registry.job_lock(job, what):
                print("won", flush=True)
                sys.stdin.read()  # until the test closes it
        except JobBusyError as refused:
            print(f"busy {refused}", flush=True)
    elif command == "hold":
        with registry.job_lock(args[0], args[1]):
            print("held", flush=True)
            time.sleep(600)


if __name__ == "__main__":
    main(*sys.argv[1:])
