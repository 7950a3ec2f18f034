"""What `up`, `down` and `status` report: plain data with text, JSON and HTML views."""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any

from kappanb.display.html import Raw, html_table, link, path
from kappanb.display.plain import plain_text


@dataclass(frozen=True)
class ServiceStatus:
    """One service of the stack as seen now."""

    name: str
    state: str
    """running | starting | stopped | unhealthy | ready | missing"""
    address: str = ""
    web_ui: str = ""
    pid: int | None = None
    log_file: str = ""
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.state in ("running", "ready")

    def line(self) -> str:
        parts = [f"{self.name:<18}", f"{self.state:<9}", self.address or "-"]
        if self.web_ui and self.web_ui != self.address:
            parts.append(f"web UI {self.web_ui}")
        if self.pid:
            parts.append(f"pid {self.pid}")
        if self.log_file:
            parts.append(f"log {self.log_file}")
        if self.detail:
            parts.append(f"({self.detail})")
        return "  ".join(parts)


@plain_text
@dataclass(frozen=True)
class StackStatus:
    """Every service of one kappanb home."""

    home: str
    services: list[ServiceStatus]
    managed: bool = True
    """kappanb starts and stops these services (the embedded stack); False for a cluster
    a profile names, whose services have no pid kappanb knows."""

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.services)

    @property
    def running(self) -> bool:
        if not self.managed:
            return any(s.healthy for s in self.services)
        return any(s.pid for s in self.services)

    @property
    def flink_healthy(self) -> bool:
        """Flink's REST API answers: the embedded JobManager, or a profile's cluster."""
        return any(s.name in ("flink-jobmanager", "flink") and s.healthy for s in self.services)

    @property
    def flink_web_ui(self) -> str:
        """The address of Flink's web UI and REST API (the JobManager's, or a profile's)."""
        return next((s.web_ui for s in self.services if s.name in ("flink-jobmanager", "flink")
                     and s.web_ui), "")  # fmt: skip

    def service(self, name: str) -> ServiceStatus:
        return next(s for s in self.services if s.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "home": self.home,
            "healthy": self.healthy,
            "services": [asdict(s) for s in self.services],
        }

    def __str__(self) -> str:
        lines = [f"kappanb home {self.home}", *(s.line() for s in self.services)]
        if self.managed and not self.running:
            lines.append("the stack is not running: start it with `kappanb up`")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows: list[list[object]] = []
        for s in self.services:
            colour = "#1a7f37" if s.healthy else "#cf222e"
            state = Raw(f'<span style="color:{colour}">{html.escape(s.state)}</span>')
            # The JobManager's address is its web UI: one link, not the same URL twice.
            if s.web_ui:
                where: object = link(s.web_ui, s.web_ui)
                if s.address and s.address != s.web_ui:
                    where = Raw(f"<code>{html.escape(s.address)}</code> · {where}")
            else:
                where = Raw(f"<code>{html.escape(s.address)}</code>") if s.address else ""
            log = path(s.log_file) if s.log_file else ""
            rows.append([Raw(f"<b>{html.escape(s.name)}</b>"), state, where, s.pid or "",
                         log, s.detail])  # fmt: skip
        table = html_table(["service", "state", "address", "pid", "log", ""], rows)
        return f"<div><small>kappanb home {path(self.home)}</small>{table}</div>"


@plain_text
@dataclass(frozen=True)
class UpResult:
    """What `up` did: the status after it, what it started, what was already running."""

    status: StackStatus
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    runs: list[str] = field(default_factory=list)
    """Runs `up` resumed (suspended by `down`, or lost by a crashed cluster)."""
    removals: list[str] = field(default_factory=list)
    """What its sweep of retired tables did (tables removed, removals called off)."""
    views: list[str] = field(default_factory=list)
    """Serving views it pointed at what the registry serves (`serving.view_repair`)."""

    def __str__(self) -> str:
        lines = [*self.notes, str(self.status)]
        if self.started:
            lines.append(f"started {', '.join(self.started)} in {self.seconds:.1f} s")
        else:
            lines.append(f"already running; nothing started ({self.seconds:.1f} s)")
        return "\n".join([*lines, *self.runs, *self.removals, *self.views])

    def _repr_html_(self) -> str:
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        tail = (
            f"started {', '.join(self.started)} in {self.seconds:.1f} s"
            if self.started
            else "already running; nothing started"
        )
        done = [*self.runs, *self.removals, *self.views]
        runs = "".join(f"<div>{html.escape(r)}</div>" for r in done)
        return (
            notes + self.status._repr_html_() + f"<div><small>{html.escape(tail)}</small></div>"
            + runs
        )  # fmt: skip


@plain_text
@dataclass(frozen=True)
class DownResult:
    """How each service ended: stopped, killed (after the timeout), not running, stale."""

    outcomes: dict[str, str]
    seconds: float = 0.0
    runs: list[str] = field(default_factory=list)
    """Runs `down` suspended with a savepoint first (`up` resumes them)."""

    def __str__(self) -> str:
        lines = [f"{name:<18} {outcome}" for name, outcome in self.outcomes.items()]
        return "\n".join([*self.runs, *lines, f"done in {self.seconds:.1f} s"])

    def _repr_html_(self) -> str:
        runs = "".join(f"<div>{html.escape(r)}</div>" for r in self.runs)
        table = html_table(["service", "outcome"], [list(p) for p in self.outcomes.items()])
        return f"{runs}{table}<div><small>done in {self.seconds:.1f} s</small></div>"
