"""When the log drops forgotten events, against the deadline: the arithmetic, no I/O."""

from __future__ import annotations

from kappanb.history.forget_deadline import DAY_MS, LogDeadline, LogPolicy

NOW = 1_800_000_000_000
HOUR = 3_600_000


def deadline(policy: LogPolicy, newest_ms: int | None = NOW - DAY_MS, in_log: int = 3,
             within: int = 30 * DAY_MS) -> LogDeadline:  # fmt: skip
    return LogDeadline("rides.v1", policy, within, NOW, in_log, newest_ms)


def test_retention_plus_a_segment_bounds_a_delete_policy_log() -> None:
    week = LogPolicy("delete", retention_ms=7 * DAY_MS, segment_ms=DAY_MS)
    d = deadline(week)
    assert d.gone_by_ms == NOW - DAY_MS + DAY_MS + 7 * DAY_MS
    assert d.meets and not d.too_long
    assert "within the deadline" in "\n".join(d.lines())


def test_a_log_kept_forever_never_drops_them_and_says_how_to_lower_it() -> None:
    d = deadline(LogPolicy("delete", retention_ms=-1))  # segments roll weekly (default)
    assert d.gone_by_ms is None and not d.meets and d.too_long
    text = "\n".join(d.lines())
    assert "no time is bound; WARNING: past the deadline" in text
    assert "`topic rides.v1 --schema ... --retention 23d`" in text  # 30 d less a 7 d segment


def test_retention_longer_than_the_deadline_warns_even_when_these_events_go_in_time() -> None:
    long = LogPolicy("delete", retention_ms=40 * DAY_MS, segment_ms=DAY_MS)
    old = deadline(long, newest_ms=NOW - 35 * DAY_MS)
    assert old.meets and old.too_long  # they go in 6 days; the next request's would not
    assert "--retention 29d" in "\n".join(old.lines())
    assert not deadline(long, newest_ms=NOW - HOUR).meets


def test_a_segment_longer_than_the_deadline_needs_kafka_configs() -> None:
    d = deadline(LogPolicy("delete", retention_ms=HOUR, segment_ms=7 * DAY_MS), within=DAY_MS)
    assert not d.meets
    assert "segment.ms (7.0 days) alone exceeds the deadline" in "\n".join(d.lines())


def test_compaction_is_bounded_only_by_max_compaction_lag() -> None:
    unbounded = deadline(LogPolicy("compact", retention_ms=-1))
    assert unbounded.gone_by_ms is None and not unbounded.meets
    text = "\n".join(unbounded.lines())
    assert "max.compaction.lag.ms no bound" in text
    assert "--add-config max.compaction.lag.ms=" in text and "tombstones (they carry" in text
    bounded = deadline(LogPolicy("compact", retention_ms=-1, max_compaction_lag_ms=2 * DAY_MS))
    assert bounded.gone_by_ms == NOW + DAY_MS and bounded.meets
    both = LogPolicy("compact,delete", retention_ms=DAY_MS, segment_ms=HOUR)
    assert deadline(both).gone_by_ms == NOW - DAY_MS + HOUR + DAY_MS


def test_events_no_longer_in_the_log_are_gone_now() -> None:
    d = deadline(LogPolicy("delete", retention_ms=-1), newest_ms=None, in_log=0)
    assert d.gone_by_ms == NOW and d.meets
    assert "none of the matching events is in the log any more" in "\n".join(d.lines())
