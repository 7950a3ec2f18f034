"""The JSON bodies the endpoint's POST routes take, checked before anything runs.

Each route names its fields and their types; anything else (not JSON, not an object, a
field missing, of the wrong type or unknown) is a `RequestError` whose message shows a
body that would do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, cast

from kappanb.exceptions import RequestError

_KINDS = {int: "a whole number (1, 2, ...)", str: "text", bool: "true or false"}


@dataclass(frozen=True)
class BodySpec:
    """The fields of one route's body: required and optional, each with its type."""

    route: str
    example: str
    required: dict[str, type] = field(default_factory=dict)
    optional: dict[str, type] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def read(self, raw: bytes) -> dict[str, Any]:
        """The checked fields of ``raw``; an empty body is an empty object."""
        data = self._object(raw)
        known = {**self.required, **self.optional}
        unknown = sorted(set(data) - set(known))
        if unknown:
            names = ", ".join(known) or "none"
            self._refuse(f"unknown field {unknown[0]!r} (the fields are: {names})")
        for name in self.required:
            if name not in data:
                self._refuse(f"{name!r} is missing")
        for name, value in data.items():
            self._check(name, value, known[name])
        return data

    def _object(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            self._refuse(f"the body is not JSON ({exc})")
        if not isinstance(data, dict):
            self._refuse(f"the body must be a JSON object, not {type(data).__name__}")
        return cast(dict[str, Any], data)

    def _check(self, name: str, value: Any, kind: type) -> None:
        # bool is an int in Python, and 2.0 is no version: the JSON type must match exactly.
        if type(value) is not kind:
            self._refuse(f"{name!r} must be {_KINDS[kind]}, not {json.dumps(value)}")
        if kind is int and value < 1:
            self._refuse(f"{name!r} must be 1 or more, not {value}")
        allowed = self.choices.get(name)
        if allowed and value not in allowed:
            either = " or ".join(json.dumps(c) for c in allowed)
            self._refuse(f"{name!r} must be {either}, not {json.dumps(value)}")

    def _refuse(self, problem: str) -> Any:
        raise RequestError(f"{self.route}: {problem}; send e.g. {self.example}")


STACK = BodySpec(
    "POST kappanb/api/stack", '{"action": "up"} or {"action": "down"}',
    required={"action": str}, choices={"action": ("up", "down")},
)  # fmt: skip
PROMOTE = BodySpec(
    "POST kappanb/api/jobs/JOB/promote",
    '{"version": 2, "reason": "fixes the count", "force": false}',
    required={"version": int}, optional={"reason": str, "force": bool},
)  # fmt: skip
ROLLBACK = BodySpec(
    "POST kappanb/api/jobs/JOB/rollback", '{"reason": "v2 counts twice"} or {}',
    optional={"reason": str},
)  # fmt: skip
STOP = BodySpec("POST kappanb/api/jobs/JOB/stop", '{"version": 2}', required={"version": int})
