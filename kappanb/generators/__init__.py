"""Deterministic event generators for teaching notebooks, tests and benchmarks."""

from __future__ import annotations

from kappanb.generators.payments import PAYMENTS_SCHEMA, PaymentsConfig, PaymentsGenerator

__all__ = ["PAYMENTS_SCHEMA", "PaymentsConfig", "PaymentsGenerator"]
