"""The session's embedded stack with its registry on its own Kafka, as a cluster profile
keeps it: a stand-in for two machines on one cluster without starting a cluster.

    python -m tests.registry.log_stack HOME TOPIC CACHE JOB VERSION

is the other machine's notebook: a Workbench on that stack that promotes JOB to VERSION,
says ``promoting`` once it holds the job, and waits for its stdin to close before it
switches (as a real promote waits for its version to catch up).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from kappanb.registry.open import RegistryLogPlace
from kappanb.registry.records import RunRecord, Switch
from kappanb.serving.serving import Serving
from kappanb.settings import StackSettings
from kappanb.stack.base import StackPlaces
from kappanb.stack.embedded import EmbeddedStack
from kappanb.workbench import Workbench


class LogRegistryStack(EmbeddedStack):
    """The embedded stack, its registry a Kafka log (``topic``) cached in ``cache``."""

    def __init__(self, settings: StackSettings, topic: str, cache: Path) -> None:
        super().__init__(settings)
        self.topic, self.cache = topic, cache

    @property
    def places(self) -> StackPlaces:
        log = RegistryLogPlace(self.endpoints().kafka, self.topic)
        return replace(super().places, registry_db=self.cache, registry_log=log)


def _held_promote(
    self: Serving, job: str, version: int, current: Switch | None, *, force: bool = False,
    reason: str = "",
) -> Switch:  # fmt: skip
    print("promoting", flush=True)
    sys.stdin.read()  # "catching up" until the test says so
    expect = current.to_version if current else None
    return self.registry.switch(job, version, f"{job}__v{version}", kind="promote",
                                expect_from=expect, reason=reason, forced=force)  # fmt: skip


def main(home: str, topic: str, cache: str, job: str, version: str) -> None:
    stack = LogRegistryStack(StackSettings(home=Path(home)), topic, Path(cache))
    wb = Workbench(stack=stack, auto_up=False)
    seen = [f"{v.job} v{v.version}" for v in wb.jobs().job_versions]
    print(f"sees {', '.join(seen)}", flush=True)
    Serving.promote = _held_promote  # type: ignore[method-assign]
    print(wb.promote(job, int(version)), flush=True)


def a_run(job: str, version: int) -> RunRecord:
    return RunRecord(0, job, version, "live", f"{job}__v{version}", f"kappanb.{job}.v{version}",
                     "earliest", None, "f" * 32, "RUNNING", "2026-03-04 12:00:00 UTC")  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
