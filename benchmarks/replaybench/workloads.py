"""The benchmark's workloads: one query three ways (kappanb job, hand-written Flink SQL, Python).

Each workload is the same computation written as
- the SQL of a kappanb job (kappanb adds the source, sink and INSERT around it),
- a complete hand-written Flink SQL script, as someone without kappanb would write it
  for the Flink SQL client (source table, Iceberg catalog and table, INSERT), and
- an oracle in plain Python over the decoded events (the correctness reference).

All three outputs are brought to one canonical, sorted polars frame for comparison.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from kappanb.versions.ddl import ONE_WRITER  # the same Iceberg write setting as a bounded run

COLUMNS = (
    "payment_id STRING, merchant_id STRING, customer_id STRING, amount_cents BIGINT, "
    "currency STRING, captured BOOLEAN, event_time TIMESTAMP(3)"
)
BIG_CENTS = 10_000


class Oracle:
    """Folds decoded events into a workload's result, one event at a time."""

    def add(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    def result(self) -> pl.DataFrame:
        raise NotImplementedError


class BigCapturedOracle(Oracle):
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, str]] = []

    def add(self, event: dict[str, Any]) -> None:
        if event["captured"] and event["amount_cents"] >= BIG_CENTS:
            self.rows.append(
                (
                    event["payment_id"],
                    event["merchant_id"],
                    event["amount_cents"],
                    event["currency"],
                )
            )

    def result(self) -> pl.DataFrame:
        frame = pl.DataFrame(
            self.rows,
            schema={
                "payment_id": pl.Utf8,
                "merchant_id": pl.Utf8,
                "amount_cents": pl.Int64,
                "currency": pl.Utf8,
            },
            orient="row",
        )
        return canonical_big(frame)


class DailyMerchantsOracle(Oracle):
    def __init__(self) -> None:
        self.days: defaultdict[str, set[str]] = defaultdict(set)

    def add(self, event: dict[str, Any]) -> None:
        self.days[event["event_time"][:10]].add(event["merchant_id"])

    def result(self) -> pl.DataFrame:
        frame = pl.DataFrame(
            {
                "pay_day": list(self.days),
                "merchants": [len(m) for m in self.days.values()],
            },
            schema={"pay_day": pl.Utf8, "merchants": pl.Int64},
        )
        return canonical_daily(frame)


def canonical_big(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("payment_id").cast(pl.Utf8),
        pl.col("merchant_id").cast(pl.Utf8),
        pl.col("amount_cents").cast(pl.Int64),
        pl.col("currency").cast(pl.Utf8),
    ).sort("payment_id")


def canonical_daily(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(pl.col("pay_day").cast(pl.Utf8), pl.col("merchants").cast(pl.Int64)).sort(
        "pay_day"
    )


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str  # "stateless" or "stateful"
    query: str  # over the source table {source}
    output_columns: str  # the Iceberg table's columns, for the hand-written script
    key: tuple[str, ...]  # primary key of an updating result (upsert), else ()
    oracle: Callable[[], Oracle]
    canonical: Callable[[pl.DataFrame], pl.DataFrame]


WORKLOADS = {
    w.name: w
    for w in (
        Workload(
            name="big_captured",
            kind="stateless",
            query=(
                "SELECT payment_id, merchant_id, amount_cents, currency "
                f"FROM {{source}} WHERE captured AND amount_cents >= {BIG_CENTS}"
            ),
            output_columns=(
                "payment_id STRING, merchant_id STRING, amount_cents BIGINT, currency STRING"
            ),
            key=(),
            oracle=BigCapturedOracle,
            canonical=canonical_big,
        ),
        Workload(
            name="daily_merchants",
            kind="stateful",
            query=(
                "SELECT CAST(event_time AS DATE) AS pay_day, "
                "COUNT(DISTINCT merchant_id) AS merchants "
                "FROM {source} GROUP BY CAST(event_time AS DATE)"
            ),
            output_columns="pay_day DATE NOT NULL, merchants BIGINT NOT NULL",
            key=("pay_day",),
            oracle=DailyMerchantsOracle,
            canonical=canonical_daily,
        ),
    )
}


def hand_written_sql(
    workload: Workload,
    *,
    topic: str,
    source: str,
    bootstrap: str,
    catalog: str,
    catalog_uri: str,
    warehouse_uri: str,
    table: str,
    job_name: str,
    parallelism: int,
    checkpoint_interval: str,
) -> str:
    """The whole job as a Flink SQL client script: nothing of kappanb in it.

    ``catalog`` is the Iceberg JDBC catalog's name: tables are stored under it, so it is
    the name kappanb's catalog has, for the benchmark to read both outputs the same way."""
    key = f",\n  PRIMARY KEY ({', '.join(workload.key)}) NOT ENFORCED" if workload.key else ""
    upsert = ",\n  'write.upsert.enabled' = 'true'" if workload.key else ""
    return f"""\
SET 'pipeline.name' = '{job_name}';
SET 'parallelism.default' = '{parallelism}';
SET 'execution.checkpointing.interval' = '{checkpoint_interval}';
SET 'table.local-time-zone' = 'UTC';
SET 'table.dml-sync' = 'false';

CREATE CATALOG {catalog} WITH (
  'type' = 'iceberg',
  'catalog-impl' = 'org.apache.iceberg.jdbc.JdbcCatalog',
  'uri' = '{catalog_uri}',
  'warehouse' = '{warehouse_uri}',
  'jdbc.schema-version' = 'V1'
);

CREATE TEMPORARY TABLE {source} (
  {COLUMNS},
  WATERMARK FOR event_time AS event_time
) WITH (
  'connector' = 'kafka',
  'topic' = '{topic}',
  'properties.bootstrap.servers' = '{bootstrap}',
  'properties.group.id' = '{job_name.replace(" ", "-")}',
  'scan.startup.mode' = 'earliest-offset',
  'scan.bounded.mode' = 'latest-offset',
  'format' = 'json',
  'json.timestamp-format.standard' = 'SQL'
);

CREATE TABLE {catalog}.`default`.{table} (
  {workload.output_columns}{key}
) WITH (
  'format-version' = '2'{upsert}
);

INSERT INTO {catalog}.`default`.{table} {ONE_WRITER}
{workload.query.format(source=source)};
"""
