"""The local cluster (`kappanb cluster up|down|status`): a cluster on 127.0.0.1 that the
external path (a profile) can be tried on, on one machine.

Three KRaft Kafka nodes (broker and controller each, one quorum of three; replication
factor 3, ``min.insync.replicas`` 2; a PLAINTEXT and a SASL_PLAINTEXT/PLAIN listener each),
a Flink 2.0 session cluster (a JobManager and two TaskManagers; checkpoints on S3, RocksDB),
and SeaweedFS ``weed mini`` as S3 and Iceberg REST catalog. `up` writes a profile file
(`local-cluster`) that reaches it the way a real cluster is reached.
"""
