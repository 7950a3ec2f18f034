"""Old tables go away when it is safe: the sweep that removes retired tables whose grace
period has passed (`retire --remove-after`), and how removals show.

The registry decides (`registry.removals`): a removal is due on the registry's clock, and
never while its version is served or the rollback target. The sweep, holding the job's
lock (so no promote or rollback of that job runs meanwhile), claims each removal that
looks due: the claim re-checks at that moment and either calls it off (saying why) or
lets it go ahead; then the sweep drops the table from the catalog, with its files, and
records it removed. A sweep that dies between the two leaves the removal claimed, and the
next sweep checks and drops again (dropping a table that is gone does nothing).

It needs the registry and the catalog only, no Flink, so `up` runs it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from kappanb.display.html import html_table, text_table
from kappanb.display.plain import plain_text
from kappanb.exceptions import JobBusyError
from kappanb.registry.base import Registry, time_text
from kappanb.registry.records import Removal
from kappanb.tables.catalog import Catalog, drop_table

REMOVAL_HEADERS = ["table", "version", "scheduled", "due", "state", "when", "note"]


def removal_rows(removals: list[Removal]) -> list[list[object]]:
    """The rows of a table of removals (for `history` and the sweep)."""
    return [
        [r.table, f"v{r.version}", r.scheduled_at, time_text(r.due_ms), r.state,
         r.done_at or "-", r.note or "-"]
        for r in removals
    ]  # fmt: skip


def removal_text(removals: list[Removal]) -> str:
    return text_table(REMOVAL_HEADERS, removal_rows(removals))


def removal_html(removals: list[Removal]) -> str:
    return html_table(REMOVAL_HEADERS, removal_rows(removals))


@plain_text
@dataclass(frozen=True)
class Swept:
    """What a sweep did: the tables it removed, the removals it called off (and why), the
    ones still waiting for their grace period, and those of jobs busy with a command."""

    removed: list[Removal] = field(default_factory=list)
    cancelled: list[Removal] = field(default_factory=list)
    waiting: list[Removal] = field(default_factory=list)
    busy: list[Removal] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One line per removal it touched or that waits (none when there are none)."""
        return (
            [f"removed {r.table} ({r.job} v{r.version}, retired {r.scheduled_at})"
             for r in self.removed]
            + [f"kept {r.table}: {r.note}" for r in self.cancelled]
            + [f"{r.table} waits: another command is changing {r.job}; the next `sweep` "
               "removes it" for r in self.busy]
            + [f"{r.table} is removed after {time_text(r.due_ms)}" for r in self.waiting]
        )  # fmt: skip

    def __str__(self) -> str:
        return "\n".join(self.lines()) or "no retired table is scheduled for removal"

    def _repr_html_(self) -> str:
        rows = [*self.removed, *self.cancelled, *self.busy, *self.waiting]
        if not rows:
            return f"<i>{escape(str(self))}</i>"
        return "<b>sweep of retired tables</b>" + removal_html(rows)


def sweep(registry: Registry, catalog: Catalog) -> Swept:
    """Remove the retired tables that are due and still safe to remove; call off the
    removals that no longer are."""
    removed: list[Removal] = []
    cancelled: list[Removal] = []
    busy: list[Removal] = []
    for due in registry.due_removals():
        try:
            with registry.job_lock(due.job, f"sweep {due.table}"):
                claimed = registry.claim_removal(due.id)
                if claimed.state == "removing":
                    drop_table(catalog, claimed.table)
                    removed.append(registry.finish_removal(claimed.id))
                elif claimed.state == "cancelled":
                    cancelled.append(claimed)
        except JobBusyError:
            busy.append(due)
    touched = {r.id for r in (*removed, *cancelled, *busy)}
    waiting = [r for r in registry.removals() if r.pending and r.id not in touched]
    return Swept(removed, cancelled, waiting, busy)
