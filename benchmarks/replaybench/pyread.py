"""Read a whole topic with confluent-kafka in batches: raw (decode nothing) or as an oracle.

    python -m benchmarks.replaybench.pyread raw --bootstrap B --topic T
    python -m benchmarks.replaybench.pyread oracle --workload daily_merchants ... --out F

Runs as its own process so the benchmark can count its CPU like any other client's.
Prints one JSON line: {"records": N, "bytes": B}; an oracle writes its result as Parquet.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BATCH = 10_000


def read_all(bootstrap: str, topic: str, each_batch: Callable[[list[Any]], None]) -> int:
    """Assign every partition from offset 0 (no group) and read up to today's end offsets."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "kappanb-bench-unused",  # required by the client; never joined
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "fetch.max.bytes": 52_428_800,
            "max.partition.fetch.bytes": 10_485_760,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends: dict[int, int] = {}
        for p in partitions:
            _low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > 0:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        records, left = 0, dict(ends)
        while left:
            batch = consumer.consume(BATCH, timeout=1.0)
            data = []
            for message in batch:
                if message.error() is not None:
                    continue  # partition EOF events
                data.append(message)
                p, offset = message.partition(), message.offset()
                if p in left and offset is not None and offset >= left[p] - 1:
                    del left[p]
            records += len(data)
            each_batch(data)
    finally:
        consumer.close()
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["raw", "oracle"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--workload", help="oracle: which workload")
    parser.add_argument("--out", type=Path, help="oracle: where to write the result (Parquet)")
    args = parser.parse_args()
    size = [0]
    if args.mode == "raw":

        def each_batch(batch: list[Any]) -> None:
            size[0] += sum(len(m.value()) for m in batch)

        records = read_all(args.bootstrap, args.topic, each_batch)
    else:
        from benchmarks.replaybench.workloads import WORKLOADS

        oracle = WORKLOADS[args.workload].oracle()
        add, loads = oracle.add, json.loads

        def each_batch(batch: list[Any]) -> None:
            for message in batch:
                add(loads(message.value()))

        records = read_all(args.bootstrap, args.topic, each_batch)
        oracle.result().write_parquet(args.out)
    print(json.dumps({"records": records, "bytes": size[0]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
