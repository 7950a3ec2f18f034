"""Write the notebook whose `%kappa watch` panel docs/watch-panel.png shows.

Usage: python make_notebook.py OUT.ipynb [EVENTS]

The README's tour, sized so that the v2 replay is still catching up while the panel is
on screen. v1 is allowed to catch up first (a live job has long caught up when its fix
is replayed), so the panel shows v1 at the head and v2 climbing towards it.
"""

from __future__ import annotations

import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

TOPIC = "shot.payments.v1"

V1 = """%%kappa job daily_merchants
SELECT CAST(event_time AS DATE) AS `day`, COUNT(DISTINCT merchant_id) AS merchants
FROM payments WHERE NOT captured GROUP BY CAST(event_time AS DATE)"""

V2 = """%%kappa job daily_merchants --note "fix inverted flag"
SELECT CAST(event_time AS DATE) AS `day`, COUNT(DISTINCT merchant_id) AS merchants
FROM payments WHERE captured GROUP BY CAST(event_time AS DATE)"""


def notebook(events: int) -> nbformat.NotebookNode:
    cells = [
        "%load_ext kappanb",
        "%kappa up",
        f"%kappa topic {TOPIC} --schema payments --event-time event_time --watermark '30 s' "
        "--partitions 4 --table payments",
        f"%kappa produce {TOPIC} --generator payments --count {events} --seed 7",
        V1,
        "v1 = %kappa run daily_merchants --quiet",
        "from kappanb import Workbench\n\n"
        "print('v1 caught up:', Workbench().watch('daily_merchants').wait(timeout=1800))",
        V2,
        "%kappa replay daily_merchants --quiet",
        "%kappa watch daily_merchants",
    ]
    nb = new_notebook(cells=[new_code_cell(src) for src in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }  # fmt: skip
    return nb


def main() -> None:
    out = sys.argv[1]
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
    nbformat.write(notebook(events), out)
    print(f"wrote {out} ({events:,} events)")


if __name__ == "__main__":
    main()
