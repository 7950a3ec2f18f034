"""Caught-up verdicts shared between the processes of one home.

A notebook's watch judges a run caught up by its rule (`kappanb.monitor.history`); the
Jupyter server's panel polls the same run and judges it by the same rule, but from fewer
samples, so it said "catching up" while the cell said "caught up". The watch records its
verdict here (one empty file per run and Flink job), and the panel takes it while the run
stays close to the head: one verdict, whichever process reached it first.
"""

from __future__ import annotations

from pathlib import Path


class CaughtUpVerdicts:
    """One folder of a home: ``RUN-FLINKJOB`` files, each a run judged caught up."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, run_id: int, flink_job_id: str) -> Path:
        return self.folder / f"{run_id}-{flink_job_id}"

    def record(self, run_id: int, flink_job_id: str) -> None:
        """Say that the run (as this Flink job: a resumed run is judged afresh) caught up."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._file(run_id, flink_job_id).touch()
        except OSError:  # a verdict others cannot see: each view still judges by itself
            return

    def said(self, run_id: int, flink_job_id: str) -> bool:
        return self._file(run_id, flink_job_id).exists()
