"""The jars of a cluster profile's jobs: on the client's classpath, and shipped with each job.

A plain Flink 2.0 session cluster has none of what kappanb's jobs use beyond Flink itself:
not kappanb's ``kappa-json`` format, the Kafka SQL connector, the Iceberg Flink runtime
(which needs Hadoop's client classes) or Iceberg's S3 file IO (``iceberg-aws-bundle``).
kappanb resolves them locally, as the embedded stack does (Maven, from kappanb/jvm/pom.xml,
checked against jars.lock, cached per user; the format compiled once), and

* links them with the wheel's Flink lib/ into ``<profile home>/flink/lib``: the classpath of
  the PyFlink gateway that plans the jobs (`Endpoints.flink_lib`);
* ships them with every job (`Endpoints.job_jars`, the remote environment's jar files):
  the TaskManagers load them in the job's own class loader, so a cluster needs only Flink
  and, for state on S3, its S3 file system plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kappanb.settings import StackSettings
from kappanb.stack import flink_cluster
from kappanb.stack.formats import formats_jar
from kappanb.stack.jars import JarCache
from kappanb.stack.layout import HomeLayout

CLIENT_ONLY = ("sqlite-jdbc",)
"""Jars of the embedded stack's set a cluster job never needs (the JDBC catalog's driver);
the client keeps them, so the one gateway of a process plans for either kind of stack."""
_MARKER = ".kappanb-jars"


@dataclass(frozen=True)
class ClientJars:
    lib: Path
    """The gateway's lib/: the wheel's Flink jars, flink-python, and every jar below."""
    shipped: tuple[Path, ...]
    """What each job carries to the cluster."""


def job_jars(settings: StackSettings, say: Callable[[str], None] = lambda _m: None) -> list[Path]:
    """kappanb's format, the connector and Iceberg runtime, Hadoop's client, Iceberg's AWS
    bundle: resolved (Maven, once) and compiled (javac, once) when missing."""
    jars = JarCache(settings).ensure(say).jars
    own = formats_jar(settings.cache_dir, flink_cluster.flink_dist() / "lib", say)
    return [own, *jars.jars("flink"), *jars.jars("flink-cluster")]


def client_jars(settings: StackSettings, home: Path) -> ClientJars:
    """The profile client's lib/ under ``home`` (made again when the jars changed) and the
    jars to ship. Reads local files only once the caches are filled."""
    every = job_jars(settings)
    layout = HomeLayout(home)
    wanted = "\n".join(str(j) for j in every)
    marker = layout.flink_lib / _MARKER
    if not marker.is_file() or marker.read_text() != wanted:
        jars = JarCache(settings).jar_set()
        flink_cluster.build_lib(layout, jars, [every[0], *jars.jars("flink-cluster")])
        marker.write_text(wanted)
    shipped = tuple(j for j in every if not j.name.startswith(CLIENT_ONLY))
    return ClientJars(layout.flink_lib, shipped)
