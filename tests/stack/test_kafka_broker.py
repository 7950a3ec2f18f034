"""Kafka broker helpers that need no broker."""

from __future__ import annotations

import base64
import uuid

import pytest

from kappanb.stack import kafka_broker


def test_cluster_ids_never_start_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xf8 as the first byte encodes to '-' in base64url: the first draw must be refused.
    draws = iter([uuid.UUID(bytes=b"\xf8" + b"\x00" * 15), uuid.UUID(int=12345)])
    monkeypatch.setattr(kafka_broker.uuid, "uuid4", lambda: next(draws))
    cluster_id = kafka_broker.new_cluster_id()
    assert cluster_id == base64.urlsafe_b64encode(uuid.UUID(int=12345).bytes).decode().rstrip("=")
    assert not cluster_id.startswith("-") and len(cluster_id) == 22
