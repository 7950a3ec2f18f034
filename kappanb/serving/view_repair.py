"""Serving views that disagree with the registry, mended by `up`.

A job's Iceberg view is replaced inside each switch (`kappanb.tables.serving_view`), but
it can still disagree with the registry's alias:

- a job served before kappanb made views has none until its next switch;
- on a cluster profile the catalog's step of a switch comes before the switch is written
  to the registry's log, and a crash between the two leaves the view one switch ahead;
- on a REST catalog the view and the namespace property are two calls.

`mend_views` points every served job's view at the table the registry serves, under the
job's lock (so no promote or rollback of that job comes in between), and says what it
changed. The registry is the record: the view follows it, never the other way round.
"""

from __future__ import annotations

from kappanb.exceptions import JobBusyError, KappaError
from kappanb.registry.base import Registry
from kappanb.tables.catalog import Catalog, table_exists
from kappanb.tables.serving_view import publish_serving, serving_view_table


def mend_views(registry: Registry, catalog: Catalog) -> list[str]:
    """Make each served job's view read the table the registry serves; one line per
    view changed (or that could not be), none when all agree."""
    lines: list[str] = []
    if not catalog.table_count():  # no table (or no catalog to ask): nothing to serve from
        return lines
    for job in sorted({v.job for v in registry.versions()}):
        current = registry.serving(job)
        if current is None or serving_view_table(catalog, job) == current.table:
            continue  # the common case, seen without taking the job's lock
        try:
            with registry.job_lock(job, f"up: {job}'s serving view"):
                lines += _mend(registry, catalog, job)
        except JobBusyError:
            lines.append(f"{job}: another command is changing it; the next `up` checks its view")
        except KappaError as exc:
            lines.append(f"{job}: its Iceberg view could not be checked ({exc})")
    return lines


def _mend(registry: Registry, catalog: Catalog, job: str) -> list[str]:
    current = registry.serving(job)  # again, under the lock
    if current is None:
        return []
    shown = serving_view_table(catalog, job)
    if shown == current.table:
        return []
    if not table_exists(catalog, current.table):
        return [f"{job}: the registry serves {current.table}, which the catalog no longer has; "
                "its view is left as it is: promote a version that has its table"]  # fmt: skip
    if not publish_serving(catalog, job, current.table):
        return []  # a catalog without views: the property is set, the warning logged once
    was = "had no view" if shown is None else f"its view read {shown}"
    return [f"{job}: its Iceberg view now reads {current.table}, the served v"
            f"{current.to_version} ({was})"]  # fmt: skip
