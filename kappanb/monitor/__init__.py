"""Metrics of running versions: sampling Flink and Kafka, history, derived figures."""
