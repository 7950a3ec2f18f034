"""Profiles: which stack kappanb works on, chosen by name.

``embedded`` (the default) is the stack kappanb starts on this machine. Any other profile
names an existing cluster (Kafka brokers, a Flink session cluster, an Iceberg REST
catalog on object storage) in a configuration file, resolved file → ``KAPPANB_*``
environment → keyword arguments, as pyiceberg resolves ``.pyiceberg.yaml``.
"""
