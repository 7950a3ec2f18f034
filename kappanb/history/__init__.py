"""A topic's history: where its records live (the Kafka log, the archive table) and what
is done with that history, apart from running jobs on it.

`retention_report` is the retention report's figures (how far back the log reaches, what
an archive holds, replay headroom); `archive_report` what `archive` shows; `archive_replay`
the checks and handoffs of a replay from the archive; `forget`, `forget_commands`,
`forget_report` and `forget_deadline` a deletion request (`forget TOPIC --where ...`) and
how long the log keeps the forgotten events; `past_cut` records a sealed topic version got
after its cut.

It sits below `kappanb.runs`: runs import it, never the other way round. What needs a
run's control or figures stays in `runs` (`archive`, the archive's own run; `retention`,
which reads runs' positions and checks a replay's start against the log).
"""
