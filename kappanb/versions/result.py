"""What `job` returns: the version a definition resolved to, and whether it is new."""

from __future__ import annotations

from kappanb.display.plain import plain_text
from kappanb.registry.records import JobVersion


@plain_text
class VersionResult:
    """The version a `job` definition resolved to, and whether it is new."""

    def __init__(self, job_version: JobVersion, created: bool) -> None:
        self.version, self.created = job_version, created

    def _verb(self) -> str:
        return "defined" if self.created else "unchanged, still"

    def __str__(self) -> str:
        v = self.version
        return f"{v.job} {v.label} {self._verb()} ({len(v.output)} output columns)"

    def _repr_html_(self) -> str:
        return f"<p>{self.version.job} <b>{self.version.label}</b> {self._verb()}</p>" + (
            self.version._repr_html_()
        )
