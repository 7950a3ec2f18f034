"""The forget report as text (the CLI) and HTML (the notebook): counts, tombstones, the
versions to replay, the log against the deadline; no I/O."""

from __future__ import annotations

from kappanb.history.forget_deadline import DAY_MS, LogDeadline, LogPolicy
from kappanb.history.forget_report import DerivedTable, ForgetReport, Tombstones
from kappanb.tables.expiry import Expired

NOW = 1_800_000_000_000


def report(**changes: object) -> ForgetReport:
    fields: dict[str, object] = dict(
        topic="rides.v1", where="driver_id = 'd<42>'", archive="archive__rides", deleted=12,
        files_rewritten=2, files_dropped=1, snapshot_id=77, left=0, unarchived=0,
        tombstones=Tombstones(True, written=2, keyless=1),
        derived=(
            DerivedTable("by_driver", 1, "by_driver__v1", 1, "1 row(s) match the condition"),
            DerivedTable("by_driver", 1, "by_driver__v1_b", 0, "no row matches, but ..."),
            DerivedTable("totals", 2, "totals__v2", None, "no column driver_id: ..."),
        ),
        log=LogDeadline("rides.v1", LogPolicy("delete", -1), 30 * DAY_MS, NOW, 12, NOW - DAY_MS),
    )  # fmt: skip
    fields.update(changes)
    return ForgetReport(**fields)  # type: ignore[arg-type]


def test_the_text_says_what_was_deleted_what_to_replay_and_when_the_log_forgets() -> None:
    text = str(report())
    assert (
        "archive archive__rides: 12 event(s) deleted (2 file(s) rewritten, 1 dropped; "
        "snapshot 77); its current snapshot holds 0 matching" in text
    )
    assert (
        "tombstones: 2 written (one per key and partition); 1 matching event(s) had no key" in text
    )
    assert (
        "replay by_driver v1 --from archive" in text and "replay totals v2 --from archive" in text
    )
    assert report().replays == ["replay by_driver v1 --from archive",
                                "replay totals v2 --from archive"]  # fmt: skip
    assert "12 matching event(s) still in the log: no time is bound; WARNING" in text
    assert "WARNING: the archive" not in text
    assert "earlier snapshots still hold them (time travel) until expired" in text
    assert "history: 3 earlier snapshot(s) expired, 2 file(s) deleted" in str(
        report(history=Expired(3, 2))
    )


def test_an_archive_behind_the_log_and_a_topic_not_compacted_are_said() -> None:
    text = str(report(unarchived=5, tombstones=Tombstones(False), derived=()))
    assert "the archive is 5 record(s) behind the log" in text and "`forget` again" in text
    assert "tombstones: none (the topic is not compacted" in text
    assert "no job version reads this topic: nothing to replay" in text


def test_the_html_is_a_table_with_every_value_escaped() -> None:
    html = report()._repr_html_()
    assert html.count("<tr>") == 4 + 4 and "by_driver__v1_b" in html  # facts, then outputs
    assert "<td" in html.split("archive archive__rides")[0] and "12 event(s) deleted" in html
    assert "d&lt;42&gt;" in html and "d<42>" not in html
    assert "replay totals v2 --from archive" in html and "WARNING" in html
