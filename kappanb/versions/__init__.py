"""A job version and what it compiles to.

`definitions` checks and records a version (SQL or Python) and the topics it reads;
`planner` splits its text and asks Flink for the plan; `python_job` runs a Python job's
cell; `ddl` writes the Flink SQL around it (Kafka sources, the Iceberg sink) and
`malformed` the part that routes malformed events to a dead-letter topic.
"""
