"""Wrong input to every subcommand: the line (as `%kappa` or `kappanb` gets it), the error
it must raise, and a phrase of the message that tells the user what to do.

Cases with ``stack=False`` are refused before kappanb needs the stack (tests/commands/
test_bad_input.py, against the registry `SEEDED` describes); ``stack=True`` ones need
Kafka or Flink to find out (test_bad_input_stack.py, against its own small registry
content, named ``bad_*``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kappanb.exceptions import (
    ArchiveNotFoundError,
    CommandLineError,
    CompareError,
    DurationError,
    InvalidNameError,
    JobDefinitionError,
    KappaError,
    ProduceError,
    PromoteError,
    QueryError,
    RunConflictError,
    RunNotFoundError,
    SchemaError,
    StartPositionError,
    UnknownJobError,
    UnknownTopicError,
    UnknownVersionError,
    WhereError,
)

GOOD_SQL = "SELECT merchant_id, COUNT(*) AS n FROM pay_v1 GROUP BY merchant_id"
"""A cell that would define a version, for cases whose fault is elsewhere."""

SEEDED = """
topics: pay.v1 (SQL table pay_v1, event time ts), merchants.v1 (compacted by merchant_id)
jobs:   counts v1 (reads pay.v1, serves v1 from the start), joined v1 (reads both),
        fresh v1 (never ran)
"""


@dataclass(frozen=True)
class Case:
    line: str
    error: type[KappaError]
    says: str
    cell: str | None = None
    stack: bool = False
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def command(self) -> str:
        return self.line.split()[0]


def _c(line: str, error: type[KappaError], says: str, **kw: Any) -> Case:
    return Case(line, error, says, **kw)


USAGE = CommandLineError  # what the parser raises for the magic (the CLI exits with 2)
LONG = "p" * 200

CASES: list[Case] = [
    # ---- the stack ---------------------------------------------------------------------
    _c("setup --force", USAGE, "unrecognized arguments: --force"),
    _c("up --slots 0", USAGE, "must be at least 1, not 0"),
    _c("up --slots many", USAGE, "'many' is not a whole number"),
    _c("down now", USAGE, "unrecognized arguments: now"),
    _c("status counts extra", USAGE, "unrecognized arguments: extra"),
    _c("status nope", UnknownJobError, "Define one with `%%kappa job NAME`", stack=True),
    _c("profile lab extra", USAGE, "unrecognized arguments: extra"),
    _c(
        "profile lab",
        CommandLineError,
        "choose the profile of each command with `kappanb --profile",
    ),
    _c("logs zookeeper", USAGE, "invalid choice: 'zookeeper' (choose from"),
    _c("logs kafka -n 0", USAGE, "must be at least 1, not 0"),
    _c("cluster start", USAGE, "invalid choice: 'start' (choose from"),
    _c("cluster up --port-base 80", USAGE, "must be from 1024 to 55486, not 80"),
    _c("cluster up --port-base 60000", USAGE, "must be from 1024 to 55486, not 60000"),
    _c("cluster status --port-base 20000", CommandLineError, "--port-base is for `cluster up`"),
    # ---- topics: names that would reach Kafka or the DDL -------------------------------
    _c("topic \"it's\" --schema 'a STRING'", InvalidNameError, "use letters, digits, '.', '_'"),
    _c("topic 'pay`ments' --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c("topic 'two words' --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c("topic 'x;DROP TABLE y' --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c("topic 'x/*y*/' --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c("topic 'a\nb' --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c("topic \u0440\u0430y.v1 --schema 'a STRING'", InvalidNameError, "use letters, digits"),
    _c(f"topic {LONG}p --schema 'a STRING'", InvalidNameError, "not a valid topic name"),
    _c(f"topic {LONG} --schema 'a STRING'", InvalidNameError, "give one with --table NAME"),
    _c("topic order --schema 'a STRING'", InvalidNameError, "choose another with --table"),
    _c("topic pay.v2 --schema 'a STRING' --table pay.v2", InvalidNameError, "letters, digits"),
    _c("topic pay.v2 --schema 'a STRING' --table select", InvalidNameError, "reserved word"),
    _c("topic pay.v2 --schema '`a`` b` STRING'", SchemaError, "does not map from JSON; use"),
    _c("topic pay.v2 --schema 'a-b STRING'", SchemaError, "use letters, digits and undersc"),
    # ---- topics: schemas and options that do not fit -----------------------------------
    _c(
        "topic pay.v2 --schema \"a STRING) WITH ('connector'='filesystem'\"",
        SchemaError,
        "use STRING, BOOLEAN, INT",
    ),
    _c("topic pay.v2 --schema ''", SchemaError, "give columns like 'id STRING"),
    _c("topic pay.v2 --schema 'a STRING, a INT'", SchemaError, "appears twice"),
    _c("topic pay.v2 --schema 'a STRING' --event-time ts", SchemaError, "is not in the schema"),
    _c("topic pay.v2 --schema 'a STRING' --event-time a", SchemaError, "must be TIMESTAMP(3)"),
    _c("topic pay.v2 --schema 'a STRING' --watermark '5 s'", SchemaError, "needs --event-time"),
    _c(
        "topic pay.v2 --schema 'ts TIMESTAMP(3)' --event-time ts --watermark soon",
        SchemaError,
        "write e.g. '30 s'",
    ),
    _c("topic pay.v2 --schema 'a STRING' --compact", SchemaError, "add --key COLUMN"),
    _c("topic pay.v2 --schema 'a INT' --compact --key a", SchemaError, "must be a STRING"),
    _c("topic pay.v2 --schema 'a STRING' --key b", SchemaError, "is not a column of the schema"),
    _c("topic pay.v2 --schema 'a STRING' --partitions 0", USAGE, "must be at least 1"),
    _c(
        "topic pay.v2 --schema 'a STRING' --table pay_v1",
        SchemaError,
        "choose another with --table",
    ),
    _c("topic pay.v1 --schema 'a STRING'", SchemaError, "Declare a new topic version instead"),
    _c("topic pay.v2", USAGE, "required: --schema"),
    _c("topic pay.v2 --schema 'a STRING' --retention soon", SchemaError, "write e.g. '7 d'"),
    _c("topic pay.v2 --schema 'a STRING' --retention '0 s'", SchemaError, "not a time to keep"),
    _c(
        "topic pay.v2 --schema 'a STRING' --compact --key a --retention 7d",
        SchemaError,
        "drop --retention or --compact",
    ),
    _c("topics all", USAGE, "unrecognized arguments: all"),
    # ---- retention ---------------------------------------------------------------------
    _c("retention", USAGE, "required: topic"),
    _c("retention nope.v1", UnknownTopicError, "Declare it with `topic"),
    _c("retention pay.v1 --window lately", SchemaError, "is not a duration"),
    _c("retention pay.v1 --window '0 s'", SchemaError, "a time above 0"),
    # ---- archive -----------------------------------------------------------------------
    _c("archive nope.v1", UnknownTopicError, "Declare it with `topic NAME --schema"),
    _c("archive pay.v1 now", USAGE, "unrecognized arguments: now"),
    _c(
        "archive bad.gone.v1",
        UnknownTopicError,
        "Kafka has no such topic (deleted since?): create it first",
        stack=True,
    ),
    _c(
        "archive bad.pay.v1 --stop",
        ArchiveNotFoundError,
        "no archive of bad.pay.v1 is running (never started)",
        stack=True,
    ),
    # ---- forget ------------------------------------------------------------------------
    _c("forget pay.v1", USAGE, "required: --where"),
    _c("forget nope.v1 --where \"merchant_id = 'm1'\"", UnknownTopicError, "Declare it with"),
    _c("forget pay.v1 --where 'merchant_id ='", WhereError, "does not parse as a SQL condition"),
    _c("forget pay.v1 --where '1 = 1'", WhereError, "names no column, so it would match"),
    _c("forget pay.v1 --where ' '", WhereError, "--where is empty: give a SQL condition"),
    _c(
        "forget pay.v1 --where \"merchant_id = 'm1'\" --deadline soon",
        USAGE,
        "is not a grace period",
    ),
    _c(
        "forget pay.v1 --where \"merchant_id = 'm1'\" --deadline 0s",
        DurationError,
        "a deadline is a time above 0",
    ),
    _c(
        "forget pay.v1 --where \"merchant_id = 'm1'\"",
        ArchiveNotFoundError,
        "has no archive, and forget deletes from it (the archive also gives the keys to "
        "tombstone): `archive pay.v1` first",
    ),
    # ---- produce -----------------------------------------------------------------------
    _c("produce nope.v1 --generator payments", UnknownTopicError, "Declare it with `topic"),
    _c("produce pay.v1", USAGE, "needs either SOURCE"),
    _c(
        "produce bad.gone.v1 --generator payments --count 5",
        ProduceError,
        "create it first, e.g. by declaring it (again) with `topic bad.gone.v1 --schema",
        stack=True,
    ),
    _c("produce pay.v1 rows --generator payments", USAGE, "or --generator payments"),
    _c("produce pay.v1 missing", USAGE, "give produce a notebook variable"),
    _c(
        "produce pay.v1 text",
        ProduceError,
        "give a polars DataFrame",
        variables={"text": "not events"},
    ),
    _c(
        "produce pay.v1 rows",
        ProduceError,
        "is a str, not a dict",
        variables={"rows": [{"a": 1}, "x"]},
    ),
    _c(
        "produce merchants.v1 rows",
        ProduceError,
        "nothing sent",
        variables={"rows": [{"merchant_id": "m1"}, {"name": "no key"}]},
    ),
    _c("produce pay.v1 --generator payments --rate 0", USAGE, "must be above 0"),
    _c("produce pay.v1 --generator payments --late 2", USAGE, "share between 0 and 1"),
    _c("produce pay.v1 --generator payments --count -5", USAGE, "must be at least 1"),
    _c("produce pay.v1 --generator payments --start yesterday", USAGE, "write e.g. 2026-03-01"),
    # ---- job: cells and names ----------------------------------------------------------
    _c("job counts", USAGE, "write a SELECT in the cell below", cell=""),
    _c("job counts", USAGE, "write a SELECT in the cell below", cell="  \n\t\n"),
    _c("job counts", JobDefinitionError, "must be the job's SELECT", cell="hello world"),
    _c(
        "job counts",
        JobDefinitionError,
        "may only create views and functions",
        cell="DROP TABLE pay_v1;\n" + GOOD_SQL,
    ),
    _c(
        "job counts",
        JobDefinitionError,
        "must be INSERT INTO counts SELECT",
        cell="INSERT INTO elsewhere SELECT * FROM pay_v1",
    ),
    _c(
        "job counts",
        JobDefinitionError,
        "tables you can read are: merchants (topic merchants.v1), pay_v1",
        cell="SELECT 1 AS one",
    ),
    _c("job counts", JobDefinitionError, "the cell is empty", cell="-- only a comment\n;"),
    _c("job 'x; DROP TABLE y'", InvalidNameError, "use lower-case letters", cell=GOOD_SQL),
    _c("job 'counts`'", InvalidNameError, "use lower-case letters", cell=GOOD_SQL),
    _c("job 'counts -- x'", InvalidNameError, "use lower-case letters", cell=GOOD_SQL),
    _c("job Counts", InvalidNameError, "use lower-case letters", cell=GOOD_SQL),
    _c("job daily__v1", InvalidNameError, "single underscores", cell=GOOD_SQL),
    _c("job " + "a" * 49, InvalidNameError, "at most 48 characters", cell=GOOD_SQL),
    _c("job select", InvalidNameError, "choose another job name", cell=GOOD_SQL),
    _c("job counts --key 'a b'", InvalidNameError, "not a valid key column name", cell=GOOD_SQL),
    _c("job counts --file /nonexistent/v2.sql", USAGE, "no file '/nonexistent/v2.sql'"),
    _c(
        "job counts --file /nonexistent/v2.sql",
        USAGE,
        "in the cell or with --file, not both",
        cell=GOOD_SQL,
    ),
    _c(
        "job bad_typo",
        JobDefinitionError,
        "line 2 of the cell",
        stack=True,
        cell="SELECT merchant_id,\n  COUNT(*) AS n, amount_centz\nFROM bad_pay GROUP BY 1",
    ),
    _c(
        "job bad_parse",
        JobDefinitionError,
        "line 1 of the cell",
        stack=True,
        cell="SELECT merchant_id FROM bad_pay WHERE",
    ),
    _c(
        "job bad_keyword",
        JobDefinitionError,
        "did you mean SELECT?\nFlink's parser: Non-query expression",
        stack=True,
        cell="SELEC merchant_id\nFROM bad_pay",
    ),
    _c(
        "job bad_alias",
        JobDefinitionError,
        "give every computed column a plain alias",
        stack=True,
        cell="SELECT COUNT(*) AS `n m` FROM bad_pay",
    ),
    _c(
        "job bad_nokey",
        JobDefinitionError,
        "add --key with some of",
        stack=True,
        cell="SELECT COUNT(*) AS n FROM bad_pay GROUP BY merchant_id",
    ),
    _c(
        "job counts --python",
        JobDefinitionError,
        "does not parse: '(' was never closed (line 1 of the cell)",
        cell="result = t_env.sql_query('SELECT * FROM pay_v1'\n",
    ),
    _c(
        "job bad_py --python",
        JobDefinitionError,
        "must assign its output Table to `result`",
        stack=True,
        cell="table = 'bad_pay'\nresult = 42\n",
    ),
    _c("jobs --all", USAGE, "unrecognized arguments: --all"),
    # ---- versions ----------------------------------------------------------------------
    _c("show nope", UnknownJobError, "known jobs: counts, fresh, joined"),
    _c("show counts v7", UnknownVersionError, "its versions are v1"),
    _c("show counts v0", USAGE, "write v1, v2"),
    _c("show counts 'v1; DROP TABLE x'", USAGE, "is not a version: write v1, v2"),
    # ---- run and replay ----------------------------------------------------------------
    _c("run nope", UnknownJobError, "Define one with `%%kappa job NAME`"),
    _c("run 'counts; DROP TABLE x'", UnknownJobError, "known jobs: counts"),
    _c("run counts v9", UnknownVersionError, "its versions are v1"),
    _c("run counts vX", USAGE, "write v1, v2"),
    _c("run counts --quiet --watch", USAGE, "not allowed with argument --quiet"),
    _c("run counts --parallelism 0", USAGE, "must be at least 1"),
    _c("run counts --from earliest", USAGE, "unrecognized arguments: --from"),
    _c("run bad_counts --parallelism 64", RunConflictError, "use at most", stack=True),
    _c("replay nope", UnknownJobError, "Define one with"),
    _c("replay counts v2", UnknownVersionError, "its versions are v1"),
    _c("replay counts --from yesterday", StartPositionError, "use earliest, latest"),
    _c("replay counts --from 0:1;DROP", StartPositionError, "partition offsets like 0:120"),
    _c("replay counts --from -1", StartPositionError, "use earliest, latest"),
    _c("replay counts --until soon", StartPositionError, "use latest (the head of the log"),
    _c(
        "replay counts --from 2026-03-02 --until 2026-03-01",
        StartPositionError,
        "is not after --from",
    ),
    _c("replay joined --from 0:5", StartPositionError, "need a job that reads one topic"),
    _c("replay joined --until latest", StartPositionError, "replay without --until"),
    _c("replay counts --quiet --watch", USAGE, "not allowed with argument --quiet"),
    # ---- stop, resume, read, watch -----------------------------------------------------
    _c("stop counts", USAGE, "required: version"),
    _c("stop nope v1", UnknownJobError, "Define one with"),
    _c("stop counts v3", UnknownVersionError, "its versions are v1"),
    _c("stop bad_counts v1", RunNotFoundError, "is not running", stack=True),
    _c("resume counts", USAGE, "required: version"),
    _c("resume counts v2", UnknownVersionError, "its versions are v1"),
    _c("resume bad_counts v1", RunNotFoundError, "use `run` or `replay`", stack=True),
    _c("read nope", UnknownJobError, "Define one with"),
    _c("read fresh", RunNotFoundError, "no output table: `run fresh`"),
    _c("read counts v4", UnknownVersionError, "its versions are v1"),
    _c("read counts --limit 0", USAGE, "must be at least 1"),
    _c("watch nope", UnknownJobError, "Define one with"),
    _c("watch counts v5", UnknownVersionError, "its versions are v1"),
    _c("watch counts --interval 0", USAGE, "must be above 0"),
    _c("watch bad_counts", RunNotFoundError, "no run of bad_counts is running", stack=True),
    # ---- diff, promote, rollback, history, retire, sweep, compact ------------------------
    _c("diff counts v1", USAGE, "required: new"),
    _c("diff nope v1 v2", UnknownJobError, "Define one with"),
    _c("diff counts v1 v2", UnknownVersionError, "its versions are v1"),
    _c("diff counts v1 v1", CompareError, "e.g. `diff counts v1 v2`"),
    _c("diff fresh v1 v1 --tolerance -1", USAGE, "must be 0 or more"),
    _c("diff bad_counts v1 v2", CompareError, "`replay bad_counts v1` first", stack=True),
    _c("promote counts", USAGE, "required: version"),
    _c("promote nope v1", UnknownJobError, "Define one with"),
    _c("promote counts v8", UnknownVersionError, "its versions are v1"),
    _c("promote counts v1", PromoteError, "already serves v1: nothing to switch"),
    _c("promote bad_counts v1", PromoteError, "`replay bad_counts v1` first", stack=True),
    _c("rollback counts", PromoteError, "`promote counts vN` switches to another version"),
    _c("rollback fresh", PromoteError, "its first live run, `run fresh`, sets one"),
    _c("rollback nope", UnknownJobError, "Define one with"),
    _c("history", USAGE, "required: name"),
    _c("history nope", UnknownJobError, "Define one with"),
    _c("retire counts", USAGE, "required: version"),
    _c("retire nope v1", UnknownJobError, "Define one with"),
    _c("retire counts v1", PromoteError, "promote another version first"),
    _c("retire bad_counts v1", PromoteError, "has never run: nothing to retire", stack=True),
    _c("retire counts v1 --remove-after 7d", PromoteError, "promote another version first"),
    _c("retire counts v1 --remove-after soon", USAGE, "is not a grace period: write a number"),
    _c("retire counts v1 --remove-after=-7d", USAGE, "is not a grace period"),
    _c("retire counts v1 --drop --remove-after 7d", USAGE, "not allowed with argument --drop"),
    _c("sweep now", USAGE, "unrecognized arguments: now"),
    _c("compact", USAGE, "required: name"),
    _c("compact nope", UnknownJobError, "Define one with"),
    _c("compact fresh", RunNotFoundError, "no output table: `run fresh`"),
    _c("compact counts v4", UnknownVersionError, "its versions are v1"),
    _c("compact counts --retain soon", USAGE, "is not a grace period"),
    _c("compact counts v1 now", USAGE, "unrecognized arguments: now"),
    # ---- sql and demo ------------------------------------------------------------------
    _c("sql", QueryError, "write a SELECT over job names"),
    _c("sql", QueryError, "write a SELECT over job names", cell="  \n"),
    _c("sql SELECT 1 AS one", QueryError, "reads no job's output; jobs and tables: counts"),
    _c("sql SELECT 1", USAGE, "in the cell or on the line, not both", cell="SELECT 2"),
    _c("sql --limit 0 SELECT 1", USAGE, "must be at least 1"),
    _c("demo --events 0", USAGE, "must be at least 1"),
    _c("demo --events many", USAGE, "'many' is not a whole number"),
    _c("demo --keep now", USAGE, "unrecognized arguments: now"),
]
