"""What `kappanb cluster up|status` report: the services (the stack's `ServiceStatus` lines)
and the profile file that reaches them."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from kappanb.cluster.layout import PROFILE_NAME
from kappanb.display.plain import plain_text
from kappanb.stack.status import ServiceStatus


@plain_text
@dataclass(frozen=True)
class ClusterStatus:
    """Every service of one local cluster, as seen now."""

    home: str
    services: list[ServiceStatus]
    profile_file: str

    @property
    def healthy(self) -> bool:
        return all(s.healthy for s in self.services)

    @property
    def running(self) -> bool:
        return any(s.pid for s in self.services)

    @property
    def exit_code(self) -> int:
        """The CLI's: 0 when every service is healthy, else 3 (as `kappanb status`)."""
        return 0 if self.healthy else 3

    def service(self, name: str) -> ServiceStatus:
        return next(s for s in self.services if s.name == name)

    def usage(self) -> str:
        return f"KAPPANB_CONFIG={self.profile_file} kappanb --profile {PROFILE_NAME} status"

    def to_dict(self) -> dict[str, Any]:
        return {"home": self.home, "healthy": self.healthy, "profile_file": self.profile_file,
                "services": [vars(s) for s in self.services]}  # fmt: skip

    def __str__(self) -> str:
        lines = [f"local cluster {self.home}", *(s.line() for s in self.services)]
        if not self.running:
            lines.append("the local cluster is not running: start it with `kappanb cluster up`")
        else:
            lines.append(f"profile {PROFILE_NAME}: {self.usage()}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td><b>{html.escape(s.name)}</b></td>"
            f'<td style="color:{"#1a7f37" if s.healthy else "#cf222e"}">{html.escape(s.state)}'
            f"</td><td><code>{html.escape(s.address)}</code></td><td>{s.pid or ''}</td>"
            f"<td>{html.escape(s.detail)}</td></tr>"
            for s in self.services
        )
        return (
            f"<div><small>local cluster <code>{html.escape(self.home)}</code></small><table>"
            "<thead><tr><th>service</th><th>state</th><th>address</th><th>pid</th><th></th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
            f"<small><code>{html.escape(self.usage())}</code></small></div>"
        )


@plain_text
@dataclass(frozen=True)
class ClusterUpResult:
    """What `cluster up` did: the status after it, what it started, what already ran."""

    status: ClusterStatus
    started: list[str] = field(default_factory=list)
    already_running: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    def __str__(self) -> str:
        lines = [*self.notes, str(self.status)]
        if self.started:
            lines.append(f"started {', '.join(self.started)} in {self.seconds:.1f} s")
        else:
            lines.append(f"already running; nothing started ({self.seconds:.1f} s)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        tail = (f"started {', '.join(self.started)} in {self.seconds:.1f} s" if self.started
                else "already running; nothing started")  # fmt: skip
        return notes + self.status._repr_html_() + f"<div><small>{html.escape(tail)}</small></div>"
