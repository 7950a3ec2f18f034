"""Every error kappanb raises on purpose. One class per condition.

Each message says what went wrong and what to do about it. The magic layer and
the CLI turn these into a short message without a traceback.
"""

from __future__ import annotations


class KappaError(Exception):
    """Base class for every error kappanb raises on purpose."""


class SettingsError(KappaError):
    """A setting (environment variable or argument) has an invalid value."""


class ProfileNotReadyError(KappaError):
    """A command the chosen profile's stack cannot carry out yet."""


class JavaNotFoundError(KappaError):
    """No usable Java (17 or newer) was found on JAVA_HOME or PATH."""


class MavenNotFoundError(KappaError):
    """Maven (mvn) is needed to fetch the stack's jars and is not installed."""


class JarResolutionError(KappaError):
    """Maven could not resolve the pinned JVM artifacts."""


class JarVerificationError(KappaError):
    """A jar in the cache or in KAPPANB_JARS_DIR is missing or has the wrong checksum."""


class PortInUseError(KappaError):
    """A port that was asked for explicitly is taken by another process."""


class ServiceStartError(KappaError):
    """A stack service did not start or did not become healthy in time."""


class StackNotRunningError(KappaError):
    """The embedded stack (or the service needed) is not running."""


class StackBusyError(KappaError):
    """Another kappanb command is starting or stopping the same stack."""


class UnknownServiceError(KappaError):
    """A service name that the stack does not have."""


class TopicError(KappaError):
    """A Kafka topic could not be created or described."""


class ProduceError(KappaError):
    """Events could not be delivered to Kafka."""


class FlinkSubmitError(KappaError):
    """Flink rejected a SQL statement or a job submission."""


class FlinkRestError(KappaError):
    """The Flink REST API answered with an error or not at all."""


class TableNotFoundError(KappaError):
    """An Iceberg table that does not exist in the kappanb catalog."""


class InvalidNameError(KappaError):
    """A job, topic or column name that kappanb cannot use safely in SQL or Kafka."""


class SchemaError(KappaError):
    """A topic schema, event-time column or watermark that does not make sense."""


class UnknownTopicError(KappaError):
    """A topic that was not declared with `topic`."""


class UnknownJobError(KappaError):
    """A job name the registry does not know."""


class UnknownVersionError(KappaError):
    """A version of a known job that does not exist."""


class UnknownValueError(KappaError):
    """A run mode, run state, job kind or switch kind that is none of the values kappanb
    knows (in a registry row or in Flink's answer)."""


class JobDefinitionError(KappaError):
    """Flink rejected a job's SQL (or Python) when kappanb planned it; nothing was recorded."""


class StartPositionError(KappaError):
    """A --from or --until that is not earliest/latest, a timestamp or partition offsets."""


class RunConflictError(KappaError):
    """Starting a run would mix outputs: the version already runs or its table has data."""


class TaskSlotsBusyError(RunConflictError):
    """The run needs more task slots than are free now: other runs or jobs hold them."""


class JobBusyError(KappaError):
    """Another command is changing the same job (its runs or serving alias) right now."""


class RegistryLogError(KappaError):
    """The cluster's registry log (a Kafka topic) cannot be read, written or trusted."""


class RegistryUnreachableError(RegistryLogError):
    """The brokers holding the cluster's registry log did not answer."""


class RunNotFoundError(KappaError):
    """No run of that job version exists (or none in the state the command needs)."""


class SavepointError(KappaError):
    """A savepoint could not be taken, or there is nothing to resume from."""


class CommandLineError(KappaError):
    """A `%kappa` line or `kappanb` command that does not parse."""


class DurationError(KappaError):
    """A duration (a grace period such as ``7d``) that is not a number and a unit."""


class CompareError(KappaError):
    """Two outputs cannot be compared as asked (no key, duplicate keys, unknown columns)."""


class PromoteError(KappaError):
    """The serving alias cannot be switched (or a version retired) as asked."""


class RemovalRefusedError(PromoteError):
    """A table's removal refused: it is served, or the rollback target, or in use."""


class NotCaughtUpError(PromoteError):
    """A promote refused because the version has not caught up (or finished) yet."""


class ServingViewConflictError(PromoteError):
    """The job's Iceberg view changed under a switch (another writer committed it first)."""


class QueryError(KappaError):
    """A `sql` query over the jobs' outputs failed (syntax, unknown table or column)."""


class RequestError(KappaError):
    """A request to kappanb's Jupyter server endpoint with a malformed or wrong body."""


class FormatBuildError(KappaError):
    """kappanb's own Flink format (kappa-json) could not be compiled."""


class HistoryGoneError(KappaError):
    """A replay would need records that the log's retention already deleted."""


class ArchiveRunningError(RunConflictError):
    """An archive of the topic is already running: a second one would duplicate its rows."""


class ArchiveColumnError(SchemaError):
    """The topic declares a column the archive keeps a record's Kafka fields in."""


class ArchiveNotFoundError(RunNotFoundError):
    """The topic has no archive (or none running, for a command that needs one)."""


class ArchiveReplayError(KappaError):
    """A replay from the archive cannot be exact: the archive and the log leave a gap, or
    the archive holds records the topic's policy fails on."""


class CompactionConflictError(KappaError):
    """Compaction kept losing the race against other commits and gave up, changing nothing."""


class CompactionUnsupportedError(KappaError):
    """The table's layout is one kappanb's compaction cannot rewrite (say which, and why)."""


class WhereError(KappaError):
    """A --where that does not parse, names no column of its table, or is not a condition."""


class RowDeleteConflictError(KappaError):
    """A row-level delete lost the race to other commits too often; nothing was deleted."""


class RowDeleteUnsupportedError(KappaError):
    """A table whose layout kappanb's row-level delete cannot rewrite; nothing was deleted."""


class TombstoneError(ProduceError):
    """Tombstones that Kafka did not acknowledge."""


class TopicMappingError(SchemaError):
    """A --follows or --map that does not give each column of the newer topic version from
    the older one; nothing was created."""


class SealedTopicError(ProduceError):
    """Events for an older topic version that a newer one follows; nothing was sent."""


class UnknownProcessError(KappaError):
    """A process of a cluster kappanb does not run (it knows no pid of it), or none found."""
