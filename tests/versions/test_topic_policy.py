"""The malformed-event policy of a topic declaration: defaults, and wrong uses explained."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from pathlib import Path

import pytest

from kappanb.exceptions import SchemaError
from kappanb.registry.store import LocalRegistry
from kappanb.versions.definitions import topic_spec

SCHEMA = "id STRING, amount BIGINT"


def test_default_is_a_dead_letter_topic_named_after_the_topic() -> None:
    spec = topic_spec("orders.v1", SCHEMA)
    assert (spec.on_malformed, spec.dlq, spec.dlq_topic) == ("dlq", None, "orders.v1.dlq")
    assert "malformed" not in str(spec)  # the default is not spelled out


def test_a_chosen_policy_shows_in_the_declaration() -> None:
    assert ", fail on malformed\n" in str(topic_spec("orders.v1", SCHEMA, on_malformed="fail"))
    chosen = topic_spec("orders.v1", SCHEMA, dlq="orders.bad")
    assert ", malformed events -&gt; orders.bad" in chosen._repr_html_()


def test_fail_fast_and_a_chosen_dead_letter_topic() -> None:
    assert topic_spec("orders.v1", SCHEMA, on_malformed="fail").dlq_topic is None
    chosen = topic_spec("orders.v1", SCHEMA, dlq="orders.bad")
    assert (chosen.on_malformed, chosen.dlq_topic) == ("dlq", "orders.bad")


def test_compacted_topic_fails_fast_by_default() -> None:
    spec = topic_spec("merchants", "id STRING, name STRING", compact=True, key="id")
    assert spec.on_malformed == "fail" and spec.dlq_topic is None


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"on_malformed": "drop"}, ["'dlq' (the default", "'fail'", "not 'drop'"]),
        ({"on_malformed": "fail", "dlq": "x.dlq"}, ["--dlq names the dead-letter topic",
                                                     "drop one of the two options"]),
        ({"dlq": "bad topic!"}, ["--dlq:", "not a valid topic name"]),
        ({"dlq": "orders.v1"}, ["is the topic itself", "orders.v1.dlq"]),
        ({"compact": True, "key": "id", "on_malformed": "dlq"},
         ["compacted topic", "upsert-kafka", "--on-malformed fail"]),
        ({"compact": True, "key": "id", "dlq": "m.dlq"}, ["compacted topic", "without --dlq"]),
    ],
)  # fmt: skip
def test_wrong_policy_options_say_what_to_do(
    options: dict[str, object], expected: list[str]
) -> None:
    with pytest.raises(SchemaError) as caught:
        topic_spec("orders.v1", SCHEMA, **options)  # type: ignore[arg-type]
    for text in expected:
        assert text in str(caught.value)


def test_topics_recorded_before_the_policy_get_the_defaults(tmp_path: Path) -> None:
    registry = LocalRegistry(tmp_path / "r.sqlite")
    for spec in (topic_spec("orders.v1", SCHEMA),
                 topic_spec("merchants", "id STRING", compact=True, key="id")):  # fmt: skip
        old = {k: v for k, v in asdict(spec).items() if k not in ("on_malformed", "dlq")}
        with sqlite3.connect(registry.path) as conn:
            conn.execute("INSERT INTO topics VALUES (?, ?)", (spec.name, json.dumps(old)))
    merchants, orders = registry.topics()
    assert (merchants.on_malformed, merchants.dlq_topic) == ("fail", None)
    assert (orders.on_malformed, orders.dlq_topic) == ("dlq", "orders.v1.dlq")
