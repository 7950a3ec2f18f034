"""A third-party engine follows promote and rollback through the job's Iceberg view.

Apache Spark (pyspark, with Iceberg's Spark runtime from kappanb/jvm/spark/pom.xml) opens
the embedded stack's own JDBC catalog and reads ``kappanb.default.<job>``: v1's rows, then
v2's after promote, then v1's after rollback. The job updates rows (GROUP BY), so Spark
also applies the Flink sink's equality deletes; the rows must equal kappanb's own read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from kappanb.generators import PAYMENTS_SCHEMA, PaymentsGenerator
from kappanb.stack.embedded import EmbeddedStack
from kappanb.stack.spark_jars import spark_jars
from kappanb.tables.catalog import CatalogLocation, open_catalog
from tests.magics.conftest import fresh_workbench

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SQL = (
    "SELECT CAST(event_time AS DATE) AS `day`, COUNT(*) AS payments "
    "FROM view_payments WHERE {flag} GROUP BY CAST(event_time AS DATE)"
)


@pytest.fixture(scope="module")
def spark(stack: EmbeddedStack) -> Iterator[Any]:
    """One local Spark session on the stack's JDBC catalog, stopped at the end."""
    from pyspark.sql import SparkSession

    catalog = stack.endpoints().catalog
    assert isinstance(catalog, CatalogLocation)
    local_ip = os.environ.get("SPARK_LOCAL_IP")
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # read once, when the JVM starts
    prefix = f"spark.sql.catalog.{catalog.name}"
    session = (
        SparkSession.builder.master("local[1]")
        .appName("kappanb-view-reader")
        .config("spark.jars", ",".join(str(p) for p in spark_jars(stack.settings)))
        .config("spark.driver.memory", "512m")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
        .config(prefix, "org.apache.iceberg.spark.SparkCatalog")
        .config(f"{prefix}.catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
        .config(f"{prefix}.uri", catalog.jdbc_uri)
        .config(f"{prefix}.warehouse", catalog.warehouse.as_uri())
        .config(f"{prefix}.jdbc.schema-version", "V1")
        .config(f"{prefix}.cache-enabled", "false")
        .getOrCreate()
    )  # fmt: skip
    if local_ip is None:
        del os.environ["SPARK_LOCAL_IP"]
    else:
        os.environ["SPARK_LOCAL_IP"] = local_ip
    try:
        yield session
    finally:
        session.stop()


def rows_of(frame: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in frame)


def test_spark_reads_the_served_version_by_the_jobs_name(stack: EmbeddedStack, spark: Any) -> None:
    wb = fresh_workbench(stack)
    wb.topic("view.payments.v1", PAYMENTS_SCHEMA, partitions=2, table="view_payments",
             event_time="event_time", watermark="30 s")  # fmt: skip
    wb.produce("view.payments.v1", PaymentsGenerator(seed=73).events(20_000))
    job = "view_daily"
    for flag in ("NOT captured", "captured"):
        wb.job(job, SQL.format(flag=flag))
    for version in (1, 2):
        assert wb.replay(job, version, until="latest").wait(timeout=180)
    expected = {v: rows_of(wb.read(job, v).collect().iter_rows()) for v in (1, 2)}
    assert expected[1] and expected[1] != expected[2]  # different rows: no passing by accident
    catalog = stack.endpoints().catalog
    for version in (1, 2):  # an updating job: Spark must apply the sink's equality deletes
        table = open_catalog(catalog).load_table(("default", f"{job}__v{version}"))
        snapshot = table.current_snapshot()
        assert snapshot is not None and snapshot.summary is not None
        assert int(snapshot.summary.get("total-equality-deletes", "0")) > 0

    view = f"{catalog.name}.default.{job}"

    def spark_rows() -> list[tuple[Any, ...]]:
        return rows_of(spark.sql(f"SELECT * FROM {view}").collect())

    wb.promote(job, 1)  # the first switch creates the view
    assert spark_rows() == expected[1]
    wb.promote(job, 2)
    assert spark_rows() == expected[2]
    wb.rollback(job)
    assert spark_rows() == expected[1]
    shown = spark.sql(f"SHOW VIEWS IN {catalog.name}.default").collect()
    assert job in {row.viewName for row in shown}
