"""What `job` returns: the version a definition resolved to, and whether it is new."""

from __future__ import annotations

from kappanb.display.plain import plain_text
from kappanb.registry.records import JobVersion


@plain_text
class VersionResult:
    """The version a `job` definition resolved to, and whether it is new."""

    def __init__(self, job_version: JobVersion, created: bool) -> None:
        self.job_version, self.created = job_version, created

    def _verb(self) -> str:
        return "defined" if self.created else "unchanged, still"

    def __str__(self) -> str:
        v = self.job_version
        return f"{v.job} {v.label} {self._verb()} ({len(v.output)} output columns)"

    def _repr_html_(self) -> str:
        v = self.job_version
        return f"<p>{v.job} <b>{v.label}</b> {self._verb()}</p>" + v._repr_html_()
