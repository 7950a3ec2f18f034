"""Offsets a run records (`RunRecord.first_offsets`) as text and back (no I/O)."""

from __future__ import annotations

from kappanb.kafka.run_offsets import offsets_of, offsets_text


def test_offsets_round_trip_through_their_text() -> None:
    offsets = {"pay.v1": {1: 98, 0: 120}, "merchants-v2": {0: 0}}
    text = offsets_text(offsets)
    assert text == "merchants-v2@0:0;pay.v1@0:120,1:98"
    assert offsets_of(text) == offsets


def test_no_offsets_is_an_empty_text() -> None:
    assert offsets_text({}) == "" and offsets_of("") == {}
