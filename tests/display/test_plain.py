"""IPython's plain-text display of results is their readable text, not a dataclass dump."""

from __future__ import annotations

from IPython.lib.pretty import pretty

from kappanb.commands.results import TextResult
from kappanb.kafka.produce import ProduceResult


def test_plain_text_is_the_str() -> None:
    produced = ProduceResult(topic="payments.v1", delivered=200_000)
    assert pretty(produced) == "delivered 200,000 events to payments.v1"
    assert repr(produced).startswith("ProduceResult(")  # the debugging form is unchanged
    assert pretty(TextResult("retired daily v1")) == "retired daily v1"
